"""Tests of the synthetic demo dataset (dhaug.data.synthetic)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dhaug.camera import Camera, project_np, world_to_camera_np
from dhaug.data.synthetic import (
    SYNTHETIC_ACTIONS,
    SYNTHETIC_NOTE,
    SyntheticMocap,
    make_synthetic_cross_set,
    make_synthetic_mocap,
)
from dhaug.plots import render_synthetic_preview
from dhaug.skeleton import H36M16, bone_lengths

SUBJECTS = ("S1", "S5", "S6", "S7", "S8", "S9", "S11")
P, RH, RK, RA, LH, LK, LA, SP, TH, HD, LS, LE, LW, RS, RE, RW = range(16)
CROSS_KEYS = {
    "pose3d",
    "pose2d_px",
    "pose2d",
    "res",
    "cam_intrinsics",
    "seq",
    "frame",
    "seq_names",
    "joint_names",
    "joint_parents",
    "cam_R",
    "cam_t",
    "fps",
}


@pytest.fixture(scope="module")
def mocap() -> SyntheticMocap:
    return make_synthetic_mocap()


@pytest.fixture(scope="module")
def cross() -> dict:
    return make_synthetic_cross_set()


def all_sequences(mocap):
    for subject, actions in mocap.positions.items():
        for action, seq in actions.items():
            yield subject, action, seq.astype(np.float64)


# ----------------------------------------------------------------------------------------------
# training set


def test_shapes_dtypes_and_labels(mocap):
    assert mocap.note == SYNTHETIC_NOTE and "SYNTHETIC" in mocap.note
    assert tuple(mocap.positions) == SUBJECTS and tuple(mocap.cameras) == SUBJECTS
    assert len(SYNTHETIC_ACTIONS) >= 6
    for subject in SUBJECTS:
        assert tuple(mocap.positions[subject]) == SYNTHETIC_ACTIONS
        for seq in mocap.positions[subject].values():
            assert seq.shape == (300, 16, 3) and seq.dtype == np.float32
            assert np.all(np.isfinite(seq))
        cams = mocap.cameras[subject]
        assert len(cams) == 4 and all(isinstance(c, Camera) for c in cams)
        for cam in cams:
            assert cam.R.shape == (3, 3) and cam.T.shape == (3,) and cam.f.shape == (2,)
            assert cam.c.shape == (2,) and cam.k.shape == (3,) and cam.p.shape == (2,)
            assert (cam.res_w, cam.res_h) == (1000, 1000)


def test_custom_sizes():
    m = make_synthetic_mocap(seed=3, subjects=("A", "B"), frames_per_action=50, fps=25.0)
    assert tuple(m.positions) == ("A", "B")
    assert all(s.shape == (50, 16, 3) for a in m.positions.values() for s in a.values())
    with pytest.raises(ValueError):
        make_synthetic_mocap(frames_per_action=1)


def test_deterministic_and_seed_dependent():
    a = make_synthetic_mocap(seed=7, subjects=("S1", "S5"), frames_per_action=80)
    b = make_synthetic_mocap(seed=7, subjects=("S1", "S5"), frames_per_action=80)
    c = make_synthetic_mocap(seed=8, subjects=("S1", "S5"), frames_per_action=80)
    for s in ("S1", "S5"):
        for act in SYNTHETIC_ACTIONS:
            np.testing.assert_array_equal(a.positions[s][act], b.positions[s][act])
            assert not np.allclose(a.positions[s][act], c.positions[s][act])
        for ca, cb in zip(a.cameras[s], b.cameras[s]):
            np.testing.assert_array_equal(ca.R, cb.R)
            np.testing.assert_array_equal(ca.T, cb.T)
    # a subject's data does not depend on which other subjects are generated
    only = make_synthetic_mocap(seed=7, subjects=("S5",), frames_per_action=80)
    np.testing.assert_array_equal(only.positions["S5"]["Walking"], a.positions["S5"]["Walking"])
    # subjects and actions differ from each other
    assert not np.allclose(a.positions["S1"]["Walking"], a.positions["S5"]["Walking"], atol=0.05)


def test_bone_lengths_constant_symmetric_and_human(mocap):
    typical = {
        (0, 1): 0.133,
        (1, 2): 0.443,
        (2, 3): 0.454,
        (0, 7): 0.234,
        (7, 8): 0.257,
        (8, 9): 0.182,
        (8, 13): 0.151,
        (13, 14): 0.279,
        (14, 15): 0.252,
    }
    bones = H36M16.bones
    per_subject = []
    for subject, actions in mocap.positions.items():
        ref = None
        for seq in actions.values():
            lengths = bone_lengths(seq.astype(np.float64))  # (T, 15)
            assert np.ptp(lengths, axis=0).max() < 1e-5  # constant over time
            ref = lengths[0] if ref is None else ref
            np.testing.assert_allclose(lengths[0], ref, atol=1e-5)  # same body in every action
        for a, b in zip(H36M16.left, H36M16.right):  # left == right
            ia = [i for i, (_, j) in enumerate(bones) if j == a][0]
            ib = [i for i, (_, j) in enumerate(bones) if j == b][0]
            assert abs(ref[ia] - ref[ib]) < 1e-5
        for bone, length in typical.items():
            i = bones.index(bone)
            assert 0.9 * length < ref[i] < 1.1 * length, (subject, bone, ref[i])
        per_subject.append(ref)
    assert np.ptp(np.array(per_subject), axis=0).min() > 1e-3  # subjects differ


def test_pelvis_is_hip_midpoint_and_upright(mocap):
    for _, action, seq in all_sequences(mocap):
        mid = 0.5 * (seq[:, LH] + seq[:, RH])
        assert np.abs(mid - seq[:, P]).max() < 1e-5
        # hips collinear with the pelvis (the pelvis is exactly between them)
        np.testing.assert_allclose(seq[:, LH] - seq[:, P], seq[:, P] - seq[:, RH], atol=1e-5)
        # right way up: the head above the thorax whenever the trunk is upright, and never below
        # hip height (bending over brings it down to about that); the head is the top joint
        # unless the arms are raised
        trunk = seq[:, TH] - seq[:, P]
        upright = trunk[:, 2] > 0.92 * np.linalg.norm(trunk, axis=-1)  # trunk within ~23 deg of vertical
        assert upright.mean() > 0.3, action
        assert np.all(seq[upright, HD, 2] > seq[upright, TH, 2] + 0.05), action
        assert np.all(seq[:, HD, 2] > seq[:, P, 2] - 0.25), action
        if action not in ("Bending", "Reaching"):
            assert np.all(seq[:, HD, 2] > seq[:, P, 2] + 0.3), action
        # pelvis at a human height (sitting / squatting go down to ~0.5 m)
        assert 0.4 < seq[:, P, 2].min() and seq[:, P, 2].max() < 1.25
        # shoulders level with / slightly below the thorax joint in upright frames
        below = seq[upright, TH, 2] - 0.5 * (seq[upright, LS, 2] + seq[upright, RS, 2])
        assert below.min() > 0.0 and below.max() < 0.1


def test_on_the_floor(mocap):
    for subject, action, seq in all_sequences(mocap):
        assert seq[..., 2].min() > -0.05, (subject, action)
        lowest_foot = np.minimum(seq[:, LA, 2], seq[:, RA, 2])
        if action != "JumpingJacks":  # always standing on the floor
            assert np.abs(lowest_foot - 0.055).max() < 0.03, (subject, action)
        else:  # jumps: some frames in the air, some on the floor
            assert lowest_foot.min() < 0.07 and lowest_foot.max() > 0.1


def test_smooth_motion(mocap):
    for subject, action, seq in all_sequences(mocap):
        speed = np.linalg.norm(np.diff(seq, axis=0), axis=-1) * 50.0  # m/s
        assert speed.max() < 8.0, (subject, action, speed.max())
        acc = np.linalg.norm(np.diff(seq, 2, axis=0), axis=-1) * 2500.0  # m/s^2
        assert acc.max() < 150.0, (subject, action, acc.max())  # no jumps in position
        if action != "JumpingJacks":  # landings are impulsive, everything else is gentle
            assert acc[:, P].max() < 15.0, (subject, action, acc[:, P].max())


def test_every_action_moves(mocap):
    for subject, action, seq in all_sequences(mocap):
        rel = seq - seq[:, :1]
        assert rel.std(axis=0).max() > 0.1, (subject, action)  # some joint moves > 10 cm (std)
    walk = mocap.positions["S1"]["Walking"]
    assert np.linalg.norm(np.diff(walk[:, 0, :2], axis=0), axis=-1).sum() > 3.0  # travels > 3 m


def _knee_angle(seq, hip, knee, ankle):
    a, b = seq[:, knee] - seq[:, hip], seq[:, ankle] - seq[:, knee]
    cos = np.sum(a * b, -1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def _check_knees_bend_forward(seq, what, up=(0.0, 0.0, 1.0)) -> int:
    """In every frame whose knee angle exceeds 20 degrees: the knee hinge axis points to the
    subject's left (left = LHip - RHip) and the knee lies in front of the hip-ankle line (facing
    direction = left x world up). Valid in any right-handed frame, ``up`` (3,) or (T, 3) is the
    world's up direction in it. Returns the number of bent (frame, leg) pairs checked."""
    left = seq[:, LH] - seq[:, RH]
    left = left / np.linalg.norm(left, axis=-1, keepdims=True)
    up = np.broadcast_to(np.asarray(up, dtype=np.float64), left.shape)
    up = up - np.sum(up * left, -1, keepdims=True) * left
    up = up / np.linalg.norm(up, axis=-1, keepdims=True)
    forward = np.cross(left, up)
    n_bent = 0
    for hip, knee, ankle in ((LH, LK, LA), (RH, RK, RA)):
        bent = _knee_angle(seq, hip, knee, ankle) > 20.0
        n_bent += int(bent.sum())
        h, k, a = seq[bent, hip], seq[bent, knee], seq[bent, ankle]
        hinge = np.cross(k - h, a - k)  # points left for a forward-bending knee (both legs)
        assert np.all(np.sum(hinge * left[bent], -1) > 0), what
        d = (a - h) / np.linalg.norm(a - h, axis=-1, keepdims=True)
        off = (k - h) - np.sum((k - h) * d, -1, keepdims=True) * d  # knee offset from hip-ankle line
        assert np.all(np.sum(off * forward[bent], -1) > 0), what
    return n_bent


