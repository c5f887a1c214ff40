"""dhaug generate: generated pairs and sequences written in the VideoPose3D and cross-dataset layouts, read
back through our loaders, reproducible whatever the chunk, streamed in O(chunk), and trainable."""

import json
import tracemalloc

import numpy as np
import pytest
import torch

from dhaug import generate as gen
from dhaug.camera import load_cameras, project
from dhaug.cli import main
from dhaug.config import load_config
from dhaug.data import load_generated
from dhaug.data.crossdata import load_cross_set
from dhaug.data.h36m import load_h36m, load_keypoints_2d, load_positions_3d, project_ground_truth_2d
from dhaug.errors import ConfigError, DataError
from dhaug.generate import generate_dataset, random_source, sources, writers
from dhaug.skeleton import H36M16


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def fake_checkpoint(path, method="dhaug", frames=1):
    """A checkpoint as ``dhaug train`` writes it, with an untrained (seeded) generator for ``method``."""
    from dhaug.augment.dhaug.networks import Generator
    from dhaug.augment.dhaug.video import VideoGenerator
    from dhaug.kinematics import PAPER, paper_table

    cfg = load_config(None, [f"augment.method={method}", f"model.frames={frames}", "augment.gan.gen_width=16"])
    torch.manual_seed(0)
    state = {"model": {}, "config": cfg.to_dict(), "epoch": 3}
    if method == "dhaug":
        state["augmenter"] = {"G": Generator(PAPER, paper_table("gan"), 16).state_dict()}
    elif method == "dhaug-video":
        state["augmenter"] = {"G": VideoGenerator(PAPER, paper_table("gan"), frames, 16, temporal_basis=2).state_dict()}
    torch.save(state, path)
    return path


def reprojection_error(pose3d_cam: np.ndarray, pose2d: np.ndarray, cams, camera: np.ndarray) -> float:
    """Largest |normalised 2D - projection of the camera-frame 3D (N, 16, 3) metres| over the rows."""
    K = torch.as_tensor(np.stack([c.normalized_intrinsics() for c in cams]))[camera]
    uv = project(torch.as_tensor(pose3d_cam, dtype=torch.float64), K, clamp=False).numpy()
    return float(np.abs(uv - pose2d).max())


def test_videopose3d_folder_reads_back_through_the_h36m_loaders(tmp_path):
    out = tmp_path / "dh"
    s = generate_dataset(random_source(), 600, out, seed=3, chunk=100, progress=False)
    assert s["n"] == 600 and s["frames"] == 1 and 0.5 < s["valid_fraction"] <= 1
    assert sorted(p.name for p in out.iterdir()) == ["cameras.json", "data_2d_h36m_gt.npz", "data_3d_h36m.npz"]
    assert [p.name for p in tmp_path.iterdir()] == ["dh"]  # no temporary files left beside it
    positions = load_positions_3d(out / "data_3d_h36m.npz")
    keypoints = load_keypoints_2d(out / "data_2d_h36m_gt.npz", positions)
    cameras = load_cameras(out / "cameras.json")
    assert sorted(positions) == ["view0", "view1", "view2", "view3"] and all(len(cameras[s]) == 1 for s in positions)
    assert sum(len(a) for p in positions.values() for a in p.values()) == 600
    for subject, actions in positions.items():
        assert all(a.shape[1:] == (16, 3) and np.isfinite(a).all() for a in actions.values())
        assert all(
            len(keypoints[subject][a]) == 1 and keypoints[subject][a][0].shape == (len(x), 16, 2)
            for a, x in actions.items()
        )
    with np.load(out / "data_2d_h36m_gt.npz", allow_pickle=True) as f:
        meta = f["metadata"].item()
    assert meta["num_joints"] == 16 and meta["keypoints_symmetry"] == [[4, 5, 6, 10, 11, 12], [1, 2, 3, 13, 14, 15]]
    # the stored 2D is the projection of the stored 3D with the stored cameras (with distortion)
    again = project_ground_truth_2d(positions, cameras)
    for subject, actions in positions.items():
        for a in actions:
            assert np.abs(again[subject][a][0] - keypoints[subject][a][0]).max() < 1e-3  # pixels
    data = load_h36m(out, "gt")  # as --data-dir: cameras.json of the folder
    pairs = data.split(["view0", "view1", "view2", "view3"])
    assert len(pairs) == 600 and np.abs(pairs.pose2d).max() <= 1.0
    assert len(load_generated(out)) == 600


