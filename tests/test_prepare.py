"""``dhaug prepare 3dhp | 3dpw | hrnet`` on files of every source format built here from synthetic poses
with known truth: SPIN's and P-STMO's 3DHP files, 3DPW's Python-2-style sequence pickles, EvoSkeleton's
HRNet npy files and VideoPose3D's 17-joint 2D files. The joint layouts of the sources are written out
below by joint *name*, independently of the converters' index tables, so a wrong table fails here."""

import json
import pickle

import numpy as np
import pytest
import torch

from dhaug.cli import main
from dhaug.data import load_cross_set, load_h36m
from dhaug.data.crossdata import load_test_3dhp
from dhaug.data.prepare_3dhp import STANDARD_COUNTS, prepare_3dhp
from dhaug.data.prepare_3dpw import prepare_3dpw
from dhaug.metrics import pose_metrics
from dhaug.skeleton import H36M16

OURS = H36M16.joint_names
# SPIN's 24 ground-truth joints (constants.JOINT_NAMES[25:]) and the names of ours they hold.
SPIN24 = (
    "RAnkle",
    "RKnee",
    "RHip",
    "LHip",
    "LKnee",
    "LAnkle",
    "RWrist",
    "RElbow",
    "RShoulder",
    "LShoulder",
    "LElbow",
    "LWrist",
    "Neck(LSP)",
    "TopOfHead(LSP)",
    "Pelvis(MPII)",
    "Thorax(MPII)",
    "Spine(H36M)",
    "Jaw(H36M)",
    "Head(H36M)",
    "Nose",
    "LEye",
    "REye",
    "LEar",
    "REar",
)
SPIN_FOR = {"Pelvis": "Pelvis(MPII)", "Spine": "Spine(H36M)", "Thorax": "Neck(LSP)", "Head": "Head(H36M)"}
# The 3DHP test annotations' 17 joints and ours.
MPI17 = (
    "head_top",
    "neck",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "right_hip",
    "right_knee",
    "right_ankle",
    "left_hip",
    "left_knee",
    "left_ankle",
    "pelvis",
    "spine",
    "head",
)
MPI_FOR = {
    "Pelvis": "pelvis",
    "RHip": "right_hip",
    "RKnee": "right_knee",
    "RAnkle": "right_ankle",
    "LHip": "left_hip",
    "LKnee": "left_knee",
    "LAnkle": "left_ankle",
    "Spine": "spine",
    "Thorax": "neck",
    "Head": "head_top",
    "LShoulder": "left_shoulder",
    "LElbow": "left_elbow",
    "LWrist": "left_wrist",
    "RShoulder": "right_shoulder",
    "RElbow": "right_elbow",
    "RWrist": "right_wrist",
}
SMPL24 = (
    "pelvis",
    "L_hip",
    "R_hip",
    "spine1",
    "L_knee",
    "R_knee",
    "spine2",
    "L_ankle",
    "R_ankle",
    "spine3",
    "L_foot",
    "R_foot",
    "neck",
    "L_collar",
    "R_collar",
    "head",
    "L_shoulder",
    "R_shoulder",
    "L_elbow",
    "R_elbow",
    "L_wrist",
    "R_wrist",
    "L_hand",
    "R_hand",
)
SMPL_FOR = {
    "Pelvis": "pelvis",
    "RHip": "R_hip",
    "RKnee": "R_knee",
    "RAnkle": "R_ankle",
    "LHip": "L_hip",
    "LKnee": "L_knee",
    "LAnkle": "L_ankle",
    "Spine": "spine2",
    "Thorax": "neck",
    "Head": "head",
    "LShoulder": "L_shoulder",
    "LElbow": "L_elbow",
    "LWrist": "L_wrist",
    "RShoulder": "R_shoulder",
    "RElbow": "R_elbow",
    "RWrist": "R_wrist",
}
SPIN_IDX = [SPIN24.index(SPIN_FOR.get(j, j)) for j in OURS]
MPI_IDX = [MPI17.index(MPI_FOR[j]) for j in OURS]
SMPL_IDX = [SMPL24.index(SMPL_FOR[j]) for j in OURS]
TS_SIZE = {1: (2048, 2048), 2: (2048, 2048), 3: (2048, 2048), 4: (2048, 2048), 5: (1920, 1080), 6: (1920, 1080)}

