"""Data layer: readers of the H36M npz formats and the cross-dataset files, on small files the
tests build themselves; plus checks on the shared benchmark data when it is present."""

import json

import numpy as np
import pytest

from dhaug.camera import load_cameras, normalize_screen_np, project_np, world_to_camera_np
from dhaug.data import load_cross_set, load_h36m
from dhaug.data.h36m import load_keypoints_2d, load_positions_3d
from dhaug.data.windows import window_rows
from dhaug.errors import DataError
from dhaug.skeleton import H36M32_TO_16, H36M32_UNUSED

from .conftest import shared_file


def standing_pose(n, rng):
    """(n, 32, 3) world poses in metres: something person-sized about 5 m from the H36M cameras' targets."""
    base = np.zeros((32, 3))
    base[:, 2] = np.linspace(0.1, 1.7, 32)
    base[:, 0] = np.linspace(-0.3, 0.3, 32)
    return (base + 0.02 * rng.normal(size=(n, 32, 3))).astype(np.float32)


def write_3d(path, positions):
    np.savez(path, positions_3d=np.array(positions, dtype=object))


def write_2d(path, keypoints, num_joints=16):
    meta = {"layout_name": "test", "num_joints": num_joints, "keypoints_symmetry": [[], []]}
    np.savez(path, positions_2d=np.array(keypoints, dtype=object), metadata=np.array(meta, dtype=object))


@pytest.fixture
def h36m_dir(tmp_path):
    rng = np.random.default_rng(0)
    pos = {s: {"Walking 1": standing_pose(30, rng), "Eating": standing_pose(20, rng)} for s in ("S1", "S9")}
    for s in pos:  # shared-file style: unused joints are NaN
        for a in pos[s]:
            pos[s][a][:, list(H36M32_UNUSED)] = np.nan
    write_3d(tmp_path / "data_3d_h36m.npz", pos)
    return tmp_path, pos


def test_load_3d_selects_16_joints_and_tolerates_unused_nan(h36m_dir):
    d, pos = h36m_dir
    out = load_positions_3d(d / "data_3d_h36m.npz")
    np.testing.assert_array_equal(out["S1"]["Eating"], pos["S1"]["Eating"][:, list(H36M32_TO_16)])


def test_gt_split_projects_with_the_camera_model(h36m_dir):
    d, pos = h36m_dir
    data = load_h36m(d, "gt")
    s = data.split(["S1"], downsample=4)
    assert len(s) == (len(range(0, 30, 4)) + len(range(0, 20, 4))) * 4
    assert s.action_names == ["Walking", "Eating"]
    cam = load_cameras()["S1"][2]
    row = np.flatnonzero((s.camera == 2) & (s.action == 0))[1]
    X = pos["S1"]["Walking 1"][s.frame[row], list(H36M32_TO_16)].astype(np.float64)
    Xc = world_to_camera_np(X, cam.R, cam.T)
    np.testing.assert_allclose(s.pose3d[row], Xc - Xc[:1], atol=1e-5)
    np.testing.assert_allclose(s.root[row], Xc[0], atol=1e-5)
    uv = normalize_screen_np(project_np(Xc, cam.intrinsics()), cam.res_w, cam.res_h)
    np.testing.assert_allclose(s.pose2d[row], uv, atol=1e-5)
    assert s.frame[row] == 4


def test_2d_file_17_joints_cut_and_trimmed(h36m_dir):
    d, pos = h36m_dir
    rng = np.random.default_rng(1)
    kp = {
        s: {
            a: [rng.uniform(0, 1000, size=(len(v) + 3, 17, 2)).astype(np.float32) for _ in range(4)]
            for a, v in acts.items()
        }
        for s, acts in pos.items()
    }
    write_2d(d / "data_2d_h36m_cpn_ft_h36m_dbb.npz", kp, 17)
    data = load_h36m(d, "cpn")
    got = data.keypoints["S9"]["Eating"][3]
    assert got.shape == (20, 16, 2)
    np.testing.assert_array_equal(got[:, 9], kp["S9"]["Eating"][3][:20, 10])  # Head follows Neck/Nose
    np.testing.assert_array_equal(got[:, :9], kp["S9"]["Eating"][3][:20, :9])


