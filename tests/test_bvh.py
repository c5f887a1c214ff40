"""BVH export: read back by an independent reader (bvhio), joint positions, frame count and time, smooth
channels, and the command's errors."""

import bvhio
import numpy as np
import pytest
import torch

from dhaug.cli import main
from dhaug.kinematics import CLAVICLE, PAPER, forward_kinematics
from dhaug.kinematics.bvh import TO_BVH, bvh_layout, continuous_euler, motion_to_bvh
from dhaug.skeleton import H36M16

BONES = torch.tensor(
    [0.13, 0.45, 0.44, 0.13, 0.45, 0.44, 0.23, 0.25, 0.2, 0.15, 0.28, 0.25, 0.15, 0.28, 0.25], dtype=torch.float64
)


def reachable_motion(model, T=30, seed=0, turns=1.5):
    """A smooth motion the body model can make: DOFs interpolated between two random poses, the body
    turning ``turns`` times about the vertical while walking off the origin."""
    g = torch.Generator().manual_seed(seed)
    t = torch.linspace(0, 1, T, dtype=torch.float64)[:, None]
    a, b = ((torch.rand(1, model.num_dofs, generator=g, dtype=torch.float64) - 0.5) * 0.8 for _ in range(2))
    rot = torch.cat([0.15 * torch.sin(6 * t), -0.2 * t, 2 * np.pi * turns * t], 1)
    root = torch.cat([t, 2 * t, 0.9 + 0.05 * torch.sin(9 * t)], 1)
    return forward_kinematics(model, a + (b - a) * t, BONES.expand(T, 15), rot, root).numpy()


def read_back(path):
    """World positions (T, 16, 3), metres, model axes, of the H36M16 joints in a BVH file, by bvhio."""
    root = bvhio.readAsHierarchy(str(path))
    bvh = bvhio.readAsBvh(str(path))
    out = np.zeros((bvh.FrameCount, 16, 3))
    seen = set()
    for f in range(bvh.FrameCount):
        root.loadPose(f)
        for joint, _, _ in root.layout():
            if joint.Name in H36M16.joint_names:
                out[f, H36M16.joint_names.index(joint.Name)] = np.array(joint.PositionWorld)
                seen.add(joint.Name)
    assert seen == set(H36M16.joint_names)
    return (out / 100.0) @ TO_BVH  # cm, BVH axes -> metres, model axes (TO_BVH is orthogonal)


@pytest.mark.parametrize("model", [CLAVICLE, PAPER], ids=lambda m: m.name)
def test_reachable_motion_is_read_back_within_a_millimetre(model, tmp_path):
    P = reachable_motion(model)
    motion = motion_to_bvh(P, 25.0, body_model=model.name)
    assert motion.residual_mm.max() < 1e-3  # IK of a reachable pose is exact
    path = tmp_path / "m.bvh"
    path.write_text(motion.text)
    bvh = bvhio.readAsBvh(str(path))
    assert bvh.FrameCount == len(P) and bvh.FrameTime == pytest.approx(1 / 25)
    err_mm = np.linalg.norm(read_back(path) - P, axis=-1) * 1000
    assert err_mm.max() < 1.0, err_mm.max()
    np.testing.assert_allclose(motion.bones, BONES.numpy(), atol=1e-9)


def test_unreachable_motion_is_read_back_within_its_reported_residual(tmp_path):
    rng = np.random.default_rng(0)
    P = reachable_motion(CLAVICLE, T=20)
    P = P + rng.normal(0, 0.01, P.shape)  # 1 cm noise: bone lengths vary per frame, hips leave the pelvis line
    motion = motion_to_bvh(P, 30.0)
    assert 1.0 < motion.residual_mm.mean() < 40.0
    path = tmp_path / "noisy.bvh"
    path.write_text(motion.text)
    err_mm = np.linalg.norm(read_back(path) - P, axis=-1) * 1000
    np.testing.assert_allclose(err_mm, motion.residual_mm, atol=0.05)


def test_channels_change_smoothly_through_full_turns():
    P = reachable_motion(CLAVICLE, T=60, turns=2.0)  # 720 degrees about the vertical
    lines = motion_to_bvh(P, 30.0).text.split("MOTION")[1].strip().splitlines()[2:]
    values = np.array([[float(v) for v in line.split()] for line in lines])
    step = np.abs(np.diff(values[:, 3:], axis=0))
    assert step.max() < 20.0, step.max()  # degrees per frame: no flips, no 360-degree wraps
    assert np.ptp(values[:, 3:6], axis=0).max() > 600  # the root's angle keeps counting past 360


