"""``dhaug lift``: detector keypoints (COCO / MMPose JSON, OpenPose folders, npz) -> our 16 joints -> 3D.

The in-the-wild inputs are made from *projected synthetic poses*: our 16 joints, seen by a synthetic
camera, placed into COCO-17 / BODY_25 slots by name (hips at our hips, shoulders at ours, face points
symmetric around our head), so mapping back recovers our joints (the thorax comes back as the
shoulder midpoint, as for real detectors). A small SimpleBaseline is fitted on other synthetic subjects
for a few seconds; the lifted 3D must come close to the truth, and must not when the mapping
(left/right) or the normalisation (image size) is wrong.
"""

import json
import os
import stat

import numpy as np
import pytest
import torch

from dhaug import checkpoint
from dhaug.cli import main
from dhaug.config import load_config
from dhaug.data.keypoints import (
    BODY25_NAMES,
    COCO17_NAMES,
    SPINE_FRACTION,
    fill_gaps,
    keypoints_from_array,
    read_keypoints,
    savgol_smooth,
    smoothing_window,
    to_h36m16,
)
from dhaug.errors import DataError
from dhaug.lift import animation_frames, as_lifter, lift_keypoints, predict_3d, prepare_2d, window_step
from dhaug.skeleton import H36M16, mirror_pose

J = {n: i for i, n in enumerate(H36M16.joint_names)}
#: COCO-17 points that are one of our joints, by name (written independently of dhaug's own table).
COCO_OF_OURS = {
    "left_hip": "LHip",
    "right_hip": "RHip",
    "left_knee": "LKnee",
    "right_knee": "RKnee",
    "left_ankle": "LAnkle",
    "right_ankle": "RAnkle",
    "left_shoulder": "LShoulder",
    "right_shoulder": "RShoulder",
    "left_elbow": "LElbow",
    "right_elbow": "RElbow",
    "left_wrist": "LWrist",
    "right_wrist": "RWrist",
}
BODY25_OF_COCO = {
    "Nose": "nose",
    "LEye": "left_eye",
    "REye": "right_eye",
    "LEar": "left_ear",
    "REar": "right_ear",
    **{
        f"{s.upper()[0]}{p.capitalize()}": f"{s}_{p}"
        for s in ("left", "right")
        for p in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
    },
}
W, H = 1000, 1000  # the synthetic cameras' image size
#: The same views in a 1920 x 1080 frame: pixels x 1.92, shifted up 420 px, normalise to the same network
#: input (``x / w * 2 - [1, h / w]``), so a wrong aspect offset or image size shows in the 3D.
WIDE = (1920, 1080)
SEQUENCE = ("S1", "Reaching", 1)  # subject, action, camera (odd frames: not trained on)


# ----------------------------------------------------------------------------------------------
# synthetic "in the wild" data and a small fitted lifter


def to_wide(px: np.ndarray) -> np.ndarray:
    """(..., 2) pixels of a 1000 x 1000 synthetic camera -> the same view in a 1920 x 1080 frame."""
    return px * 1.92 + np.array([0.0, -420.0])


def coco_from_ours(px16: np.ndarray) -> np.ndarray:
    """(T, 16, 2) our joints -> (T, 17, 2) COCO-17 points placed by name; eyes and ears symmetric
    around our head (so their mean is the head), the nose in front of it."""
    T = len(px16)
    out = np.zeros((T, 17, 2))
    for coco, ours in COCO_OF_OURS.items():
        out[:, COCO17_NAMES.index(coco)] = px16[:, J[ours]]
    head = px16[:, J["Head"]]
    across = 0.25 * (px16[:, J["LShoulder"]] - px16[:, J["RShoulder"]])
    up = head - px16[:, J["Thorax"]]
    for side, sign in (("left", 1.0), ("right", -1.0)):
        out[:, COCO17_NAMES.index(f"{side}_eye")] = head + 0.4 * sign * across + 0.1 * up
        out[:, COCO17_NAMES.index(f"{side}_ear")] = head + sign * across - 0.1 * up
    out[:, COCO17_NAMES.index("nose")] = head - 0.1 * up
    return out


