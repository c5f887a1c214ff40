"""The bundled lifter: shipped with the package, small, loads without running code, and lifts a hand-made
COCO file of a person standing facing the camera to a human-sized, upright 3D skeleton."""

import json

import numpy as np

from dhaug import checkpoint
from dhaug.cli import main
from dhaug.lift import bundled_lifter_path, load_lifter
from dhaug.skeleton import H36M16, bone_lengths

#: A person facing the camera in a 1000 x 1000 image, about 600 px tall (COCO order, pixels), by hand.
STANDING = {
    "nose": (500, 205),
    "left_eye": (510, 195),
    "right_eye": (490, 195),
    "left_ear": (522, 200),
    "right_ear": (478, 200),
    "left_shoulder": (560, 270),
    "right_shoulder": (440, 270),
    "left_elbow": (585, 370),
    "right_elbow": (415, 370),
    "left_wrist": (595, 460),
    "right_wrist": (405, 460),
    "left_hip": (535, 480),
    "right_hip": (465, 480),
    "left_knee": (540, 630),
    "right_knee": (460, 630),
    "left_ankle": (542, 775),
    "right_ankle": (458, 775),
}


def test_bundled_weights_are_small_plain_and_carded():
    path = bundled_lifter_path()
    assert path.is_file(), f"{path} is missing: the package ships its lifter"
    assert path.stat().st_size <= 8 * 1024 * 1024
    state = checkpoint.load(path)  # torch.load(weights_only=True): no code runs
    assert set(state) >= {"model", "config", "epoch"}
    card = (path.parent / "MODEL_CARD.md").read_text()
    assert "research use only" in card.lower() and "Human3.6M" in card
    lifter = load_lifter(None, "cpu")
    assert lifter.frames == 1 and lifter.checkpoint == str(path)


def test_lift_without_a_checkpoint_uses_the_bundled_lifter(tmp_path, capsys):
    from dhaug.data.keypoints import COCO17_NAMES

    frames = 3
    kps = np.array([STANDING[n] for n in COCO17_NAMES], dtype=float)
    entries = [
        {
            "image_id": t,
            "category_id": 1,
            "score": 0.95,
            "keypoints": np.concatenate([kps + t, np.full((17, 1), 0.9)], 1).ravel().tolist(),
        }
        for t in range(frames)
    ]
    src = tmp_path / "person.json"
    src.write_text(json.dumps(entries))
    out = tmp_path / "lifted"
    assert (
        main(["lift", "--keypoints", str(src), "--image-size", "1000", "1000", "--out", str(out), "--no-progress"]) == 0
    )
    with np.load(out / "lifted.npz") as f:
        pose = f["pose3d"].astype(np.float64)  # metres, root-relative, camera axes (y down)
    assert pose.shape == (frames, 16, 3)
    b = bone_lengths(pose)
    names = dict(
        zip(
            [
                "r_hip",
                "r_thigh",
                "r_shin",
                "l_hip",
                "l_thigh",
                "l_shin",
                "waist",
                "thorax",
                "neck",
                "l_shoulder",
                "l_upper_arm",
                "l_forearm",
                "r_shoulder",
                "r_upper_arm",
                "r_forearm",
            ],
            b.T,
        )
    )
    for bone, (lo, hi) in {
        "r_thigh": (0.3, 0.55),
        "l_thigh": (0.3, 0.55),
        "r_shin": (0.3, 0.55),
        "l_shin": (0.3, 0.55),
        "r_upper_arm": (0.18, 0.4),
        "l_upper_arm": (0.18, 0.4),
    }.items():
        assert ((lo < names[bone]) & (names[bone] < hi)).all(), (bone, names[bone])
    j = {n: i for i, n in enumerate(H36M16.joint_names)}
    assert (pose[:, j["Head"], 1] < pose[:, j["Pelvis"], 1] - 0.4).all()  # head well above the pelvis
    assert (pose[:, j["RAnkle"], 1] > pose[:, j["Pelvis"], 1] + 0.6).all()  # feet well below
    assert json.loads((out / "lifted.json").read_text())["checkpoint"] == str(bundled_lifter_path())
