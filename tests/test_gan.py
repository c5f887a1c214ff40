"""DH-AUG GAN pieces: generator outputs inside the limits and in front of the camera, the
discriminators' features, WGAN-GP, bone swapping, the augmenter's pass, and training with it."""

import json

import numpy as np
import pytest
import torch

from dhaug.augment import AugmentConfig, DHAugmenter
from dhaug.augment.common import BONE_GROUPS, Discriminator2D, swap_bones
from dhaug.augment.dhaug.networks import BONE_PAIRS, Discriminator3D, Generator, gradient_penalty, kinematic_features
from dhaug.camera import load_cameras
from dhaug.config import GANConfig
from dhaug.kinematics import CLAVICLE, PAPER, forward_kinematics, paper_table
from dhaug.skeleton import S1_BONE_LENGTHS, bone_lengths

S1 = torch.tensor(S1_BONE_LENGTHS)


def small_settings(**kw):
    gan = {k: kw.pop(k) for k in list(kw) if k in GANConfig.__dataclass_fields__}
    return AugmentConfig(
        gan=GANConfig(**{"gen_width": 32, "d3_width": 32, "d2_width": 32, "batch_size": 64, **gan}),
        **{"fov_range_deg": [30.0, 100.0], **kw},
    )


def test_generator_respects_limits_and_places_people_on_screen():
    torch.manual_seed(0)
    G = Generator(PAPER, paper_table("gan"), width=32)
    cams = load_cameras()["S1"]
    from dhaug.augment import CameraSet

    c = CameraSet.from_cameras(cams)
    n = 500
    idx = torch.randint(4, (n,))
    out = G.generate(torch.randn(n, 128) * 5, S1.expand(n, 15), c.R[idx], c.T[idx], c.K[idx], c.aspect[idx])
    lo, hi = paper_table("gan").for_model(PAPER)
    both = torch.cat([out["dofs"], out["rotation"]], 1)
    assert torch.all(both >= lo - 1e-5) and torch.all(both <= hi + 1e-5)
    assert torch.all(out["root_cam"][:, 2] >= 2.5 - 1e-5) and torch.all(out["root_cam"][:, 2] <= 8.0 + 1e-5)
    assert out["pose2d"][:, 0].abs().max() <= 0.7 + 1e-4  # the pelvis projects inside the central 70 %
    torch.testing.assert_close(bone_lengths(out["world"]), S1.expand(n, 15), atol=1e-5, rtol=0)
    torch.testing.assert_close(bone_lengths(out["cam"]), S1.expand(n, 15), atol=1e-5, rtol=0)


def test_kinematic_features():
    pose = forward_kinematics(PAPER, torch.zeros(PAPER.num_dofs), S1)
    f = kinematic_features(pose[None])[0]
    assert f.shape == (30,) and len(BONE_PAIRS) == 15
    torch.testing.assert_close(f[15:], S1, atol=1e-6, rtol=0)
    assert abs(f[0] - 1) < 1e-6  # rest pose: shin continues the thigh
    assert abs(f[4] + 1) < 1e-6  # left and right hip bones point in opposite directions
    assert abs(f[7] - 1) < 1e-6  # waist and thorax in line


def test_discriminator_shapes_and_gradient_penalty():
    torch.manual_seed(0)
    D3, D2 = Discriminator3D(32), Discriminator2D(32)
    x3, x2 = torch.randn(8, 16, 3), torch.randn(8, 16, 2)
    assert D3(x3).shape == (8,) and D2(x2).shape == (8,)
    gp = gradient_penalty(D3, x3, torch.randn(8, 16, 3))
    assert gp.ndim == 0 and gp >= 0
    gp.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in D3.parameters())


def test_gradient_penalty_on_fewer_samples_is_the_penalty_of_those_samples():
    torch.manual_seed(0)
    D3 = Discriminator3D(32)
    real, fake = torch.randn(8, 16, 3), torch.randn(8, 16, 3)
    part = gradient_penalty(D3, real, fake, torch.Generator().manual_seed(1), samples=3)
    ref = gradient_penalty(D3, real[:3], fake[:3], torch.Generator().manual_seed(1))
    torch.testing.assert_close(part, ref)
    whole = gradient_penalty(D3, real, fake, torch.Generator().manual_seed(1))
    assert not torch.allclose(part, whole)  # the other five interpolates count when samples = 0
    torch.testing.assert_close(gradient_penalty(D3, real, fake, torch.Generator().manual_seed(1), samples=99), whole)
    with pytest.raises(ValueError, match="differ in shape"):
        gradient_penalty(D3, real, fake[:7])
    with pytest.raises(ValueError, match="samples = -1"):
        gradient_penalty(D3, real, fake, samples=-1)