# A standing person in our 16 joints (metres; x to the person's left, y up, z forward).
REST = np.array(
    [
        [0, 0, 0],
        [-0.13, -0.02, 0],
        [-0.13, -0.46, 0.02],
        [-0.13, -0.91, 0],
        [0.13, -0.02, 0],
        [0.13, -0.46, 0.02],
        [0.13, -0.91, 0],
        [0, 0.23, 0],
        [0, 0.49, 0],
        [0, 0.67, 0.02],
        [0.15, 0.48, 0],
        [0.16, 0.2, 0.05],
        [0.18, -0.05, 0.1],
        [-0.15, 0.48, 0],
        [-0.16, 0.2, 0.05],
        [-0.18, -0.05, 0.1],
    ]
)


def people(n, rng, depth=4.5):
    """(n, 16, 3) camera-frame poses in metres (y down, z forward), turned and placed at random."""
    P = REST + 0.02 * rng.normal(size=(n, 16, 3))
    a = rng.uniform(-np.pi, np.pi, (n, 1))
    x, z = np.cos(a) * P[..., 0] + np.sin(a) * P[..., 2], -np.sin(a) * P[..., 0] + np.cos(a) * P[..., 2]
    return np.stack(
        [
            x + rng.uniform(-0.3, 0.3, (n, 1)),
            -P[..., 1] + rng.uniform(-0.2, 0.2, (n, 1)),
            z + depth + rng.uniform(-0.5, 0.5, (n, 1)),
        ],
        -1,
    )


def pixels(X, f, cx, cy):
    return np.stack([f * X[..., 0] / X[..., 2] + cx, f * X[..., 1] / X[..., 2] + cy], -1)


def one_error_line(argv, capsys, *parts):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for p in parts:
        assert p in err, (p, err)


# ---- 3DHP ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hp(tmp_path_factory):
    """One truth, written as SPIN's file (shuffled rows) and as P-STMO's (with invalid frames)."""
    d = tmp_path_factory.mktemp("3dhp")
    rng = np.random.default_rng(0)
    ts = np.repeat(np.arange(1, 7), STANDARD_COUNTS)
    n = len(ts)
    frame = np.concatenate([np.sort(rng.choice(2 * c, c, replace=False)) for c in STANDARD_COUNTS])
    truth = people(n, rng)
    size = np.array([TS_SIZE[t] for t in ts], float)[:, None]
    px = pixels(truth, 1500.0, size[..., 0] / 2, size[..., 1] / 2)
    norm = px / size[..., :1] * 2 - np.concatenate([np.ones_like(size[..., :1]), size[..., 1:] / size[..., :1]], -1)

    S = rng.normal(size=(n, 24, 4))  # joints we do not use hold noise, so a wrong index shows
    S[..., 3] = 1
    S[:, SPIN_IDX, :3] = truth - truth[:, :1]  # SPIN: metres, root-relative
    part = rng.uniform(0, 2000, (n, 24, 3))
    part[..., 2] = 1
    part[:, SPIN_IDX, :2] = px
    names = np.array([f"mpi_inf_3dhp_test_set/TS{t}/imageSequence/img_{f + 1:06d}.jpg" for t, f in zip(ts, frame)])
    shuffle = rng.permutation(n)
    spin = dict(
        imgname=names[shuffle],
        center=rng.uniform(0, 2000, (n, 2))[shuffle],
        scale=np.ones(n),
        part=part[shuffle],
        S=S[shuffle],
    )
    np.savez(d / "mpi_inf_3dhp_valid.npz", **spin)

    seqs = {}
    for t in range(1, 7):
        rows = np.flatnonzero(ts == t)
        F = frame[rows].max() + 3
        d3 = np.full((F, 17, 3), np.nan)  # invalid frames hold NaN: never read
        d2 = np.full((F, 17, 2), np.nan)
        d3[frame[rows]] = rng.normal(size=(len(rows), 17, 3))
        d2[frame[rows]] = rng.normal(size=(len(rows), 17, 2))
        d3[frame[rows][:, None], MPI_IDX] = truth[rows] * 1000  # P-STMO: mm, camera frame
        d2[frame[rows][:, None], MPI_IDX] = px[rows]
        valid = np.zeros(F, np.uint8)
        valid[frame[rows]] = 1
        seqs[f"TS{t}"] = {"data_3d": d3, "data_2d": d2, "valid": valid, "data_2d_crop": d2}
    np.savez_compressed(d / "data_test_3dhp.npz", data=np.array(seqs, dtype=object))
    return {"dir": d, "spin": spin, "seqs": seqs, "truth": truth, "norm": norm, "ts": ts, "frame": frame}