@pytest.mark.parametrize(
    "problem, match",
    [
        ("missing", r"data_3d_h36m.npz: file not found"),
        ("wrong_key", r"missing key 'positions_3d'"),
        ("wrong_shape", r"positions_3d\['S1'\]\['Walking'\] has shape \(10, 31, 3\)"),
        ("nan_used", r"positions_3d\['S1'\]\['Walking'\] has NaN/inf in used joint 12"),
        ("not_npz", r"data_3d_h36m.npz: not an npz archive"),
    ],
)
def test_bad_3d_files(tmp_path, problem, match):
    p = tmp_path / "data_3d_h36m.npz"
    good = np.zeros((10, 32, 3), np.float32)
    if problem == "wrong_key":
        np.savez(p, poses=good)
    elif problem == "wrong_shape":
        write_3d(p, {"S1": {"Walking": np.zeros((10, 31, 3), np.float32)}})
    elif problem == "nan_used":
        bad = good.copy()
        bad[5, 12, 1] = np.nan
        write_3d(p, {"S1": {"Walking": bad}})
    elif problem == "not_npz":
        p.write_text("hello")
    with pytest.raises(DataError, match=match):
        load_positions_3d(p)


@pytest.mark.parametrize(
    "problem, match",
    [
        ("joints", r"positions_2d\['S1'\]\['Eating'\]\[0\] has shape \(20, 15, 2\)"),
        ("metadata", r"\[0\] has 16 joints but metadata num_joints = 17"),
        ("short", r"\[0\] has 19 frames, fewer than the 20 frames of the 3D data"),
        ("nan", r"\[0\] contains NaN"),
    ],
)
def test_bad_2d_files(h36m_dir, problem, match):
    d, pos = h36m_dir
    positions = load_positions_3d(d / "data_3d_h36m.npz")
    arr = np.zeros((20, 16, 2), np.float32)
    nj = 16
    if problem == "joints":
        arr = np.zeros((20, 15, 2), np.float32)
    elif problem == "metadata":
        nj = 17
    elif problem == "short":
        arr = arr[:19]
    elif problem == "nan":
        arr[3, 3, 0] = np.nan
    write_2d(d / "bad.npz", {"S1": {"Eating": [arr] * 4}}, nj)
    with pytest.raises(DataError, match=match):
        load_keypoints_2d(d / "bad.npz", positions)


def test_unknown_subject_action_and_source(h36m_dir):
    d, _ = h36m_dir
    data = load_h36m(d, "gt")
    with pytest.raises(DataError, match=r"unknown subject 'S7'; the 3D data has S1, S9"):
        data.split(["S7"])
    with pytest.raises(DataError, match=r"unknown action 'Jumping'"):
        data.split(["S1"], actions=["Jumping"])
    with pytest.raises(DataError, match=r"2D source 'cpn': .*data_2d_h36m_cpn_ft_h36m_dbb.npz not found"):
        load_h36m(d, "cpn")
    with pytest.raises(DataError, match="does not exist"):
        load_h36m(d / "nothing", "gt")


def make_cmu_like(n_seq=3, n=12, rng=None):
    rng = rng or np.random.default_rng(0)
    pose3d = rng.normal(size=(n_seq * n, 16, 3)).astype(np.float32) * 200
    pose3d[..., 2] += 4000
    pose2d = rng.normal(size=(n_seq * n, 16, 2)).astype(np.float32)
    seq = np.repeat(np.arange(n_seq), n).astype(np.int32)
    names = np.array(
        [
            json.dumps({"seq": i, "action": ["walk", "run", "walk"][i], "clip": f"c{i}", "camera": i % 4})
            for i in range(n_seq)
        ]
    )
    return dict(
        pose3d=pose3d,
        pose2d=pose2d,
        seq=seq,
        frame=np.tile(np.arange(n), n_seq).astype(np.int32),
        seq_names=names,
        fps=np.float32(24),
    )