def body25_from_coco(coco: np.ndarray, score: np.ndarray) -> np.ndarray:
    """(T, 17, 2) COCO points + (T, 17) scores -> (T, 25, 3) BODY_25 x, y, c (neck, mid-hip and feet made up)."""
    out = np.zeros((len(coco), 25, 3))
    for name, c in BODY25_OF_COCO.items():
        k = COCO17_NAMES.index(c)
        out[:, BODY25_NAMES.index(name), :2] = coco[:, k]
        out[:, BODY25_NAMES.index(name), 2] = score[:, k]
    sh = [COCO17_NAMES.index(f"{s}_shoulder") for s in ("left", "right")]
    hips = [COCO17_NAMES.index(f"{s}_hip") for s in ("left", "right")]
    out[:, BODY25_NAMES.index("Neck")] = np.concatenate([coco[:, sh].mean(1), score[:, sh].min(1, keepdims=True)], -1)
    out[:, BODY25_NAMES.index("MidHip")] = np.concatenate(
        [coco[:, hips].mean(1), score[:, hips].min(1, keepdims=True)], -1
    )
    for foot in ("BigToe", "SmallToe", "Heel"):
        for s, side in (("L", "left"), ("R", "right")):
            k = COCO17_NAMES.index(f"{side}_ankle")
            out[:, BODY25_NAMES.index(f"{s}{foot}")] = np.concatenate([coco[:, k] + [0, 20], score[:, k : k + 1]], -1)
    return out


def write_coco_results(path, coco, score, extra_people=None):
    """COCO results JSON, one entry per person; ``extra_people``: {frame: (xy, score, person score)}."""
    entries = []
    for t in range(len(coco)):
        kps = np.concatenate([coco[t], score[t][:, None]], -1).ravel().tolist()
        entries.append({"image_id": t, "category_id": 1, "keypoints": kps, "score": 0.9})
        if extra_people and t in extra_people:
            xy, s, ps = extra_people[t]
            entries.append(
                {
                    "image_id": t,
                    "category_id": 1,
                    "score": ps,
                    "keypoints": np.concatenate([xy, s[:, None]], -1).ravel().tolist(),
                }
            )
    path.write_text(json.dumps(entries))
    return path


def write_openpose(folder, body25, extra_people=None):
    folder.mkdir(parents=True, exist_ok=True)
    for t, person in enumerate(body25):
        people = [{"person_id": [-1], "pose_keypoints_2d": person.ravel().tolist()}] if person[:, 2].any() else []
        if extra_people and t in extra_people:
            people.insert(0, {"pose_keypoints_2d": extra_people[t].ravel().tolist()})
        (folder / f"clip_{t:012d}_keypoints.json").write_text(json.dumps({"version": 1.3, "people": people}))
    return folder


@pytest.fixture(scope="module")
def synthetic():
    """Projected synthetic poses: training pairs (5 subjects) and one held-out sequence (pixels + 3D truth)."""
    from dhaug.data.h36m import build_split, project_ground_truth_2d
    from dhaug.data.synthetic import make_synthetic_mocap

    mocap = make_synthetic_mocap(subjects=("S1", "S5", "S6", "S7", "S8", "S9"), frames_per_action=200)
    kp = project_ground_truth_2d(mocap.positions, mocap.cameras)
    train = build_split(mocap.positions, mocap.cameras, kp, ["S1", "S5", "S6", "S7", "S8"], 2)
    subject, action, cam = SEQUENCE
    test = build_split(mocap.positions, mocap.cameras, kp, [subject], 1, [action])
    rows = (test.camera == cam) & (test.frame % 2 == 1)  # the frames training skipped
    assert mocap.cameras[subject][cam].res_w == W and mocap.cameras[subject][cam].res_h == H
    return {
        "train": train,
        "pixels": kp[subject][action][cam][1::2].astype(np.float64),
        "truth": test.pose3d[rows],
        "pose2d": test.pose2d[rows],
    }