def test_3dhp_from_spin_round_trips_through_the_loader(hp, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["prepare", "3dhp", "--from", str(hp["dir"] / "mpi_inf_3dhp_valid.npz"), "--out-dir", str(out)]) == 0
    assert "2,929 frames over TS1..TS6 (603/540/505/553/276/452)" in capsys.readouterr().out
    s = load_test_3dhp(out / "test_3dhp.npz")
    truth = hp["truth"]
    np.testing.assert_allclose(s.pose3d, truth - truth[:, :1], atol=1e-5)  # rows back in (TS, frame) order
    np.testing.assert_allclose(s.pose2d, hp["norm"], atol=1e-5)
    np.testing.assert_array_equal(s.seq, hp["ts"] - 1)
    np.testing.assert_array_equal(s.frame, hp["frame"])
    assert (
        s.seq_names == ["TS1", "TS2", "TS3", "TS4", "TS5", "TS6"] and len(load_cross_set(out / "test_3dhp.npz")) == 2929
    )
    # S in millimetres is detected; an existing output is kept unless --force
    mm = dict(hp["spin"], S=hp["spin"]["S"] * np.array([1000, 1000, 1000, 1]))
    np.savez(tmp_path / "mm.npz", **mm)
    one_error_line(
        ["prepare", "3dhp", "--from", str(tmp_path / "mm.npz"), "--out-dir", str(out)],
        capsys,
        "test_3dhp.npz already exists; pass --force",
    )
    assert main(["prepare", "3dhp", "--from", str(tmp_path / "mm.npz"), "--out-dir", str(out), "--force"]) == 0
    np.testing.assert_allclose(load_test_3dhp(out / "test_3dhp.npz").pose3d, s.pose3d, atol=1e-5)


def test_3dhp_from_pstmo_keeps_valid_frames_and_matches_spin(hp, tmp_path):
    summary = prepare_3dhp(hp["dir"] / "data_test_3dhp.npz", tmp_path)
    assert summary["files_written"] == [str(tmp_path / "test_3dhp.npz")]
    s = load_test_3dhp(tmp_path / "test_3dhp.npz")
    truth = hp["truth"]
    np.testing.assert_allclose(s.pose3d, truth - truth[:, :1], atol=1e-5)
    np.testing.assert_allclose(s.root, truth[:, 0], atol=1e-5)  # P-STMO keeps the camera-frame root
    np.testing.assert_allclose(s.pose2d, hp["norm"], atol=1e-5)
    np.testing.assert_array_equal(s.frame, hp["frame"])  # the valid frames' indices
    np.testing.assert_array_equal(np.bincount(s.seq), STANDARD_COUNTS)


def test_pck_and_auc_on_a_prepared_3dhp_file_follow_method_section_9(hp, tmp_path):
    """PCK: all 16 joints (root included) under 150 mm; AUC: mean PCK over 0, 5, ..., 150 mm (31 values)."""
    prepare_3dhp(hp["dir"] / "mpi_inf_3dhp_valid.npz", tmp_path)
    gt = torch.as_tensor(load_test_3dhp(tmp_path / "test_3dhp.npz").pose3d, dtype=torch.float64)
    for shift_mm, pck, auc in ((102, 100.0, (30 + 15 * 10) / (31 * 16) * 100), (160, 100 / 16, 30 / (31 * 16) * 100)):
        pred = gt.clone() + 7.0  # a free root offset is not an error (both are root-centred)
        pred[:, 1:, 0] += shift_mm / 1000  # every non-root joint off by shift_mm
        m = pose_metrics(pred, gt)
        assert torch.allclose(m["mpjpe"], torch.full_like(m["mpjpe"], shift_mm * 15 / 16))
        assert float(m["pck"].mean()) == pytest.approx(pck) and float(m["auc"].mean()) == pytest.approx(auc)