def test_cmu_format_reader(tmp_path):
    arrays = make_cmu_like()
    np.savez(tmp_path / "x.npz", **arrays)
    s = load_cross_set(tmp_path / "x.npz")
    assert len(s) == 36 and s.action_names == ["run", "walk"] and s.fps == 24
    np.testing.assert_allclose(s.pose3d, (arrays["pose3d"] - arrays["pose3d"][:, :1]) / 1000, atol=1e-6)
    assert (s.action[s.seq == 1] == 0).all() and (s.action[s.seq == 2] == 1).all()
    del arrays["seq"]
    np.savez(tmp_path / "y.npz", **arrays)
    with pytest.raises(DataError, match=r"y.npz: missing key 'seq'"):
        load_cross_set(tmp_path / "y.npz")


def test_pixel_2d_is_refused_and_pixels_with_res_are_normalised(tmp_path):
    arrays = make_cmu_like()
    res = np.tile(np.array([[1920.0, 1080.0]], np.float32), (36, 1))
    px = ((arrays["pose2d"] * 0.2 + np.array([1.0, 1080 / 1920])) * 1920 / 2).astype(np.float32)
    bad = dict(arrays, pose2d=px)  # pixels stored under the normalised key
    np.savez(tmp_path / "px.npz", **bad)
    with pytest.raises(
        DataError, match=r"px.npz: key 'pose2d' holds values up to .*looks like pixels.*'pose2d_px' with 'res'"
    ):
        load_cross_set(tmp_path / "px.npz")
    given = {k: v for k, v in arrays.items() if k != "pose2d"}
    np.savez(tmp_path / "ok.npz", **given, pose2d_px=px, res=res)
    s = load_cross_set(tmp_path / "ok.npz")
    np.testing.assert_allclose(s.pose2d, arrays["pose2d"] * 0.2, atol=1e-5)
    np.savez(tmp_path / "3dhp_px.npz", pose3d=arrays["pose3d"], pose2d=px)
    with pytest.raises(DataError, match=r"3dhp_px.npz: key 'pose2d' holds values up to"):
        load_cross_set(tmp_path / "3dhp_px.npz")


def test_a_text_file_named_npz_is_not_an_npz_archive(tmp_path):
    (tmp_path / "notes.npz").write_text("pose3d, pose2d\n1, 2\n")
    with pytest.raises(DataError, match=r"notes.npz: not an npz archive .*this file is text"):
        load_cross_set(tmp_path / "notes.npz")


def test_cmu_format_rows_out_of_time_order_are_sorted(tmp_path):
    arrays = make_cmu_like()
    shuffle = np.random.default_rng(1).permutation(36)
    shuffled = {k: (v[shuffle] if k in ("pose3d", "pose2d", "seq", "frame") else v) for k, v in arrays.items()}
    np.savez(tmp_path / "x.npz", **arrays)
    np.savez(tmp_path / "shuffled.npz", **shuffled)
    a, b = load_cross_set(tmp_path / "x.npz"), load_cross_set(tmp_path / "shuffled.npz")
    np.testing.assert_array_equal(a.seq, b.seq)
    np.testing.assert_array_equal(a.frame, b.frame)
    np.testing.assert_array_equal(a.pose2d, b.pose2d)
    window_rows(b.seq, 9, 1, name=b.name)  # contiguous sequences: windows can be cut
    shuffled["frame"][shuffle == 5] = shuffled["frame"][shuffle == 4]  # frame 4 of sequence 0 twice
    np.savez(tmp_path / "dup.npz", **shuffled)
    with pytest.raises(DataError, match=r"dup.npz: sequence 0 has frame 4 more than once"):
        load_cross_set(tmp_path / "dup.npz")