def test_swap_bones_keeps_directions():
    g = torch.Generator().manual_seed(0)
    pose = forward_kinematics(PAPER, (torch.rand(5, PAPER.num_dofs, generator=g) - 0.5), S1)
    new = S1 * 1.1
    out = swap_bones(pose, new.expand(5, 15))
    torch.testing.assert_close(bone_lengths(out), new.expand(5, 15), atol=1e-5, rtol=0)
    from dhaug.augment.common import bone_vectors

    u0 = torch.nn.functional.normalize(bone_vectors(pose), dim=-1)
    u1 = torch.nn.functional.normalize(bone_vectors(out), dim=-1)
    torch.testing.assert_close(u0, u1, atol=1e-5, rtol=0)


def real_set(n=256, seed=0):
    """Camera-frame root-relative poses from FK, placed 5 m in front of S1's cameras."""
    g = torch.Generator().manual_seed(seed)
    lo, hi = paper_table("normal").for_model(PAPER)
    v = lo + (hi - lo) * torch.rand(n, len(lo), generator=g) * 0.3
    world = forward_kinematics(PAPER, v[:, : PAPER.num_dofs], S1.expand(n, 15))
    cams = load_cameras()["S1"]
    cam_index = torch.randint(4, (n,), generator=g)
    R = torch.as_tensor(np.stack([c.R for c in cams]), dtype=torch.float32)[cam_index]
    cam3d = world @ R.transpose(-1, -2)
    root = torch.tensor([0.0, 0.0, 5.0]).expand(n, 3).clone()
    return cams, cam3d, root, cam_index


def test_augmenter_epoch_buffer_and_sampling():
    cams, cam3d, root, ci = real_set()
    aug = DHAugmenter(cams, S1[None], PAPER, settings=small_settings(), seed=0)
    out = aug.fit_epoch(cam3d, root, ci, progress=False)
    assert np.isfinite([out["d3"], out["d2"]]).all() and out["g"] is None  # 4 iterations: no generator step yet
    assert out["pose2d"].shape[1:] == (16, 2) and len(out["pose2d"]) == len(out["pose3d"]) > 0
    assert torch.all(out["pose3d"][:, 0] == 0)
    assert aug.iteration == 4
    x, y = aug.sample(50)
    assert len(x) == len(y) > 0 and x.abs().max() <= 1.01
    # the state round-trips: a copy continues identically
    other = DHAugmenter(cams, S1[None], PAPER, settings=small_settings(), seed=99)
    other.load_state_dict(aug.state_dict())
    a = aug.fit_epoch(cam3d, root, ci, progress=False)
    b = other.fit_epoch(cam3d, root, ci, progress=False)
    torch.testing.assert_close(a["pose2d"], b["pose2d"])


def test_scale_real_bones_gives_real_and_generated_poses_one_bone_distribution():
    """Paper: real critic poses keep the exact templates, generated ones are scaled; with
    ``gan.scale_real_bones`` the real set is scaled once and the generator reuses those lengths."""
    cams, cam3d, root, ci = real_set(128)
    for on in (False, True):
        aug = DHAugmenter(cams, S1[None], PAPER, settings=small_settings(scale_real_bones=on), seed=0)
        world, _ = aug.swap_real(cam3d, root, ci)
        real = bone_lengths(world)
        if not on:
            torch.testing.assert_close(real, S1.expand(128, 15), atol=1e-4, rtol=0)
        else:
            ratio = real / S1
            grouped = [i for g in BONE_GROUPS.values() for i in g]  # the thorax bone is never scaled
            assert ratio.min() >= 0.8 - 1e-4 and ratio.max() <= 1.2 + 1e-4 and ratio[:, grouped].std(0).min() > 0.05
            torch.testing.assert_close(ratio[:, 0], ratio[:, 3])  # left and right share a group's factor
        aug.fit_epoch(cam3d, root, ci, progress=False)
        bones = aug._bones[:64]
        fake = aug._generate(64, bones, torch.zeros(64, dtype=torch.long), scale=not on)
        same = torch.allclose(bone_lengths(fake["world"][:, 0]), bones, atol=1e-4)
        assert same == on  # generated poses reuse the scaled real lengths as they are, or are scaled afresh


def test_bf16_gan_pass_trains_and_returns_float32_pairs_close_to_fp32():

    cams, cam3d, root, ci = real_set()
    out = {}
    for prec in ("fp32", "bf16"):
        torch.manual_seed(0)  # the networks' initial weights
        aug = DHAugmenter(cams, S1[None], PAPER, settings=small_settings(precision=prec, n_critic=2), seed=0)
        out[prec] = aug.fit_epoch(cam3d, root, ci, progress=False)
        assert aug.precision == prec
    a, b = out["fp32"], out["bf16"]
    assert b["pose2d"].dtype == b["pose3d"].dtype == torch.float32 and np.isfinite([b["d3"], b["d2"], b["g"]]).all()
    # same seed, same draws: the first buffered poses differ only by bf16 rounding of the networks (not bitwise)
    n = min(len(a["pose3d"]), len(b["pose3d"]), 64)
    diff = (a["pose3d"][:n] - b["pose3d"][:n]).norm(dim=-1).mean()
    assert 0 < diff < 0.02, diff  # measured 6 mm