def test_knees_bend_forward(mocap):
    n_bent = sum(_check_knees_bend_forward(seq, (s, a)) for s, a, seq in all_sequences(mocap))
    assert n_bent > 1000  # the check is not vacuous


@pytest.mark.parametrize("seed", [1, 2])
def test_knees_bend_forward_other_seeds(seed):
    m = make_synthetic_mocap(seed=seed, subjects=("S1", "S9"), frames_per_action=150)
    for s, a, seq in all_sequences(m):
        _check_knees_bend_forward(seq, (seed, s, a))


def test_walking_faces_direction_of_travel(mocap):
    for subject in SUBJECTS:
        seq = mocap.positions[subject]["Walking"].astype(np.float64)
        left = seq[:, LH, :2] - seq[:, RH, :2]
        forward = np.stack([left[:, 1], -left[:, 0]], -1)
        vel = np.gradient(seq[:, P, :2], axis=0)
        cos = np.sum(forward * vel, -1) / np.linalg.norm(forward, axis=-1) / np.linalg.norm(vel, axis=-1)
        assert cos.min() > 0.9, subject


def test_cameras_like_h36m_and_see_everything(mocap):
    for subject, cams in mocap.cameras.items():
        pts = np.concatenate([s.reshape(-1, 3) for s in mocap.positions[subject].values()]).astype(np.float64)
        head_up = (pts[HD::16, 2] - pts[P::16, 2]) > 0.4
        azimuths = []
        for cam in cams:
            np.testing.assert_allclose(cam.R @ cam.R.T, np.eye(3), atol=1e-9)
            assert np.linalg.det(cam.R) == pytest.approx(1.0)
            assert abs(cam.R[0, 2]) < 1e-9  # zero roll: camera x axis horizontal
            assert cam.R[1, 2] < 0  # image y points down (world z up)
            dist, height = np.linalg.norm(cam.T[:2]), cam.T[2]
            assert 4.4 < dist < 8.0 and 1.2 <= height <= 1.8
            assert cam.f[0] == pytest.approx(1145, abs=10)
            azimuths.append(np.degrees(np.arctan2(cam.T[1], cam.T[0])) % 360)
            Xc = world_to_camera_np(pts, cam.R, cam.T)
            assert Xc[:, 2].min() > 0.5
            uv = project_np(Xc, cam.intrinsics())
            assert uv.min() >= 0 and uv[:, 0].max() <= cam.res_w and uv[:, 1].max() <= cam.res_h
            # the subject is roughly central: the camera looks at the capture volume
            assert np.abs(np.median(uv, axis=0) - 500).max() < 200
            # right way up in the image (zero roll): the head above the pelvis when it is in 3D
            uvj = uv.reshape(-1, 16, 2)[head_up]
            assert np.mean(uvj[:, HD, 1] < uvj[:, P, 1]) > 0.99
        assert np.all(np.abs(np.sort(azimuths) - [45, 135, 225, 315]) < 30), azimuths


