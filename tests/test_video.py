"""Multi-frame pieces: temporal windows, the temporal VideoPose3D and PoseFormer, and training and
evaluating a multi-frame lifter end to end on the built-in synthetic data."""

import json

import numpy as np
import pytest
import torch

from dhaug.data.windows import centre_rows, sequence_bounds, step_for_rate, window_rows
from dhaug.errors import DataError
from dhaug.models import PoseFormer, VideoPoseTemporal, widths_for_frames
from dhaug.skeleton import S1_BONE_LENGTHS


def test_windows_are_edge_replicated_inside_their_sequence():
    seq = np.array([0, 0, 0, 0, 0, 1, 1, 2])
    rows = window_rows(seq, 5)
    assert rows.shape == (8, 5)
    np.testing.assert_array_equal(rows[0], [0, 0, 0, 1, 2])
    np.testing.assert_array_equal(rows[2], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(rows[4], [2, 3, 4, 4, 4])
    np.testing.assert_array_equal(rows[5], [5, 5, 5, 6, 6])
    np.testing.assert_array_equal(rows[7], [7] * 5)
    assert np.all(seq[rows] == seq[rows[:, :1]])
    stepped = window_rows(np.zeros(30, int), 3, step=10, centres=np.array([0, 15, 29]))
    np.testing.assert_array_equal(stepped, [[0, 0, 10], [5, 15, 25], [19, 29, 29]])
    with pytest.raises(DataError, match="sequence 0 are not contiguous"):
        sequence_bounds(np.array([0, 0, 1, 0]), "toy")
    with pytest.raises(ValueError, match="odd"):
        window_rows(seq, 4)


def test_windows_in_time_skip_no_gap():
    # sequence 0 lost frames 3 and 4; sequence 1 is whole
    seq = np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
    frame = np.array([0, 1, 2, 5, 6, 7, 8, 10, 11, 12, 13])
    rows = window_rows(seq, 3, frame=frame)
    np.testing.assert_array_equal(rows[2], [1, 2, 2])  # frame 3 is missing: its nearest kept frame is 2, not 5
    np.testing.assert_array_equal(rows[3], [3, 3, 4])  # frame 4 is missing: nearest is 5
    np.testing.assert_array_equal(rows[0], [0, 0, 1])  # edge replication at the start
    np.testing.assert_array_equal(rows[7], [7, 7, 8])  # and inside the second sequence
    assert np.all(seq[rows] == seq[rows[:, :1]])
    # ties (frame 3 missing, frames 2 and 4 equally near) go to the row nearer the window's centre
    one_gap = np.array([0, 1, 2, 4, 5, 6])
    np.testing.assert_array_equal(
        window_rows(np.zeros(6, int), 3, 2, np.array([1, 4]), frame=one_gap), [[0, 1, 2], [3, 4, 5]]
    )
    # without gaps the time windows are the row windows, for any step
    whole = np.repeat([0, 1, 2], [7, 12, 3])
    f = np.concatenate([np.arange(7) + 3, np.arange(12), np.arange(3)])
    for step in (1, 2, 5):
        np.testing.assert_array_equal(window_rows(whole, 5, step, frame=f), window_rows(whole, 5, step))
    with pytest.raises(DataError, match="toy: frame numbers must increase inside a sequence; sequence 0 has frame 1"):
        window_rows(np.zeros(3, int), 3, name="toy", frame=np.array([0, 2, 1]))


def test_centres_and_rates():
    from dhaug.data import PoseSet

    n = 20
    s = PoseSet(
        np.zeros((n, 16, 2), np.float32),
        np.zeros((n, 16, 3), np.float32),
        np.zeros((n, 3), np.float32),
        np.zeros(n, int),
        np.zeros(n, int),
        np.arange(n),
        np.zeros(n, int),
        fps=50.0,
    )
    np.testing.assert_array_equal(centre_rows(s, 8), [0, 8, 16])
    assert step_for_rate(s, 5.0) == 10 and step_for_rate(s, 100.0) == 1


def test_architecture_from_frames():
    assert widths_for_frames(9) == (3, 3) and widths_for_frames(27) == (3, 3, 3) and widths_for_frames(81) == (3,) * 4
    with pytest.raises(ValueError, match="powers of 3"):
        widths_for_frames(7)


def test_temporal_videopose_windows_equal_whole_sequence():
    torch.manual_seed(0)
    m = VideoPoseTemporal((3, 3), channels=32).eval()
    seq = torch.randn(40, 16, 2)
    rows = torch.as_tensor(window_rows(np.zeros(40, int), 9))
    with torch.no_grad():
        by_window = m(seq[rows])
        whole = m.forward_sequence(seq)
    assert by_window.shape == (40, 16, 3) and torch.all(by_window[:, 0] == 0)
    torch.testing.assert_close(by_window, whole, atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="9 frames"):
        m(torch.randn(2, 5, 16, 2))


@pytest.mark.parametrize("widths", [(3, 3), (3, 3, 3), (3, 1, 5)])
def test_strided_matrix_form_equals_the_strided_convolution(widths):
    from dhaug.models.videopose import TemporalConvNet

    torch.manual_seed(0)
    net = TemporalConvNet(16, widths, 64, dropout=0.0).double()
    x = torch.randn(5, 2 * net.receptive_field, 16, 2, dtype=torch.float64, requires_grad=True)
    for training in (True, False):  # batch statistics and running statistics
        net.train(training)
        fast, conv = net(x, strided=True), net._forward_conv(x, strided=True)
        assert fast.shape == conv.shape == (5, 2, 16, 3)
        torch.testing.assert_close(fast, conv, rtol=0, atol=1e-12)
    (g_fast,) = torch.autograd.grad(net(x, strided=True).square().sum(), x)
    (g_conv,) = torch.autograd.grad(net._forward_conv(x, strided=True).square().sum(), x)
    torch.testing.assert_close(g_fast, g_conv, rtol=0, atol=1e-10)


def test_poseformer_shapes_and_gradients():
    torch.manual_seed(0)
    m = PoseFormer(frames=9, embed_ratio=8, depth=2, heads=2)
    x = torch.randn(4, 9, 16, 2, requires_grad=True)
    y = m(x)
    assert y.shape == (4, 16, 3) and torch.all(y[:, 0] == 0)
    y.pow(2).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    m.eval()  # no stochastic depth at test time: deterministic
    torch.testing.assert_close(m(x), m(x))
    with pytest.raises(ValueError, match="9, 16, 2"):
        m(torch.randn(2, 3, 16, 2))


@pytest.mark.parametrize("model", ["videopose", "poseformer"])
def test_multi_frame_training_and_both_test_protocols(tmp_path, model):
    from dhaug.config import load_config
    from dhaug.train import train

    over = [
        f"out_dir={tmp_path}",
        "data.dataset=synthetic",
        "data.train_subjects=[S1]",
        "data.downsample=5",
        "data.test_downsample=10",
        f"model.name={model}",
        "model.frames=9",
        "model.channels=32",
        "model.embed_ratio=8",
        "model.depth=1",
        "model.heads=2",
        "train.epochs=2",
        "train.tail_epochs=0",
        "train.batch_size=256",
        "train.lr=1e-3",
    ]
    res = train(load_config(None, over), progress=False)
    assert {"synthetic", "synthetic_train_rate", "synthetic_other"} <= set(res)
    assert res["synthetic"]["window"] == {"frames": 9, "step": 1, "fps": 50.0}
    assert res["synthetic_train_rate"]["window"]["step"] == 5
    for r in res.values():
        assert np.isfinite(r["frame_mean"]["mpjpe"])
    saved = json.loads((tmp_path / "results.json").read_text())
    assert "synthetic_train_rate" in saved["results"]


def test_single_frame_backbones_refuse_windows():
    from dhaug.config import load_config
    from dhaug.errors import ConfigError
    from dhaug.models import build_model

    with pytest.raises(ConfigError, match="single-frame"):
        build_model(load_config(None, ["model.name=mlp", "model.frames=9"]).model)
    with pytest.raises(ConfigError, match="receptive field"):
        build_model(load_config(None, ["model.frames=9", "model.architecture=[3,3,3]"]).model)


def real_windows(n=64, T=5, seed=0):
    """Smooth toy sequences: FK of slowly changing angles, 5 m in front of S1's cameras."""
    from dhaug.camera import load_cameras
    from dhaug.kinematics import PAPER, forward_kinematics, paper_table

    g = torch.Generator().manual_seed(seed)
    lo, hi = paper_table("normal").for_model(PAPER)
    start = lo + (hi - lo) * torch.rand(n, 1, len(lo), generator=g) * 0.3
    v = start + 0.02 * torch.arange(T)[None, :, None]
    bones = torch.tensor(S1_BONE_LENGTHS)
    world = forward_kinematics(PAPER, v[..., : PAPER.num_dofs], bones.expand(n, T, 15))
    cams = load_cameras()["S1"]
    ci = torch.randint(4, (n,), generator=g)
    R = torch.as_tensor(np.stack([c.R for c in cams]), dtype=torch.float32)[ci]
    cam3d = world @ R[:, None].transpose(-1, -2)
    root = torch.tensor([0.0, 0.0, 5.0]).expand(n, T, 3).clone()
    return cams, bones[None], cam3d, root, ci, torch.arange(n) // 4


def test_video_gan_pass_buffer_and_state():
    from dhaug.augment import AugmentConfig, DHAugmenter
    from dhaug.augment.dhaug.video import MotionDiscriminator2D, MotionDiscriminator3D, four_ways, joint_acceleration
    from dhaug.config import GANConfig, VideoConfig

    cams, templates, cam3d, root, ci, seq = real_windows()
    s = AugmentConfig(
        gan=GANConfig(gen_width=16, d3_width=16, d2_width=16, batch_size=16, n_critic=2),
        video=VideoConfig(motion_width=16, motion_start=1, temporal_basis=0),
        fov_range_deg=[30.0, 100.0],
    )
    aug = DHAugmenter(cams, templates, settings=s, seed=0, frames=5)
    first = aug.fit_epoch(cam3d, root, ci, seq, progress=False)
    assert first["md3"] is None and first["g"] is not None  # motion critics start at epoch 1
    out = aug.fit_epoch(cam3d, root, ci, seq, progress=False)
    assert np.isfinite([out["d3"], out["d2"], out["md3"], out["md2"], out["g"]]).all()
    assert out["pose2d"].shape[1:] == (5, 16, 2) and out["pose3d"].shape[1:] == (16, 3)
    assert len(out["pose2d"]) == len(out["pose3d"]) > 0 and torch.all(out["pose3d"][:, 0] == 0)
    assert out["accel_real_mm"] > 0 and out["accel_fake_mm"] > 0
    x, y = aug.sample(8)
    assert x.shape[1:] == (5, 16, 2) and len(x) == len(y)
    other = DHAugmenter(cams, templates, settings=s, seed=5, frames=5)
    other.load_state_dict(aug.state_dict())
    a, b = aug.fit_epoch(cam3d, root, ci, seq, progress=False), other.fit_epoch(cam3d, root, ci, seq, progress=False)
    torch.testing.assert_close(a["pose2d"], b["pose2d"])
    # the motion critics and helpers
    seq3d = torch.randn(3, 5, 16, 3)
    assert MotionDiscriminator3D(5, 8)(seq3d).shape == (3,) and MotionDiscriminator2D(5, 8)(seq3d[..., :2]).shape == (
        3,
    )
    four = four_ways(seq3d)
    torch.testing.assert_close(four[6:9], seq3d.flip(1))
    line = torch.arange(5.0)[None, :, None, None].expand(1, 5, 16, 3)  # constant velocity: no acceleration
    assert float(joint_acceleration(line)) == 0.0


def test_single_frame_critics_on_a_random_subset_of_frames():
    from dataclasses import replace

    from dhaug.augment import AugmentConfig, DHAugmenter
    from dhaug.config import GANConfig, VideoConfig

    cams, templates, cam3d, root, ci, seq = real_windows()
    s = AugmentConfig(
        gan=GANConfig(gen_width=16, d3_width=16, d2_width=16, batch_size=16, n_critic=2),
        video=VideoConfig(motion_width=16, motion_start=0, temporal_basis=0, critic_frames=2),
    )
    aug = DHAugmenter(cams, templates, settings=s, seed=0, frames=5)
    a = torch.arange(3 * 5.0).reshape(3, 5, 1, 1).expand(3, 5, 16, 3)
    fa, fb = aug._frames_for_critics(a, -a)
    assert fa.shape == (6, 16, 3)
    torch.testing.assert_close(fb, -fa)  # the same frames of every input
    picked = fa[:, 0, 0].reshape(3, 2)
    assert (picked // 5 == torch.arange(3)[:, None]).all() and (picked[:, 0] != picked[:, 1]).all()  # own, distinct
    out = aug.fit_epoch(cam3d, root, ci, seq, progress=False)
    assert np.isfinite([out["d3"], out["d2"], out["md3"], out["g"]]).all() and len(out["pose2d"]) > 0
    with pytest.raises(ValueError, match="critic_frames"):
        DHAugmenter(cams, templates, settings=replace(s, video=replace(s.video, critic_frames=6)), frames=5)


def test_video_training_with_dhaug_video(tmp_path):
    from dhaug.config import load_config
    from dhaug.errors import ConfigError
    from dhaug.train import train

    over = [
        f"out_dir={tmp_path}",
        "data.dataset=synthetic",
        "data.train_subjects=[S1]",
        "data.downsample=10",
        "data.test_downsample=20",
        "model.name=videopose",
        "model.frames=9",
        "model.channels=32",
        "train.epochs=1",
        "train.tail_epochs=0",
        "train.batch_size=256",
        "augment.method=dhaug-video",
        "augment.gan.warmup=0",
        "augment.video.motion_start=0",
        "augment.gan.gen_width=16",
        "augment.gan.d3_width=16",
        "augment.gan.d2_width=16",
        "augment.video.motion_width=16",
    ]
    res = train(load_config(None, over), progress=False)
    assert np.isfinite(res["synthetic"]["frame_mean"]["mpjpe"])
    hist = json.loads((tmp_path / "results.json").read_text())["history"]
    assert len(hist) == 2 and hist[1]["fake_pairs"] > 0 and np.isfinite(hist[1]["gan/md3"])
    assert (tmp_path / "gan" / "sequences_epoch002.png").is_file() and (tmp_path / "gan" / "smoothness.png").is_file()
    from PIL import Image

    from dhaug.cli import main

    assert (
        main(
            [
                "show-poses",
                "--checkpoint",
                str(tmp_path / "checkpoint.pt"),
                "--out",
                str(tmp_path / "seq.png"),
                "--n",
                "3",
            ]
        )
        == 0
    )
    with Image.open(tmp_path / "seq.gif") as gif, Image.open(tmp_path / "seq.png") as png:
        assert gif.n_frames == 9  # three generated sequences played together, frame by frame
        assert (
            gif.width > 1.2 * gif.height and png.height > 0.5 * png.width
        )  # three columns; three row pairs of 9 frames
    with pytest.raises(ConfigError, match="dhaug-video"):
        train(load_config(None, over[:-13] + ["model.frames=1", "augment.method=dhaug-video"]), progress=False)


def test_temporal_basis_setting():
    from dhaug.augment.basis import temporal_basis
    from dhaug.errors import ConfigError

    assert [temporal_basis(-1, t) for t in (3, 9, 27, 81)] == [2, 4, 12, 36]
    assert temporal_basis(0, 9) == 0 and temporal_basis(5, 9) == 5
    with pytest.raises(ConfigError, match="temporal_basis"):
        temporal_basis(10, 9)
    with pytest.raises(ConfigError, match="temporal_basis"):
        temporal_basis(-2, 9)


def test_temporal_basis_makes_smooth_sequences():
    from dhaug.augment import CameraSet
    from dhaug.augment.dhaug.video import VideoGenerator, joint_acceleration
    from dhaug.camera import load_cameras
    from dhaug.kinematics import PAPER, paper_table

    torch.manual_seed(0)
    c = CameraSet.from_cameras(load_cameras()["S1"])
    bones = torch.tensor([S1_BONE_LENGTHS]).expand(64, 15)
    cam = torch.arange(64) % 4
    z = torch.randn(64, 128)
    acc = {}
    for k in (0, 2):
        G = VideoGenerator(PAPER, paper_table("gan"), 9, width=32, temporal_basis=k)
        with torch.no_grad():
            out = G.generate(z, bones, c.R[cam], c.T[cam], c.K[cam], c.aspect[cam])
        assert out["world"].shape == (64, 9, 16, 3) and out["pose2d"].shape == (64, 9, 16, 2)
        acc[k] = float(joint_acceleration(out["cam"]).mean())
    assert acc[2] < 0.2 * acc[0]  # two slow cosines per output: far less frame-to-frame acceleration


def test_window_passes_step_on_mirrored_and_reversed_windows(monkeypatch):
    import dhaug.optim as tr
    from dhaug.config import TrainConfig

    seen = []
    monkeypatch.setattr(
        tr,
        "train_step",
        lambda model, opt, x, y, clip, loss="mse", precision="fp32": (
            seen.append(x.clone()) or (torch.zeros(()), torch.zeros(()))
        ),
    )
    x, y = torch.randn(4, 3, 16, 2), torch.randn(4, 16, 3)
    tc = TrainConfig(batch_size=4, seed=0)
    tr.run_pass(None, None, x, y, tc, 0, "real", False)
    assert len(seen) == 4  # as is, mirrored, reversed, mirrored + reversed
    torch.testing.assert_close(seen[2], seen[0].flip(1))
    seen.clear()
    tr.run_pass(None, None, x, y, tc, 0, "synthetic", False, time_reverse=False)
    assert len(seen) == 2  # generated windows: as is and mirrored only


def test_pose_net_loss_is_the_papers_by_default():
    from dhaug.config import load_config
    from dhaug.errors import ConfigError
    from dhaug.optim import loss_kind, pose_loss

    single, windows = torch.zeros(2, 16, 2), torch.zeros(2, 9, 16, 2)
    assert (loss_kind("auto", single), loss_kind("auto", windows), loss_kind("mse", windows)) == ("mse", "mpjpe", "mse")
    pred, target = torch.zeros(2, 16, 3), torch.zeros(2, 16, 3)
    target[..., 0], target[..., 1] = 0.3, 0.4  # every joint 0.5 m off
    assert float(pose_loss(pred, target, "mpjpe")) == pytest.approx(0.5)
    assert float(pose_loss(pred, target, "mse")) == pytest.approx((0.09 + 0.16) / 3)
    with pytest.raises(ConfigError, match="train.loss must be 'auto', 'mse' or 'mpjpe', got 'l1'"):
        load_config(None, ["train.loss=l1"])