def test_clavicle_body_model_in_the_gan():
    cams, cam3d, root, ci = real_set(128)
    aug = DHAugmenter(cams, S1[None], CLAVICLE, settings=small_settings(), seed=0)
    out = aug.fit_epoch(cam3d, root, ci, progress=False)
    assert len(out["pose2d"]) > 0


def test_training_with_dhaug_and_resume(tmp_path):
    from dhaug import checkpoint
    from dhaug.config import load_config
    from dhaug.schedule import learning_rate
    from dhaug.train import train

    over = [
        f"out_dir={tmp_path}",
        "data.dataset=synthetic",
        "data.train_subjects=[S1]",
        "data.downsample=10",
        "data.test_downsample=10",
        "model.name=mlp",
        "model.channels=32",
        "model.stages=1",
        "train.epochs=3",
        "train.tail_epochs=0",
        "train.batch_size=256",
        "augment.method=dhaug",
        "augment.gan.warmup=0",
        "augment.gan.gen_width=32",
        "augment.gan.d3_width=32",
        "augment.gan.d2_width=32",
    ]
    train(load_config(None, over), progress=False)
    hist = json.loads((tmp_path / "results.json").read_text())["history"]
    assert len(hist) == 4  # one GAN-only warm-up epoch, then the pose net's 3 epochs
    assert np.isnan(hist[0]["train_loss"]) and np.isfinite(hist[1]["train_loss"])  # GAN-only first epoch
    cfg = load_config(None, over)
    assert hist[0]["lr"] == 0 and [h["lr"] for h in hist[1:]] == [learning_rate(e, cfg.train) for e in range(3)]
    assert all(np.isfinite(h["gan/d3"]) for h in hist) and hist[1]["fake_pairs"] > 0
    state = checkpoint.load(tmp_path / "checkpoint.pt")
    assert "augmenter" in state and state["augmenter"]["iteration"] > 0
    assert (tmp_path / "gan" / "poses_epoch003.png").is_file() and (tmp_path / "gan" / "dofs_epoch001.png").is_file()
    from dhaug.cli import main  # a trained generator's poses, drawn from the checkpoint

    assert (
        main(
            [
                "show-poses",
                "--checkpoint",
                str(tmp_path / "checkpoint.pt"),
                "--n",
                "4",
                "--out",
                str(tmp_path / "gen.png"),
            ]
        )
        == 0
        and (tmp_path / "gen.png").stat().st_size > 10_000
    )


def test_zoom_spreads_the_image_scale():
    cams, cam3d, root, ci = real_set(256)
    spans = {}
    for fov in (None, (30.0, 100.0)):
        aug = DHAugmenter(cams, S1[None], PAPER, settings=small_settings(fov_range_deg=fov), seed=0)
        _, real2d = aug.swap_real(cam3d, root, ci)
        height = real2d[..., 1].amax(-1) - real2d[..., 1].amin(-1)
        spans[fov] = float(height.max() / height.min())
        x, _ = aug.sample(256)
        assert len(x) > 0 and x[..., 0].abs().max() <= 1
    assert spans[(30.0, 100.0)] > 2 * spans[None]  # 30-100 degrees: focal lengths 0.84-3.73, a 4.4x range


def test_dhaug_training_resumes_exactly_after_a_kill(tmp_path, monkeypatch):
    import pytest

    from dhaug import checkpoint
    from dhaug.train import train
    from tests.conftest import tiny_dhaug_config as cfg

    train(cfg(tmp_path / "straight"), progress=False)
    real_save = checkpoint.save_atomic

    def save_then_die(obj, path):  # killed after the GAN-only epoch and the first pose-net epoch
        real_save(obj, path)
        if obj["epoch"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, "save_atomic", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train(cfg(tmp_path / "killed"), progress=False)
    monkeypatch.setattr(checkpoint, "save_atomic", real_save)
    torch.manual_seed(777)
    train(cfg(tmp_path / "killed"), resume=True, progress=False)
    a, b = (
        checkpoint.load(tmp_path / "straight" / "checkpoint.pt"),
        checkpoint.load(tmp_path / "killed" / "checkpoint.pt"),
    )
    assert b["epoch"] == 3 and [h["train_loss"] for h in a["history"][1:]] == [
        h["train_loss"] for h in b["history"][1:]
    ]
    for k in a["augmenter"]["G"]:
        torch.testing.assert_close(a["augmenter"]["G"][k], b["augmenter"]["G"][k], rtol=0, atol=0)
    for k in a["model"]:
        torch.testing.assert_close(a["model"][k], b["model"][k], rtol=0, atol=0)