# ----------------------------------------------------------------------------------------------
# cross-dataset set


def test_cross_keys_shapes_dtypes(cross):
    assert set(cross) == CROSS_KEYS
    n = len(cross["seq"])
    assert n == 8 * 2 * 240
    shapes = {
        "pose3d": (n, 16, 3),
        "pose2d_px": (n, 16, 2),
        "pose2d": (n, 16, 2),
        "res": (n, 2),
        "cam_intrinsics": (n, 4),
        "seq": (n,),
        "frame": (n,),
        "joint_names": (16,),
        "joint_parents": (16,),
        "fps": (),
    }
    for k, shape in shapes.items():
        assert cross[k].shape == shape, k
    for k in ("pose3d", "pose2d_px", "pose2d", "res", "cam_intrinsics", "cam_R", "cam_t", "fps"):
        assert cross[k].dtype == np.float32, k
    for k in ("seq", "frame", "joint_parents"):
        assert cross[k].dtype == np.int32, k
    S = len(cross["seq_names"])
    assert cross["cam_R"].shape == (S, 3, 3) and cross["cam_t"].shape == (S, 3)
    assert cross["seq_names"].dtype.kind == "U" and cross["joint_names"].dtype.kind == "U"
    assert tuple(cross["joint_parents"]) == H36M16.parents
    assert float(cross["fps"]) == 25.0
    assert np.all(np.isfinite(cross["pose3d"]))