@pytest.fixture(scope="module")
def run(synthetic, tmp_path_factory):
    """A SimpleBaseline fitted on the synthetic training pairs for a few seconds, saved as a checkpoint."""
    cfg = load_config(
        None,
        [
            "model.name=mlp",
            "model.channels=128",
            "model.stages=1",
            "model.dropout=0",
            "data.dataset=synthetic",
            "data.downsample=2",
            "train.device=cpu",
        ],
    )
    from dhaug.models import build_model

    torch.manual_seed(0)
    net = build_model(cfg.model)
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    x, y = synthetic["train"].tensors()
    g = torch.Generator().manual_seed(0)
    for it in range(800):
        i = torch.randint(0, len(x), (512,), generator=g)
        xb, yb = (x[i], y[i]) if it % 2 == 0 else (mirror_pose(x[i]), mirror_pose(y[i]))
        loss = ((net(xb) - yb) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if it == 600:
            opt.param_groups[0]["lr"] = 1e-3
    net.eval()
    path = tmp_path_factory.mktemp("run") / "checkpoint.pt"
    checkpoint.save_atomic({"model": net.state_dict(), "config": cfg.to_dict(), "epoch": 1}, path)
    return {"path": path, "net": net}


def mpjpe_mm(a, b) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b), axis=-1).mean() * 1000)


#: Lifted-vs-truth bound (mm). The fitted lifter reaches ~40 mm on the test frames from exact 2D and
#: ~38 mm from the COCO file; left/right swapped COCO points give ~165 mm, a wrong image size for the
#: 1920 x 1080 frame ~210 mm (1000 x 1000) and ~750 mm (1080 x 1920, width and height swapped), a
#: normaliser that scales y by the height ~120 mm, one that offsets y by 1 instead of h / w ~475 mm.
BOUND_MM = 60.0


@pytest.fixture(scope="module")
def coco_input(synthetic):
    coco = coco_from_ours(synthetic["pixels"])
    score = np.full(coco.shape[:2], 0.9)
    return coco, score


# ----------------------------------------------------------------------------------------------
# mapping


def test_mapping_recovers_our_joints_from_coco_and_body25(synthetic, coco_input):
    px = synthetic["pixels"]
    coco, score = coco_input
    for layout, xy, sc in (
        ("coco17", coco, score),
        ("body25", body25_from_coco(coco, score)[..., :2], body25_from_coco(coco, score)[..., 2]),
    ):
        ours, s = to_h36m16(xy, sc, layout)
        direct = [J[n] for n in COCO_OF_OURS.values()] + [J["Head"], J["Pelvis"]]
        np.testing.assert_allclose(ours[:, direct], px[:, direct], atol=0.5)  # perspective: pelvis within 0.5 px
        mid_sh = (px[:, J["LShoulder"]] + px[:, J["RShoulder"]]) / 2
        np.testing.assert_allclose(ours[:, J["Thorax"]], mid_sh, atol=1e-9)
        spine = ours[:, J["Pelvis"]] + SPINE_FRACTION * (mid_sh - ours[:, J["Pelvis"]])
        np.testing.assert_allclose(ours[:, J["Spine"]], spine, atol=1e-9)
        # the made-up joints land near the synthetic body's own (thorax 6 cm above the shoulders: ~15 px here)
        assert np.linalg.norm(ours[:, J["Thorax"]] - px[:, J["Thorax"]], axis=-1).mean() < 25
        assert np.linalg.norm(ours[:, J["Spine"]] - px[:, J["Spine"]], axis=-1).mean() < 15
        np.testing.assert_allclose(s, 0.9)