def test_euler_solutions_are_the_same_rotations():
    R = torch.linalg.qr(torch.randn(50, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1)))[0]
    R = (R * torch.linalg.det(R)[:, None, None]).numpy()  # proper rotations
    zxy = np.radians(continuous_euler(R[:, None]))[:, 0]

    def rz(a):
        return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])

    def rx(a):
        return np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])

    def ry(a):
        return np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])

    for (z, x, y), M in zip(zxy, R):
        np.testing.assert_allclose(rz(z) @ rx(x) @ ry(y), M, atol=1e-9)


def test_layout_names_every_joint_once_and_parents_come_first():
    for model in (PAPER, CLAVICLE):
        layout = bvh_layout(model)
        names = [j.name for j in layout]
        assert len(set(names)) == len(names) and set(H36M16.joint_names) <= set(names)
        assert all(j.parent < i for i, j in enumerate(layout))
        assert sorted(j.name for j in layout if j.terminal) == ["Head", "LAnkle", "LWrist", "RAnkle", "RWrist"]


def test_cli_exports_cross_files_and_lift_output(tmp_path, capsys):
    P = reachable_motion(CLAVICLE, T=12)
    cam = np.stack([P[..., 0], -P[..., 2], P[..., 1]], -1)  # upright -> camera axes (x, -z, y)
    cross = tmp_path / "cross.npz"
    np.savez(
        cross,
        pose3d=np.concatenate([cam[:5], cam]) * 1000.0,
        seq=np.repeat([0, 1], [5, 12]),
        frame=np.concatenate([np.arange(5), np.arange(12)[::-1]]),
        fps=np.float32(50),
    )
    out = tmp_path / "seq1.bvh"
    assert main(["export-bvh", str(cross), "--sequence", "1", "--out", str(out)]) == 0
    assert "12 frames at 50 fps" in capsys.readouterr().out
    np.testing.assert_allclose(read_back(out), P[::-1], atol=1e-3)  # rows ordered by 'frame'
    lifted = tmp_path / "lifted.npz"
    np.savez(lifted, pose3d=cam - cam[:, :1], pose2d_input=np.zeros((12, 16, 2)), fps=np.float32(np.nan))
    assert main(["export-bvh", str(lifted), "--out", str(tmp_path / "l.bvh"), "--smooth", "1"]) == 0
    assert bvhio.readAsBvh(str(tmp_path / "l.bvh")).FrameTime == pytest.approx(1 / 30)


@pytest.mark.parametrize(
    "case, message",
    [
        (["--out", "{tmp}/x.txt"], "ending in .bvh"),
        (["--out", "{tmp}/old.bvh"], "exists; give --force"),
        (["--out", "{tmp}/y.bvh", "--sequence", "7"], "--sequence 7"),
        (["--out", "{tmp}/y.bvh", "--sequence", "walk"], "sequences are numbers"),
        (["--out", "{tmp}/y.bvh", "--fps", "0"], "--fps must be a positive"),
        (["--out", "{tmp}/y.bvh", "--smooth", "-1"], "--smooth"),
    ],
)
def test_bad_input_is_one_error_line(tmp_path, capsys, case, message):
    cross = tmp_path / "cross.npz"
    np.savez(cross, pose3d=np.ones((4, 16, 3)), seq=np.zeros(4, int))
    (tmp_path / "old.bvh").write_text("kept")
    args = ["export-bvh", str(cross)] + [a.format(tmp=tmp_path) for a in case]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and message in err[0], err
    assert (tmp_path / "old.bvh").read_text() == "kept" and not (tmp_path / "y.bvh").exists()


def test_missing_or_wrong_files_are_named(tmp_path, capsys):
    assert main(["export-bvh", str(tmp_path / "none.npz"), "--out", str(tmp_path / "a.bvh")]) == 2
    assert "none.npz: not found" in capsys.readouterr().err
    bad = tmp_path / "bad.npz"
    np.savez(bad, pose3d=np.ones((4, 17, 3)), seq=np.zeros(4, int))
    assert main(["export-bvh", str(bad), "--out", str(tmp_path / "a.bvh")]) == 2
    assert "(T, 16, 3)" in capsys.readouterr().err