def test_cross_deterministic():
    a, b = make_synthetic_cross_set(seed=4, num_clips=3), make_synthetic_cross_set(seed=4, num_clips=3)
    c = make_synthetic_cross_set(seed=5, num_clips=3)
    for k in CROSS_KEYS:
        np.testing.assert_array_equal(a[k], b[k])
    assert a["pose3d"].shape == c["pose3d"].shape and not np.allclose(a["pose3d"], c["pose3d"])


def test_cross_seq_and_frame(cross):
    seq, frame = cross["seq"], cross["frame"]
    S = len(cross["seq_names"])
    assert np.all(np.diff(seq) >= 0) and set(np.unique(seq)) == set(range(S))  # contiguous, sorted
    for s in range(S):
        f = frame[seq == s]
        np.testing.assert_array_equal(f, np.arange(len(f)))  # time-ordered, no gaps
    meta = [json.loads(x) for x in cross["seq_names"]]
    for i, m in enumerate(meta):
        assert m["seq"] == i and m["source"] == "synthetic"
        assert {"clip", "action", "camera"} <= set(m) and m["action"] in SYNTHETIC_ACTIONS
        assert m["frames_kept"] == np.sum(seq == i)
    assert len({m["action"] for m in meta}) == 8


def test_cross_projection_and_normalisation(cross):
    X, px, intr, res = (cross[k].astype(np.float64) for k in ("pose3d", "pose2d_px", "cam_intrinsics", "res"))
    assert X[..., 2].min() > 100.0  # in front of the camera (mm)
    uv = X[..., :2] / X[..., 2:3] * intr[:, None, :2] + intr[:, None, 2:]
    np.testing.assert_allclose(uv, px, atol=0.05)
    w, h = res[:, None, 0], res[:, None, 1]
    assert px[..., 0].min() >= 0 and px[..., 1].min() >= 0
    assert np.all(px[..., 0] <= w) and np.all(px[..., 1] <= h)
    norm = px / w[..., None] * 2 - np.stack([np.ones_like(h), h / w], -1)
    np.testing.assert_allclose(cross["pose2d"], norm, atol=1e-5)
    # principal point at the image centre; resolutions and focals from the documented sets
    np.testing.assert_allclose(intr[:, 2:], res / 2)
    assert {tuple(r) for r in res.astype(int)} <= {(1000, 1000), (1920, 1080), (2048, 2048)}
    assert 1000 <= intr[:, 0].min() and intr[:, 0].max() <= 1600