# ---- 3DPW ---------------------------------------------------------------------------------------


def py2_pickle(obj, path):
    """A protocol-2 pickle naming numpy's arrays the way numpy 1.x (and the Python 2 3DPW files) does."""
    path.write_bytes(pickle.dumps(obj, protocol=2).replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))


def yaw(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def pw3d_sequence(rng, name, n_frames, n_people, K):
    """A 3DPW-like dict and its truth: per person (F, 16, 3) camera metres and a valid mask."""
    R = np.stack([yaw(0.2 + 0.01 * f) for f in range(n_frames)])
    t = np.stack([np.array([0.1, -0.2, 0.3]) + 0.01 * f for f in range(n_frames)])
    cam = np.zeros((n_frames, 4, 4))
    cam[:, :3, :3], cam[:, :3, 3], cam[:, 3, 3] = R, t, 1
    joints, valid, truth = [], [], []
    for p in range(n_people):
        Xc = people(n_frames, rng, depth=3.0 + p)
        smpl = Xc[:, :1] + 0.3 * rng.normal(size=(n_frames, 24, 3))  # unused SMPL joints: noise near the body
        smpl[:, SMPL_IDX] = Xc
        world = np.einsum("fji,fkj->fki", R, smpl - t[:, None])  # R^T (X - t)
        ok = np.ones(n_frames, bool)
        ok[[1, 4]] = False
        joints.append(world.reshape(n_frames, 72))
        valid.append(ok.astype(np.float64))
        truth.append((Xc, ok))
    seq = {
        "sequence": name,
        "jointPositions": joints,
        "cam_poses": cam,
        "cam_intrinsics": K,
        "campose_valid": valid,
        "img_frame_ids": np.arange(n_frames) * 2,
        "genders": ["m"] * n_people,
        "poses": [np.zeros((n_frames, 72))] * n_people,
        "betas": [np.zeros(10)] * n_people,
    }
    return seq, truth


@pytest.fixture(scope="module")
def pw(tmp_path_factory):
    d = tmp_path_factory.mktemp("3dpw") / "sequenceFiles" / "test"
    d.mkdir(parents=True)
    rng = np.random.default_rng(1)
    portrait = np.array([[1960.0, 0, 540.2], [0, 1961.0, 959.6], [0, 0, 1]])
    landscape = np.array([[1500.0, 0, 960.0], [0, 1500.0, 540.0], [0, 0, 1]])
    a, ta = pw3d_sequence(rng, "downtown_walking_00", 12, 2, portrait)
    b, tb = pw3d_sequence(rng, "outdoors_fencing_01", 9, 1, landscape)
    X = ta[0][0]  # a valid frame of person 0 with a joint behind the camera: dropped
    world = a["jointPositions"][0].reshape(12, 24, 3)
    R, t = a["cam_poses"][2, :3, :3], a["cam_poses"][2, :3, 3]
    bad = X[2].copy()
    bad[12, 2] = -0.5
    world[2, SMPL_IDX] = (bad - t) @ R
    a["jointPositions"][0] = world.reshape(12, 72)
    ta[0][1][2] = False
    py2_pickle(a, d / "downtown_walking_00.pkl")
    py2_pickle(b, d / "outdoors_fencing_01.pkl")
    expected = []  # (truth 3D, normalised 2D, frames) per (sequence, person), in file order
    for truth, K, (w, h) in ((ta, portrait, (1080, 1920)), (tb, landscape, (1920, 1080))):
        for Xc, ok in truth:
            X = Xc[ok]
            px = np.stack([K[0, 0] * X[..., 0] / X[..., 2] + K[0, 2], K[1, 1] * X[..., 1] / X[..., 2] + K[1, 2]], -1)
            expected.append((X, (px - np.array([w, h]) / 2) / max(w, h) * 2, np.flatnonzero(ok)))
    return d, expected


def test_3dpw_sequences_become_a_cross_set(pw, tmp_path, capsys):
    d, expected = pw
    assert main(["prepare", "3dpw", "--from", str(d), "--out-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    n = sum(len(e[2]) for e in expected)
    assert n == 26 and f"3DPW: {n} frames in 3 (sequence, person) tracks" in out
    assert "warning:" in out and "person 0: 1 valid frame(s) with a joint behind or at the camera dropped" in out
    s = load_cross_set(tmp_path / "test_3dpw.npz")
    X = np.concatenate([e[0] for e in expected])
    np.testing.assert_allclose(s.pose3d, X - X[:, :1], atol=1e-4)
    np.testing.assert_allclose(s.root, X[:, 0], atol=1e-4)
    np.testing.assert_allclose(s.pose2d, np.concatenate([e[1] for e in expected]), atol=1e-5)
    np.testing.assert_array_equal(s.frame, np.concatenate([e[2] for e in expected]))
    assert np.abs(s.pose2d).max() <= 1.0  # portrait images stay inside [-1, 1]
    assert s.seq_names == [
        "downtown_walking_00/person0/cam0",
        "downtown_walking_00/person1/cam0",
        "outdoors_fencing_01/person0/cam0",
    ]
    assert s.action_names == ["downtown_walking", "outdoors_fencing"] and s.fps == 30.0
    with np.load(tmp_path / "test_3dpw.npz") as f:
        assert json.loads(str(f["seq_names"][0]))["image_size"] == [1080, 1920]


def test_3dpw_pickles_cannot_run_code(tmp_path, capsys):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "evil.pkl").write_bytes(pickle.dumps({"jointPositions": Evil()}, protocol=2))
    one_error_line(
        ["prepare", "3dpw", "--from", str(tmp_path / "in"), "--out-dir", str(tmp_path)],
        capsys,
        "evil.pkl: refusing to unpickle 'io.open'",
    )
    assert not marker.exists()


# ---- HRNet / CPN / Detectron 2D, then training on them -------------------------------------------


def world_poses(n, rng):
    base = np.zeros((32, 3))
    base[:, 2] = np.linspace(0.1, 1.7, 32)
    base[:, 0] = np.linspace(-0.3, 0.3, 32)
    return (base + 0.02 * rng.normal(size=(n, 32, 3))).astype(np.float32)


CAMS = ("54138969", "55011271", "58860488", "60457274")
H36M32_FOR = (0, 1, 2, 3, 6, 7, 8, 12, 13, 15, 17, 18, 19, 25, 26, 27)  # Hip ... RWrist, no Neck/Nose (14)


def test_hrnet_and_17_joint_2d_files_load_and_train(pw, hp, tmp_path, capsys):
    rng = np.random.default_rng(2)
    d = tmp_path / "h36m"
    d.mkdir()
    pos = {
        "S1": {"Walking 1": world_poses(30, rng), "TakingPhoto 1": world_poses(24, rng)},
        "S9": {"Walking 1": world_poses(20, rng), "Photo 1": world_poses(16, rng)},
    }
    np.savez(d / "data_3d_h36m.npz", positions_3d=np.array(pos, dtype=object))
    evo = {"train": {}, "test": {}}
    spelled = {("S1", "TakingPhoto 1"): "Photo 1", ("S9", "Photo 1"): "TakingPhoto 1"}  # EvoSkeleton's other spelling
    truth = {}
    for s, acts in pos.items():
        for a, p in acts.items():
            name = spelled.get((s, a), a)
            for ci, cam in enumerate(CAMS):
                px = rng.uniform(0, 1000, (len(p) + 2, 32, 2)).astype(np.float32)
                px[:, [4, 5, 9, 10, 11, 16]] = 0  # joints EvoSkeleton leaves empty
                evo["train" if s == "S1" else "test"][(int(s[1:]), name.split()[0], f"{name}.{cam}.h5-sh")] = (
                    px.reshape(-1, 64)
                )
                truth[s, a, ci] = px[: len(p), list(H36M32_FOR)]
    evo["test"][(9, "Eating", f"Eating 1.{CAMS[0]}.h5-sh")] = np.zeros((5, 64))  # one camera only: left out
    for split, v in evo.items():
        np.save(d / f"twoDPose_HRN_{split}.npy", v)
    assert (
        main(
            [
                "prepare",
                "hrnet",
                "--from",
                str(d / "twoDPose_HRN_train.npy"),
                str(d / "twoDPose_HRN_test.npy"),
                "--out-dir",
                str(d),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "S9 'Eating 1': no detections for camera(s) 55011271, 58860488, 60457274; left out" in out
    data = load_h36m(d, "hr")
    for (s, a, ci), want in truth.items():
        np.testing.assert_array_equal(data.keypoints[s][a][ci], want)

    # VideoPose3D's 17-joint CPN / Detectron layout: the loader drops Neck/Nose (joint 9) itself
    kp17 = {
        s: {a: [rng.uniform(0, 1000, (len(p), 17, 2)).astype(np.float32) for _ in CAMS] for a, p in acts.items()}
        for s, acts in pos.items()
    }
    meta = {
        "layout_name": "h36m",
        "num_joints": 17,
        "keypoints_symmetry": [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]],
    }
    for fname in ("data_2d_h36m_cpn_ft_h36m_dbb.npz", "data_2d_h36m_detectron_ft_h36m.npz"):
        np.savez(d / fname, positions_2d=np.array(kp17, dtype=object), metadata=np.array(meta, dtype=object))
    for source in ("cpn", "det"):
        got = load_h36m(d, source).keypoints["S9"]["Photo 1"][2]
        np.testing.assert_array_equal(
            got, kp17["S9"]["Photo 1"][2][:, [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16]]
        )

    # train on the HRNet 2D and score the prepared 3DHP and 3DPW files
    prepare_3dhp(hp["dir"] / "mpi_inf_3dhp_valid.npz", tmp_path)
    prepare_3dpw(pw[0], tmp_path)
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--out",
                str(run),
                "--no-progress",
                "--data-dir",
                str(d),
                "--keypoints",
                "hr",
                "data.train_subjects=[S1]",
                "data.test_subjects=[S9]",
                "model.name=mlp",
                "model.channels=32",
                "model.stages=1",
                "train.epochs=1",
                "train.tail_epochs=0",
                "train.batch_size=64",
            ]
        )
        == 0
    )
    assert json.loads((run / "results.json").read_text())["config"]["data"]["keypoints"] == "hr"
    assert (
        main(
            [
                "evaluate",
                "--checkpoint",
                str(run / "checkpoint.pt"),
                "--cross",
                str(tmp_path / "test_3dhp.npz"),
                "--cross",
                str(tmp_path / "test_3dpw.npz"),
            ]
        )
        == 0
    )
    res = json.loads((run / "evaluate_test_3dhp_test_3dpw" / "results.json").read_text())["results"]
    assert set(res) == {"test_3dhp", "test_3dpw"} and res["test_3dpw"]["frame_mean"]["frames"] == 26
    assert res["test_3dhp"]["frame_mean"]["frames"] == 2929 and 0 <= res["test_3dhp"]["frame_mean"]["auc"] <= 100


# ---- bad input: one error line naming the file and the key ---------------------------------------


def small_spin(tmp_path, **change):
    rng = np.random.default_rng(3)
    n = 10
    part = np.concatenate([rng.uniform(0, 2000, (n, 24, 2)), np.ones((n, 24, 1))], -1)
    S = np.ones((n, 24, 4))
    P = people(n, rng)
    S[:, SPIN_IDX, :3] = P - P[:, :1]
    d = dict(
        imgname=np.array([f"mpi_inf_3dhp_test_set/TS2/imageSequence/img_{i + 1:06d}.jpg" for i in range(n)]),
        part=part,
        S=S,
        center=np.zeros((n, 2)),
        scale=np.ones(n),
    )
    d.update(change)
    d = {k: v for k, v in d.items() if v is not None}
    np.savez(tmp_path / "spin.npz", **d)
    return ["prepare", "3dhp", "--any-length", "--from", str(tmp_path / "spin.npz"), "--out-dir", str(tmp_path / "o")]


def test_bad_3dhp_files(hp, tmp_path, capsys):
    p = str(tmp_path / "spin.npz")
    assert main(small_spin(tmp_path)[:-1] + [str(tmp_path / "ok")]) == 0  # a subset (10 frames of TS2), --any-length
    s = load_test_3dhp(tmp_path / "ok" / "test_3dhp.npz")
    assert len(s) == 10 and set(s.seq) == {1} and s.seq_names[1] == "TS2"
    one_error_line(small_spin(tmp_path, S=None), capsys, p, "missing key 'S'")
    one_error_line(small_spin(tmp_path, part=np.ones((10, 23, 3))), capsys, p, "key 'part' has shape (10, 23, 3)")
    one_error_line(
        small_spin(tmp_path, imgname=np.array(["img_000001.jpg"] * 10)), capsys, p, "key 'imgname'", "TS1..TS6"
    )
    vis = np.ones((10, 24, 3))
    vis[4, 9, 2] = 0
    one_error_line(small_spin(tmp_path, part=vis), capsys, p, "key 'part': SPIN joint 9 of row 4 has visibility 0")
    argv = small_spin(tmp_path)
    argv.remove("--any-length")
    one_error_line(argv, capsys, p, "key 'imgname'", "10 frames split 0/10/0/0/0/0", "--any-length")
    spin = {k: v[:-1] for k, v in hp["spin"].items()}  # 2,928 frames
    np.savez(tmp_path / "short.npz", **spin)
    one_error_line(
        ["prepare", "3dhp", "--from", str(tmp_path / "short.npz"), "--out-dir", str(tmp_path / "o")],
        capsys,
        "short.npz: key 'imgname': 2,928 frames",
    )
    (tmp_path / "text.npz").write_text("pose3d, pose2d\n")
    one_error_line(
        ["prepare", "3dhp", "--from", str(tmp_path / "text.npz"), "--out-dir", str(tmp_path)],
        capsys,
        "text.npz: not an npz archive",
    )
    np.savez(tmp_path / "other.npz", pose3d=np.zeros((3, 16, 3)))
    one_error_line(
        ["prepare", "3dhp", "--from", str(tmp_path / "other.npz"), "--out-dir", str(tmp_path)],
        capsys,
        "other.npz: neither SPIN's 3DHP file",
        "found: pose3d",
    )

    def pstmo(name, **change):
        seqs = {k: dict(v) for k, v in hp["seqs"].items()}
        for k, v in change.items():
            ts, key = k.split("__")
            if v is None:
                del seqs[ts][key]
            else:
                seqs[ts][key] = v
        np.savez(tmp_path / name, data=np.array(seqs, dtype=object))
        return ["prepare", "3dhp", "--from", str(tmp_path / name), "--out-dir", str(tmp_path / "o")]

    one_error_line(pstmo("a.npz", TS3__valid=None), capsys, "a.npz: data['TS3']: missing key 'valid'")
    F = len(hp["seqs"]["TS2"]["valid"])
    one_error_line(
        pstmo("b.npz", TS2__data_3d=np.zeros((F, 16, 3))),
        capsys,
        "b.npz: data['TS2']: key 'data_3d' has shape",
        "(N, 17, 3)",
    )
    valid = hp["seqs"]["TS6"]["valid"].copy()
    valid[np.flatnonzero(valid)[0]] = 0
    one_error_line(pstmo("c.npz", TS6__valid=valid), capsys, "c.npz: key 'data'", "603/540/505/553/276/451")
    h36m17 = [14, 8, 9, 10, 11, 12, 13, 15, 1, 0, 16, 5, 6, 7, 2, 3, 4]  # a file already reordered to H36M's 17 joints
    seqs = {k: dict(v, data_3d=v["data_3d"][:, h36m17]) for k, v in hp["seqs"].items()}
    np.savez(tmp_path / "h36m_order.npz", data=np.array(seqs, dtype=object))
    one_error_line(
        ["prepare", "3dhp", "--from", str(tmp_path / "h36m_order.npz"), "--out-dir", str(tmp_path / "o")],
        capsys,
        "h36m_order.npz",
        "bone has median length",
        "not in the documented order",
    )


def test_bad_3dpw_and_hrnet_files(pw, tmp_path, capsys):
    good = pickle.loads((pw[0] / "outdoors_fencing_01.pkl").read_bytes(), encoding="latin1")

    def seq_file(name, **change):
        py2_pickle({k: v for k, v in dict(good, **change).items() if v is not None}, tmp_path / name)
        return ["prepare", "3dpw", "--from", str(tmp_path / name), "--out-dir", str(tmp_path / "o")]

    one_error_line(seq_file("a.pkl", cam_poses=None), capsys, "a.pkl: missing key 'cam_poses'")
    one_error_line(
        seq_file("b.pkl", jointPositions=[np.zeros((9, 69))]),
        capsys,
        "b.pkl: key 'jointPositions[0]' has shape (9, 69), expected (9, 72)",
    )
    one_error_line(
        seq_file("c.pkl", campose_valid=[np.ones(8)]), capsys, "c.pkl: key 'campose_valid[0]' has shape (8,)"
    )
    one_error_line(seq_file("d.pkl", img_frame_ids=np.arange(5)), capsys, "d.pkl: key 'img_frame_ids' has 5 frames")
    (tmp_path / "e.pkl").write_text("not a pickle")
    one_error_line(
        ["prepare", "3dpw", "--from", str(tmp_path / "e.pkl"), "--out-dir", str(tmp_path)],
        capsys,
        "e.pkl: not a readable pickle",
    )
    one_error_line(
        ["prepare", "3dpw", "--from", str(tmp_path / "none"), "--out-dir", str(tmp_path)],
        capsys,
        "none: no such file or folder",
    )

    np.save(tmp_path / "hr.npy", {(9, "Walking", "Walking 1.54138969.h5-sh"): np.zeros((5, 60))})
    one_error_line(
        ["prepare", "hrnet", "--from", str(tmp_path / "hr.npy"), "--out-dir", str(tmp_path)],
        capsys,
        "hr.npy: [(9, 'Walking', 'Walking 1.54138969.h5-sh')] has shape (5, 60)",
    )
    np.save(tmp_path / "hr2.npy", {("S9", "Walking"): np.zeros((5, 64))})
    one_error_line(
        ["prepare", "hrnet", "--from", str(tmp_path / "hr2.npy"), "--out-dir", str(tmp_path)],
        capsys,
        "hr2.npy: key ('S9', 'Walking') is not (subject, action,",
    )
    np.save(tmp_path / "hr3.npy", np.zeros((5, 64)))
    one_error_line(
        ["prepare", "hrnet", "--from", str(tmp_path / "hr3.npy"), "--out-dir", str(tmp_path)],
        capsys,
        "hr3.npy must hold a pickled dict",
    )
    (tmp_path / "hr4.npy").write_text("x")
    one_error_line(
        ["prepare", "hrnet", "--from", str(tmp_path / "hr4.npy"), "--out-dir", str(tmp_path)],
        capsys,
        "hr4.npy: not a .npy file",
    )
    one_error_line(
        ["prepare", "3dpw", "--from-archive", "x.zip", "--out-dir", str(tmp_path)], capsys, "--from-archive is for h36m"
    )
    one_error_line(
        ["prepare", "h36m", "--from-archive", str(tmp_path / "missing.zip"), "--out-dir", str(tmp_path)],
        capsys,
        "missing.zip",
    )  # --from-archive still names the h36m archive
    one_error_line(
        ["prepare", "h36m", "--from", "a.zip", "b.zip", "--out-dir", str(tmp_path)],
        capsys,
        "prepare h36m takes one archive",
    )
    one_error_line(["prepare", "3dhp", "--out-dir", str(tmp_path)], capsys, "give the input with --from")