def test_mapping_names_each_side_and_the_head_fallbacks():
    xy = np.arange(17 * 2, dtype=float).reshape(1, 17, 2)
    score = np.ones((1, 17))
    ours, _ = to_h36m16(xy, score, "coco17")
    assert ours[0, J["LWrist"]].tolist() == xy[0, COCO17_NAMES.index("left_wrist")].tolist()
    assert ours[0, J["RAnkle"]].tolist() == xy[0, COCO17_NAMES.index("right_ankle")].tolist()
    face = [COCO17_NAMES.index(n) for n in ("left_eye", "right_eye", "left_ear", "right_ear")]
    np.testing.assert_allclose(ours[0, J["Head"]], xy[0, face].mean(0))
    score[0, face[:3]] = 0.1  # only the right ear is confident: the head is the right ear
    ours, s = to_h36m16(xy, score, "coco17")
    np.testing.assert_allclose(ours[0, J["Head"]], xy[0, face[3]])
    score[0, face[3]] = 0.0  # no eye or ear: the nose
    ours, s = to_h36m16(xy, score, "coco17")
    np.testing.assert_allclose(ours[0, J["Head"]], xy[0, 0])
    assert s[0, J["Head"]] == 1.0
    score[0, 0] = 0.2  # nothing confident: the head is scored low (filled in time later)
    _, s = to_h36m16(xy, score, "coco17")
    assert s[0, J["Head"]] < 0.3
    score[:] = 1.0
    score[0, COCO17_NAMES.index("left_hip")] = 0.1  # a midpoint is as trustworthy as its worse half
    _, s = to_h36m16(xy, score, "coco17")
    assert s[0, J["Pelvis"]] == s[0, J["Spine"]] == 0.1 and s[0, J["Thorax"]] == 1.0


# ----------------------------------------------------------------------------------------------
# gap filling and smoothing


def test_fill_gaps_interpolates_in_time_and_holds_the_edges():
    xy = np.zeros((6, 2, 2))
    xy[:, 0, 0] = [9, 1, 9, 9, 4, 9]  # valid at frames 1 and 4 only
    xy[:, 1] = 7.0
    valid = np.ones((6, 2), bool)
    valid[[0, 2, 3, 5], 0] = False
    out, filled = fill_gaps(xy, valid, "clip", ("a", "b"))
    np.testing.assert_allclose(out[:, 0, 0], [1, 1, 2, 3, 4, 4])
    np.testing.assert_array_equal(out[:, 1], xy[:, 1])
    np.testing.assert_array_equal(filled, ~valid)
    valid[:, 1] = False
    with pytest.raises(DataError, match="clip: joint\\(s\\) b are not detected"):
        fill_gaps(xy, valid, "clip", ("a", "b"))
    with pytest.raises(DataError, match="clip: no person in any frame"):
        fill_gaps(xy, np.zeros((6, 2), bool), "clip", ("a", "b"))


def test_savitzky_golay_keeps_quadratics_and_removes_jitter():
    t = np.arange(40, dtype=float)
    quad = np.stack([0.3 * t**2 - 2 * t + 5, -t], -1)[:, None, :]  # (T, 1, 2)
    np.testing.assert_allclose(savgol_smooth(quad, 7, 2), quad, atol=1e-8)  # edges included
    rng = np.random.default_rng(0)
    noisy = quad + rng.normal(size=quad.shape)
    resid = savgol_smooth(noisy, 11, 2) - quad
    assert resid.std() < 0.6 * (noisy - quad).std()
    assert smoothing_window(30, 500) == 7 and smoothing_window(50, 500) == 11 and smoothing_window(25, 500) == 5
    assert smoothing_window(50, 8) == 7 and smoothing_window(30, 4) is None
    with pytest.raises(ValueError, match="odd"):
        savgol_smooth(quad, 6, 2)


def test_smoothing_is_applied_only_when_asked(synthetic):
    rng = np.random.default_rng(1)
    px = synthetic["pixels"] + rng.normal(scale=3.0, size=synthetic["pixels"].shape)
    kp = keypoints_from_array(px)
    raw = prepare_2d(kp, (W, H))
    smooth = prepare_2d(kp, (W, H), smooth=True, fps=50)
    np.testing.assert_allclose(raw.pixels, px)
    assert smooth.smoothing == {
        "method": "savitzky-golay",
        "window": 11,
        "polyorder": 2,
        "fps": 50,
        "fps_assumed": False,
    }
    err = lambda p: np.linalg.norm(p - synthetic["pixels"], axis=-1).mean()  # noqa: E731
    assert err(smooth.pixels) < 0.7 * err(raw.pixels)


# ----------------------------------------------------------------------------------------------
# readers and person selection