def test_cross_file_reads_back_through_the_cross_dataset_loader(tmp_path):
    out = tmp_path / "dh.npz"
    generate_dataset(random_source(), 500, out, seed=1, fmt="cross", chunk=64, progress=False)
    data = load_cross_set(out)
    assert len(data) == 500 and data.pose3d.shape == (500, 16, 3) and np.allclose(data.pose3d[:, 0], 0)
    with np.load(out) as f:  # plain arrays: no pickles
        raw = {k: f[k] for k in f.files}
    assert raw["pose3d"].shape == (500, 16, 3) and raw["joint_names"].tolist() == list(H36M16.joint_names)
    (tmp_path / "cameras.json").write_text(str(raw["cameras"]))  # the cameras.json format, subjects view0..view3
    cams = [c for v in load_cameras(tmp_path / "cameras.json").values() for c in v]
    assert len(cams) == 4 and [c.id for c in cams] == [c.id for c in load_cameras()["S1"]]
    camera = raw["camera"]
    assert np.array_equal(data.camera, camera[np.lexsort((raw["frame"], raw["seq"]))])
    assert np.array_equal(np.bincount(camera), [125] * 4)  # draw i is seen by camera i mod 4 (the rest pose left out)
    order = np.lexsort((raw["frame"], raw["seq"]))
    err = reprojection_error(data.pose3d + data.root[:, None], data.pose2d, cams, camera[order])
    assert err < 1e-4
    px = raw["pose2d_px"]
    w, h = raw["res"][:, :1, None], raw["res"][:, 1:, None]
    assert np.abs(px / w * 2 - np.concatenate([np.ones_like(h), h / w], -1) - raw["pose2d"]).max() < 1e-6
    meta = json.loads(str(raw["generated"]))
    assert meta["source"] == "random" and meta["n"] == 500 and meta["seed"] == 1


@pytest.mark.parametrize("fmt", ["videopose3d", "cross"])
def test_same_seed_same_bytes_whatever_the_chunk(tmp_path, monkeypatch, fmt):
    appended = []
    real_append = writers.Spool.append
    monkeypatch.setattr(
        writers.Spool, "append", lambda self, name, a: (appended.append((name, len(a))), real_append(self, name, a))
    )
    name = "x.npz" if fmt == "cross" else "x"
    files = {}
    for label, chunk, seed in (("small", 37, 5), ("big", 10**6, 5), ("other", 37, 6)):
        appended.clear()
        out = tmp_path / label / name
        generate_dataset(random_source(), 300, out, seed=seed, fmt=fmt, chunk=chunk, progress=False)
        files[label] = sorted(out.iterdir()) if out.is_dir() else [out]
        if label == "small":  # several chunks of at most 37 draws
            sizes = [k for col, k in appended if col == "pose3d" or col.startswith("world")]
            assert sum(sizes) == 300 and max(sizes) <= 37 and len(sizes) >= 300 // 37
    for a, b in zip(files["small"], files["big"]):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert any(a.read_bytes() != b.read_bytes() for a, b in zip(files["small"], files["other"]))


def test_a_smaller_file_is_a_prefix_of_a_larger_one(tmp_path):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    generate_dataset(random_source(), 150, a, fmt="cross", chunk=40, progress=False)
    generate_dataset(random_source(), 400, b, fmt="cross", chunk=1000, progress=False)
    with np.load(a) as fa, np.load(b) as fb:
        assert np.array_equal(fa["pose3d"], fb["pose3d"][:150]) and np.array_equal(fa["frame"], fb["frame"][:150])