def test_3dhp_format_reader_units_and_sequences(tmp_path):
    rng = np.random.default_rng(0)
    p3 = np.cumsum(rng.normal(size=(2929, 16, 3)) * 0.15, axis=1)  # bone-ish lengths ~0.25 m
    np.savez(tmp_path / "test_3dhp.npz", pose3d=p3 * 1000, pose2d=rng.normal(size=(2929, 16, 2)))
    s = load_cross_set(tmp_path / "test_3dhp.npz")
    np.testing.assert_allclose(s.pose3d, p3 - p3[:, :1], atol=1e-5)  # mm detected and converted
    assert s.seq.max() == 5 and (s.seq == 0).sum() == 603 and s.frame[603] == 0
    np.savez(tmp_path / "bad.npz", pose3d=p3[:, :15], pose2d=rng.normal(size=(2929, 16, 2)))
    with pytest.raises(DataError, match=r"bad.npz: key 'pose3d' has shape \(2929, 15, 3\), expected \(N, 16, 3\)"):
        load_cross_set(tmp_path / "bad.npz")


# ---- shared benchmark data (skipped when ../shared is absent) ----


def test_shared_h36m_protocol_sizes_and_sh_detections():
    d = shared_file("h36m")
    data = load_h36m(d, "gt")
    test = data.split(["S9", "S11"])
    assert len(test) == 519852  # the README's count for this copy of the test set
    assert "Directions" not in [a for a in data.positions["S11"]]
    s1 = data.split(["S1"], downsample=10)
    assert len(s1) == sum(len(range(0, len(p), 10)) for p in data.positions["S1"].values()) * 4
    sh = load_h36m(d, "sh").split(["S1"], downsample=10)
    # detections are a few pixels from the projected ground truth on the limbs (normalised: 2/1000 per px)
    limb = [2, 3, 5, 6, 11, 12, 14, 15]
    px = np.linalg.norm(sh.pose2d - s1.pose2d, axis=-1)[:, limb].mean() * 500
    assert 3 < px < 25
    assert np.abs(s1.pose3d[:, 0]).max() == 0
    bones = data.bone_template(["S1"])[0]
    np.testing.assert_allclose(bones[[0, 1, 2]], [0.133, 0.443, 0.454], atol=0.0015)


def test_shared_cmu_file():
    s = load_cross_set(shared_file("cmu", "cmu_test.npz"))
    assert len(s) == 39711 and len(s.seq_names) == 184 and len(s.action_names) == 15
    assert np.abs(s.pose3d[:, 0]).max() == 0


def test_split_labels_subject_and_camera(h36m_dir):
    d, _ = h36m_dir
    s = load_h36m(d, "gt").split(["S9", "S1"], downsample=5)
    assert s.subject_names == ["S9", "S1"]
    assert set(s.subject.tolist()) == {0, 1} and set(s.camera.tolist()) == {0, 1, 2, 3}
    sub = s.subset(s.subject == 1)
    assert len(sub) == len(s) // 2 and sub.subject_names == ["S9", "S1"]


class _RunsCode:
    """Unpickling this would call os.getcwd: what a crafted file could do with any other global."""

    def __reduce__(self):
        import os

        return (os.getcwd, ())


def test_h36m_npz_with_a_crafted_pickle_is_refused_without_running_it(tmp_path):
    good = tmp_path / "data_3d_h36m.npz"
    np.savez(good, positions_3d=np.array({"S1": {"Walking": np.zeros((3, 32, 3), np.float32)}}, dtype=object))
    assert load_positions_3d(good)["S1"]["Walking"].shape == (3, 16, 3)  # plain dicts of arrays still load (cut to 16)
    bad = tmp_path / "bad" / "data_3d_h36m.npz"
    bad.parent.mkdir()
    np.savez(bad, positions_3d=np.array({"S1": {"Walking": _RunsCode()}}, dtype=object))
    with pytest.raises(DataError, match="refusing to unpickle 'posix.getcwd'|refusing to unpickle 'os.getcwd'"):
        load_positions_3d(bad)