def test_person_selection_keeps_the_highest_scoring_person(tmp_path, coco_input):
    coco, score = coco_input[0][:10], coco_input[1][:10]
    decoy = coco + 300.0
    path = write_coco_results(
        tmp_path / "res.json", coco, score, {2: (decoy[2], score[2], 0.5), 5: (decoy[5], score[5], 0.99)}
    )
    kp = read_keypoints(path)
    assert kp.layout == "coco17" and len(kp) == 10
    np.testing.assert_allclose(kp.xy[2], coco[2])  # the other person scored lower
    np.testing.assert_allclose(kp.xy[5], decoy[5])  # here the other one scored higher
    assert kp.people.tolist() == [1, 1, 2, 1, 1, 2, 1, 1, 1, 1]
    assert any("2 of 10 frames had several people" in n for n in kp.notes)
    # OpenPose: person score = mean confidence
    b25 = body25_from_coco(coco, score)
    weak = b25.copy()
    weak[..., 2] = 0.2
    weak[..., :2] += 300
    kp = read_keypoints(write_openpose(tmp_path / "op", b25, {3: weak[3]}))
    assert kp.layout == "body25" and kp.people[3] == 2
    np.testing.assert_allclose(kp.xy[3], b25[3, :, :2])


def test_image_id_gaps_are_frames_without_a_person(tmp_path, coco_input):
    coco, score = coco_input[0][:6], coco_input[1][:6]
    entries = [
        {"image_id": 10 + t, "keypoints": np.concatenate([coco[t], score[t][:, None]], -1).ravel().tolist()}
        for t in (0, 1, 3, 4, 5)
    ]  # image 12 has no detection
    path = tmp_path / "gap.json"
    path.write_text(json.dumps(entries))
    kp = read_keypoints(path)
    assert len(kp) == 6 and kp.people.tolist() == [1, 1, 0, 1, 1, 1]
    prep = prepare_2d(kp, (W, H))
    assert prep.filled[2].all() and not prep.filled[[0, 1, 3]].any()
    ours = to_h36m16(coco, score, "coco17")[0]
    np.testing.assert_allclose(prep.pixels[2], (ours[1] + ours[3]) / 2)  # interpolated between its neighbours
    assert any("1 of 6 frames had no person" in n for n in prep.notes)


def test_mmpose_layouts_and_arrays_read_the_same(tmp_path, coco_input):
    coco, score = coco_input[0][:5], coco_input[1][:5]

    def inst(t, shift=0.0, s=1.0):
        return {
            "keypoints": (coco[t] + shift).tolist(),
            "keypoint_scores": (score[t] * s).tolist(),
            "bbox": [[0, 0, 1, 1]],
        }

    per_frame = [[inst(t), inst(t, 200, 0.5)] for t in range(5)]
    (tmp_path / "list.json").write_text(json.dumps(per_frame))
    (tmp_path / "demo.json").write_text(
        json.dumps(
            {"meta_info": {}, "instance_info": [{"frame_id": t + 1, "instances": f} for t, f in enumerate(per_frame)]}
        )
    )
    folder = tmp_path / "mmpose"
    folder.mkdir()
    for t, f in enumerate(per_frame):
        (folder / f"frame_{t}.json").write_text(json.dumps(f))
    np.save(tmp_path / "kp.npy", np.concatenate([coco, score[..., None]], -1))
    np.savez(tmp_path / "kp.npz", keypoints=coco, scores=score, image_size=np.array([W, H]))
    for path in ("list.json", "demo.json", "mmpose", "kp.npy", "kp.npz"):
        kp = read_keypoints(tmp_path / path)
        assert kp.layout == "coco17", path
        np.testing.assert_allclose(kp.xy, coco, err_msg=path)
        np.testing.assert_allclose(kp.score, score, err_msg=path)
    assert read_keypoints(tmp_path / "kp.npz").image_size == (W, H)
    assert read_keypoints(tmp_path / "list.json").people.tolist() == [2] * 5
    one = write_openpose(tmp_path / "op", body25_from_coco(coco, score)) / "clip_000000000003_keypoints.json"
    kp = read_keypoints(one)  # a single OpenPose file is one frame
    assert kp.layout == "body25" and len(kp) == 1
    np.testing.assert_allclose(to_h36m16(kp.xy, kp.score, "body25")[0], to_h36m16(coco[3:4], score[3:4], "coco17")[0])