def test_random_sequences(tmp_path):
    out = tmp_path / "seq.npz"
    generate_dataset(random_source(frames=5), 40, out, fmt="cross", chunk=20, progress=False)
    data = load_generated(out, windows=True)
    assert len(data) == 200 and len(data.seq_names) == 40 and data.fps == gen.RANDOM_FPS
    for k in range(40):  # every sequence: 5 frames in time order, one camera, moving smoothly
        rows = np.flatnonzero(data.seq == k)
        assert data.frame[rows].tolist() == [0, 1, 2, 3, 4] and len(set(data.camera[rows])) == 1
    poses = data.pose3d.reshape(40, 5, 16, 3)
    step = np.linalg.norm(np.diff(poses, axis=1), axis=-1).mean()  # joint motion from frame to frame
    apart = np.linalg.norm(poses[1:, 0] - poses[:-1, 0], axis=-1).mean()  # between independent draws
    assert 0 < step < apart / 3
    folder = tmp_path / "seq"
    generate_dataset(random_source(frames=5), 40, folder, chunk=20, progress=False)
    positions = load_positions_3d(folder / "data_3d_h36m.npz")
    assert all(a.shape == (5, 16, 3) for p in positions.values() for a in p.values())
    assert sum(len(p) for p in positions.values()) == 40
    single = tmp_path / "single.npz"
    generate_dataset(random_source(), 10, single, fmt="cross", progress=False)
    with pytest.raises(DataError, match="single poses"):
        load_generated(single, windows=True)


def test_generator_checkpoint_poses_and_sequences(tmp_path):
    ckpt = fake_checkpoint(tmp_path / "checkpoint.pt")
    source = gen.source_from_checkpoint(ckpt, device="cpu")
    out = tmp_path / "gan.npz"
    s = generate_dataset(source, 300, out, fmt="cross", chunk=100, progress=False)
    assert s["source"] == "generator" and s["epoch"] == 3 and s["valid_fraction"] > 0.5
    data = load_cross_set(out)
    with np.load(out) as f:
        camera, seq, frame = f["camera"], f["seq"], f["frame"]
    cams = load_cameras()["S1"]
    err = reprojection_error(data.pose3d + data.root[:, None], data.pose2d, cams, camera[np.lexsort((frame, seq))])
    assert err < 1e-4
    assert 2.0 < np.median(data.root[:, 2]) < 8.5  # the generator's depth range, in front of the camera
    video = fake_checkpoint(tmp_path / "video.pt", "dhaug-video", frames=3)
    vs = gen.source_from_checkpoint(video, device="cpu")
    assert vs.frames == 3
    generate_dataset(vs, 20, tmp_path / "video.npz", fmt="cross", progress=False)
    assert len(load_generated(tmp_path / "video.npz", windows=True)) == 60
    with pytest.raises(ConfigError, match="sequences of 3 frames"):
        gen.source_from_checkpoint(video, frames=9)
    with pytest.raises(ConfigError, match="single poses"):
        gen.source_from_checkpoint(ckpt, frames=9)
    with pytest.raises(ConfigError, match="body model"):
        gen.source_from_checkpoint(ckpt, body_model="clavicle")


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_bad_arguments_end_with_one_error_line(tmp_path, capsys):
    out = tmp_path / "g.npz"
    base = ["generate", "--random", "--format", "cross", "--out", str(out), "--no-progress"]
    assert main(base + ["--n", "0"]) == 2 and "--n must be > 0" in error_line(capsys)
    assert main(base + ["--n", "5", "--chunk", "0"]) == 2 and "--chunk" in error_line(capsys)
    assert main(base + ["--n", "5", "--frames", "0"]) == 2 and "--frames" in error_line(capsys)
    missing = tmp_path / "nothing" / "checkpoint.pt"
    assert main(["generate", "--checkpoint", str(missing), "--n", "5", "--out", str(out)]) == 2
    assert "not found" in error_line(capsys)
    none = fake_checkpoint(tmp_path / "none.pt", "none")
    assert main(["generate", "--checkpoint", str(none), "--n", "5", "--out", str(out)]) == 2
    assert "holds no DH-AUG generator" in error_line(capsys)
    assert main(["generate", "--checkpoint", str(none), "--limits", "gan", "--n", "5", "--out", str(out)]) == 2
    assert "--limits" in error_line(capsys)
    assert main(base + ["--n", "5"]) == 0 and out.is_file()
    capsys.readouterr()
    assert main(base + ["--n", "5"]) == 2 and "exists; pass --force" in error_line(capsys)
    assert main(base + ["--n", "7", "--force"]) == 0 and len(load_cross_set(out)) == 7
    capsys.readouterr()
    assert main(["generate", "--random", "--n", "5", "--out", str(out)]) == 2  # videopose3d wants a folder
    assert "is a file" in error_line(capsys)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary files left