def test_cross_extrinsics_consistent(cross):
    """X_cam = R X_world + t, with one world (Y up, mm, floor y = 0) shared by a clip's cameras."""
    meta = [json.loads(x) for x in cross["seq_names"]]
    worlds = {}
    heights = []
    for s, m in enumerate(meta):
        R, t = cross["cam_R"][s].astype(np.float64), cross["cam_t"][s].astype(np.float64)
        np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-5)
        Xc = cross["pose3d"][cross["seq"] == s].astype(np.float64)
        Xw = (Xc - t) @ R  # R^T (Xc - t)
        assert Xw[..., 1].min() > -50.0  # nothing below the floor
        assert Xw[..., 1].max() > 1200.0  # standing people reach above 1.2 m at some point
        centre = -R.T @ t
        heights.append(centre[1])
        assert abs(centre[1] - m["cam_height_above_floor_mm"]) < 1.0
        if m["clip"] in worlds:
            np.testing.assert_allclose(Xw, worlds[m["clip"]], atol=2.0)  # mm, float32 round-off
        else:
            worlds[m["clip"]] = Xw
    heights = np.array(heights)
    assert 500 <= heights.min() and heights.max() <= 2500
    assert heights.min() < 1000 and heights.max() > 2000  # lower and higher than H36M's 1.2-1.8 m


def test_cross_knees_and_upright_in_image(cross):
    X = cross["pose3d"].astype(np.float64)  # camera frame (x right, y down): still right-handed
    up = cross["cam_R"][cross["seq"]][:, :, 1].astype(np.float64)  # world +Y in camera coordinates
    assert _check_knees_bend_forward(X, "cross", up) > 200
    height = np.sum((X[:, HD] - X[:, P]) * up, -1)  # mm
    assert np.mean(height > 400) > 0.8
    px = cross["pose2d_px"][height > 400]
    assert np.mean(px[:, HD, 1] < px[:, P, 1]) > 0.99  # right way up in the image


def test_cross_proportions_differ(mocap, cross):
    def widths(pose):
        pose = np.asarray(pose, dtype=np.float64)
        shoulder = np.linalg.norm(pose[..., LS, :] - pose[..., RS, :], axis=-1).mean()
        hip = np.linalg.norm(pose[..., LH, :] - pose[..., RH, :], axis=-1).mean()
        leg = (
            np.linalg.norm(pose[..., RK, :] - pose[..., RH, :], axis=-1)
            + np.linalg.norm(pose[..., RA, :] - pose[..., RK, :], axis=-1)
        ).mean()
        return shoulder, hip, leg

    train = np.array([widths(s) for _, _, s in all_sequences(mocap)]).mean(0)
    test = np.array(widths(cross["pose3d"] / 1000.0))
    ratio = test / train
    assert ratio[0] > 1.1  # wider shoulders
    assert ratio[1] < 0.9  # narrower hips
    assert ratio[2] < 0.95  # shorter legs


def test_render_preview(tmp_path):
    m = make_synthetic_mocap(subjects=("S1",), frames_per_action=40)
    m.positions["S1"] = {a: m.positions["S1"][a] for a in ("Walking", "Squatting")}
    out = render_synthetic_preview(m, tmp_path / "sub" / "preview.png", frames_per_action=2)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