# ----------------------------------------------------------------------------------------------
# lifting: accuracy against the truth, and what breaks it


def test_lifted_3d_matches_the_truth_and_a_wrong_mapping_or_image_size_does_not(synthetic, run, coco_input):
    coco, score = to_wide(coco_input[0]), coco_input[1]
    truth = synthetic["truth"]
    direct = predict_3d(as_lifter(run["net"]), synthetic["pose2d"])  # exact 16 joints, no mapping
    assert mpjpe_mm(direct, truth) < BOUND_MM - 10
    lifted = lift_keypoints(run["path"], np.concatenate([coco, score[..., None]], -1), WIDE)
    assert lifted.shape == truth.shape and np.all(lifted[:, 0] == 0)
    assert mpjpe_mm(lifted, truth) < BOUND_MM
    swap = [
        COCO17_NAMES.index(n.replace("left", "@").replace("right", "left").replace("@", "right")) for n in COCO17_NAMES
    ]
    swapped = lift_keypoints(run["path"], coco[:, swap], WIDE, scores=score)
    assert mpjpe_mm(swapped, truth) > BOUND_MM + 40
    for size in ((W, H), WIDE[::-1]):
        wrong = lift_keypoints(run["path"], coco, size, scores=score)
        assert mpjpe_mm(wrong, truth) > BOUND_MM + 40, size


def test_lifting_from_files_in_every_format(synthetic, run, coco_input, tmp_path):
    """Each reader's output, through the same steps as ``dhaug lift``, lands within the bound; missing
    joints and frames are filled first."""
    coco, score = to_wide(coco_input[0]), coco_input[1].copy()
    score[40:60, COCO17_NAMES.index("left_wrist")] = 0.05  # a wrist lost for 20 frames
    b25 = body25_from_coco(coco, score)
    b25[70:75] = 0.0  # OpenPose: nobody found in 5 frames
    np.savez(tmp_path / "ours.npz", keypoints=to_wide(synthetic["pixels"]), image_size=np.array(WIDE))
    lifter = as_lifter(run["path"])
    for path in (
        write_coco_results(tmp_path / "coco.json", coco, score),
        write_openpose(tmp_path / "op", b25),
        tmp_path / "ours.npz",
    ):
        kp = read_keypoints(path)
        prep = prepare_2d(kp, kp.image_size or WIDE)
        err = mpjpe_mm(predict_3d(lifter, prep.normalised), synthetic["truth"])
        assert err < BOUND_MM, (path, err)
    assert prep.filled.sum() == 0
    kp = read_keypoints(tmp_path / "op")
    prep = prepare_2d(kp, WIDE)
    assert prep.filled[70:75].all() and prep.filled.sum() == 5 * 16 + 20  # the frames, and the wrist
    assert prep.filled[40:60, J["LWrist"]].all()


def test_multi_frame_models_see_edge_replicated_windows_at_the_training_rate(synthetic, tmp_path):
    from dhaug.models import VideoPoseTemporal

    torch.manual_seed(0)
    net = VideoPoseTemporal((3,), channels=16, dropout=0.0).eval()
    px = synthetic["pixels"][:20]
    lifted = lift_keypoints(net, px, (W, H), step=2)
    x = torch.as_tensor(synthetic["pose2d"][:20])
    idx = np.clip(np.arange(20)[:, None] + [-2, 0, 2], 0, 19)
    with torch.no_grad():
        want = net(x[idx]).numpy()
    np.testing.assert_allclose(lifted, want - want[:, :1], atol=1e-5)
    lifter = as_lifter(net)
    lifter.train_fps = 5.0
    assert window_step(lifter, 50.0) == 10 and window_step(lifter, None) == 1 and window_step(lifter, 3.0) == 1
    # from a checkpoint: the window and the training rate (50 fps / data.downsample) come from its config
    cfg = load_config(
        None,
        [
            "model.name=videopose",
            "model.frames=3",
            "model.architecture=[3]",
            "model.channels=16",
            "model.dropout=0",
            "data.downsample=5",
        ],
    )
    checkpoint.save_atomic({"model": net.state_dict(), "config": cfg.to_dict(), "epoch": 0}, tmp_path / "v.pt")
    from_file = as_lifter(tmp_path / "v.pt", "cpu")
    assert from_file.frames == 3 and from_file.train_fps == 10.0 and window_step(from_file, 50.0) == 5
    np.testing.assert_allclose(
        lift_keypoints(from_file, px, (W, H), fps=50.0, flip_test=False),
        lift_keypoints(net, px, (W, H), step=5),
        atol=1e-5,
    )