def test_a_failed_run_leaves_nothing(tmp_path, monkeypatch):
    source = random_source()
    calls = {"n": 0}
    real_block = source.block

    def block_then_fail(index, seed):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_block(index, seed)

    monkeypatch.setattr(source, "block", block_then_fail)
    with pytest.raises(KeyboardInterrupt):
        generate_dataset(source, 6000, tmp_path / "x.npz", fmt="cross", chunk=1000, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_a_source_whose_draws_are_all_off_screen_stops(tmp_path):
    cam = load_cameras()["S1"][0]
    source = random_source(cameras=[cam], root=tuple(cam.T), frames=20)  # the person stands in the camera
    with pytest.raises(DataError, match=r"only 0 of \d+ draws"):
        generate_dataset(source, 10, tmp_path / "x.npz", fmt="cross", progress=False)


@pytest.mark.parametrize("fmt", ["videopose3d", "cross"])
def test_memory_is_bounded_by_the_chunk(tmp_path, monkeypatch, fmt):
    """numpy memory (traced) while writing 12,000 poses in chunks of 500 stays far below the data's size
    (blocks of 512 draws here, so that a chunk, not a block, sets the bound)."""
    monkeypatch.setattr(sources, "BLOCK_FRAMES", 512)
    out = tmp_path / ("big.npz" if fmt == "cross" else "big")
    generate_dataset(random_source(), 10, tmp_path / "warm", fmt=fmt, progress=False)  # lazy imports come first
    tracemalloc.start()
    try:
        generate_dataset(random_source(), 12_000, out, fmt=fmt, chunk=500, progress=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    size = sum(p.stat().st_size for p in ([out] if out.is_file() else out.iterdir()))
    assert size > 3.5e6 and peak < size / 4, (peak, size)  # ~1/7 here; holding it all would be > size


def test_config_refuses_train_file_with_augmentation_or_downsampling():
    with pytest.raises(ConfigError, match="augment.method"):
        load_config(None, ["data.train_file=x.npz", "augment.method=random"])
    with pytest.raises(ConfigError, match="data.downsample"):
        load_config(None, ["data.train_file=x.npz", "data.downsample=10"])


TINY = [
    "model.name=mlp",
    "model.channels=32",
    "model.stages=1",
    "train.epochs=1",
    "train.tail_epochs=0",
    "train.batch_size=256",
    "train.threads=1",
    "data.test_downsample=20",
]


def test_training_on_a_generated_file(tmp_path):
    """Train on a cross file (data.train_file) and test on the fourth view of a videopose3d folder read as
    Human3.6M data (--data-dir): both layouts through the training loop."""
    train_file, folder = tmp_path / "dh.npz", tmp_path / "dh"
    assert (
        main(["generate", "--random", "--n", "2000", "--format", "cross", "--out", str(train_file), "--no-progress"])
        == 0
    )
    generate_dataset(random_source(), 400, folder, seed=1, progress=False)
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--no-progress",
                "--out",
                str(run),
                "--data-dir",
                str(folder),
                "data.test_subjects=[view3]",
                f"data.train_file={train_file}",
                *TINY,
            ]
        )
        == 0
    )
    res = json.loads((run / "results.json").read_text())
    assert res["train_pairs"] == 2000 and "generated data" in res["data"]
    assert np.isfinite(res["history"][-1]["train_loss"]) and res["results"]["h36m"]["frame_mean"]["mpjpe"] > 0