def test_animation_frames_play_in_real_time():
    shown, rate = animation_frames(1000, 50.0)
    assert len(shown) <= 100 and rate == pytest.approx(50.0 / (shown[1] - shown[0]))
    shown, rate = animation_frames(40, 50.0)
    assert shown.tolist() == list(range(0, 40, 2)) and rate == 25.0


# ----------------------------------------------------------------------------------------------
# the command


def test_cli_lifts_a_coco_file_end_to_end(synthetic, run, coco_input, tmp_path, monkeypatch, capsys):
    import dhaug.lift

    monkeypatch.setattr(dhaug.lift, "MAX_ANIMATION_FRAMES", 4)  # a short GIF: rendering is the slow part
    coco, score = to_wide(coco_input[0]), coco_input[1].copy()
    score[10:15, COCO17_NAMES.index("right_knee")] = 0.0
    decoy = {7: (coco[7] + 250.0, score[7], 0.3)}
    src = write_coco_results(tmp_path / "dets.json", coco, score, decoy)
    out = tmp_path / "lifted"
    args = [
        "lift",
        "--checkpoint",
        str(run["path"]),
        "--keypoints",
        str(src),
        "--image-size",
        *map(str, WIDE),
        "--fps",
        "50",
        "--smooth",
        "--out",
        str(out),
        "--no-progress",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    T = len(coco)
    assert f"1 of {T} frames had several people" in printed and f"lifted {T} frames" in printed
    with np.load(out / "lifted.npz") as f:
        assert f["pose3d"].shape == (T, 16, 3) and f["pose2d_input"].shape == (T, 16, 2)
        assert f["pose2d"].shape == (T, 16, 2) and f["scores"].shape == (T, 16)
        assert f["filled"][10:15, J["RKnee"]].all() and f["filled"].sum() == 5
        assert f["joint_names"].tolist() == list(H36M16.joint_names)
        assert mpjpe_mm(f["pose3d"], synthetic["truth"]) < BOUND_MM
        np.testing.assert_allclose(f["pose2d"], f["pose2d_input"] / 1920 * 2 - [1, 1080 / 1920], atol=1e-5)
    meta = json.loads((out / "lifted.json").read_text())
    assert meta["source"] == str(src) and meta["checkpoint"] == str(run["path"])
    assert meta["person_selection"]["frames_with_several_people"] == 1
    assert meta["smoothing"]["window"] == 11 and meta["image_size"] == list(WIDE)
    assert np.asarray(meta["pose3d"]).shape == (T, 16, 3) and len(meta["joint_names"]) == 16
    for f in ("lifted.png", "lifted.gif"):
        assert (out / f).stat().st_size > 1000, f
    from PIL import Image

    assert Image.open(out / "lifted.gif").n_frames == 4
    # an existing result is kept unless --force
    assert main(args) == 2
    assert "already holds lifted.npz" in capsys.readouterr().err
    assert main(args + ["--force", "--bvh"]) == 0
    import bvhio  # test-only dependency (pyproject [test])

    bvh = bvhio.readAsBvh(str(out / "lifted.bvh"))
    assert bvh.FrameCount == T and bvh.FrameTime == pytest.approx(1 / 50)
    res = json.loads((out / "lifted.json").read_text())["bvh_residual_mm"]  # reported (test_bvh checks its truth)
    assert 0 < res["mean"] <= res["max"]


def test_cli_writes_an_mp4_when_ffmpeg_is_on_the_path(synthetic, run, tmp_path, monkeypatch, capsys):
    """A stand-in ``ffmpeg`` that swallows the frames and writes its output file: the video path runs."""
    import dhaug.lift

    monkeypatch.setattr(dhaug.lift, "MAX_ANIMATION_FRAMES", 3)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "ffmpeg"
    fake.write_text('#!/bin/sh\ncat > /dev/null\nfor last in "$@"; do :; done\necho video > "$last"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    np.savez(tmp_path / "clip.npz", keypoints=synthetic["pixels"][:12], image_size=np.array([W, H]))
    assert (
        main(
            [
                "lift",
                "--checkpoint",
                str(run["path"]),
                "--keypoints",
                str(tmp_path / "clip.npz"),
                "--out",
                str(tmp_path / "o"),
                "--no-progress",
            ]
        )
        == 0
    )
    assert (tmp_path / "o" / "lifted.mp4").read_text() == "video\n"
    assert "lifted.mp4" in json.loads((tmp_path / "o" / "lifted.json").read_text())["files"]


def _bad_inputs(tmp, coco):
    """(name, path, extra CLI args, expected message) for each kind of bad input."""
    ok = np.concatenate([coco[:5], np.full((5, 17, 1), 0.9)], -1)
    cases = []
    np.save(tmp / "shape.npy", np.zeros((5, 18, 2)))
    cases.append(("wrong shape", tmp / "shape.npy", [], "keypoints have shape (5, 18, 2); expected (T, 17|25|16, 2|3)"))
    nan = ok.copy()
    nan[2, 3, 0] = np.nan
    np.savez(tmp / "nan.npz", keypoints=nan, image_size=np.array([W, H]))
    cases.append(("NaN", tmp / "nan.npz", [], "NaN or inf in the coordinates (first at frame 2, joint 3)"))
    (tmp / "nokp.json").write_text(json.dumps([{"image_id": 0, "score": 1.0}]))
    cases.append(("missing key", tmp / "nokp.json", ["--image-size", "640", "480"], "entry 0 has no 'keypoints'"))
    (tmp / "short.json").write_text(json.dumps([{"image_id": 0, "keypoints": [1.0] * 50}]))
    cases.append(("wrong length", tmp / "short.json", ["--image-size", "640", "480"], "'keypoints' has 50 numbers"))
    (tmp / "broken.json").write_text('[{"image_id": 0, "keypoints": [1, 2,')
    cases.append(("unreadable JSON", tmp / "broken.json", ["--image-size", "640", "480"], "not valid JSON"))
    empty = tmp / "empty_op"
    empty.mkdir()
    for t in range(3):
        (empty / f"v_{t}_keypoints.json").write_text(json.dumps({"people": []}))
    cases.append(("no person", empty, ["--image-size", "640", "480"], "no person in any of the 3 frames"))
    low = ok.copy()
    low[..., 2] = 0.1
    np.save(tmp / "low.npy", low)
    cases.append(("no confident person", tmp / "low.npy", ["--image-size", "640", "480"], "no person in any of the 5"))
    nopeople = tmp / "nopeople_op"
    nopeople.mkdir()
    (nopeople / "v_0_keypoints.json").write_text(json.dumps({"version": 1.3}))
    cases.append(("OpenPose without people", nopeople, ["--image-size", "640", "480"], "no 'people' list"))
    np.save(tmp / "ok.npy", ok)
    cases.append(("zero image size", tmp / "ok.npy", ["--image-size", "0", "480"], "image size must be positive"))
    cases.append(("no image size", tmp / "ok.npy", [], "does not carry the image size; give --image-size"))
    cases.append(("missing file", tmp / "nothing.json", [], "keypoint file"))
    return cases


def test_bad_input_is_one_error_line_naming_the_file(run, coco_input, tmp_path, capsys):
    for name, path, extra, message in _bad_inputs(tmp_path, coco_input[0]):
        code = main(
            [
                "lift",
                "--checkpoint",
                str(run["path"]),
                "--keypoints",
                str(path),
                "--out",
                str(tmp_path / "out"),
                "--no-progress",
                *extra,
            ]
        )
        err = capsys.readouterr().err
        assert code == 2, name
        assert err.startswith("error: ") and err.count("\n") == 1, (name, err)
        assert message in err and str(path) in err, (name, err)
    assert not (tmp_path / "out" / "lifted.npz").exists()
