"""The DH body model: rest pose, bone preservation, DOF locality, IK∘FK identity, gradients, shapes."""

import math

import numpy as np
import pytest
import torch

from dhaug.kinematics import (
    CLAVICLE,
    PAPER,
    euler_xyz_from_matrix,
    euler_xyz_matrix,
    forward_kinematics,
    inverse_kinematics,
    paper_table,
)
from dhaug.skeleton import H36M16, S1_BONE_LENGTHS, bone_lengths

S1_BONES = list(S1_BONE_LENGTHS)
MODELS = [PAPER, CLAVICLE]


def random_params(model, n, column="normal", seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    lo, hi = paper_table(column).for_model(model, dtype)
    v = lo + (hi - lo) * torch.rand(n, len(lo), generator=g, dtype=dtype)
    bones = torch.tensor(S1_BONES, dtype=dtype) * (0.8 + 0.4 * torch.rand(n, 15, generator=g, dtype=dtype))
    root = torch.randn(n, 3, generator=g, dtype=dtype)
    return v[:, : model.num_dofs], bones, v[:, model.num_dofs :], root


@pytest.mark.parametrize("model", MODELS)
def test_rest_pose_matches_the_specification(model):
    L = dict(zip(["hip", "thigh", "shin"], [0.12, 0.45, 0.43]))
    bones = torch.tensor(
        [
            L["hip"],
            L["thigh"],
            L["shin"],
            L["hip"],
            L["thigh"],
            L["shin"],
            0.23,
            0.26,
            0.18,
            0.15,
            0.28,
            0.25,
            0.15,
            0.28,
            0.25,
        ],
        dtype=torch.float64,
    )
    P = forward_kinematics(model, torch.zeros(model.num_dofs, dtype=torch.float64), bones).numpy()
    zt = 0.23 + 0.26
    expected = {
        0: (0, 0, 0),
        1: (0.12, 0, 0),
        2: (0.12, 0, -0.45),
        3: (0.12, 0, -0.88),
        4: (-0.12, 0, 0),
        5: (-0.12, 0, -0.45),
        6: (-0.12, 0, -0.88),
        7: (0, 0, 0.23),
        8: (0, 0, zt),
        9: (0, 0, zt + 0.18),
        13: (0.15, 0, zt),
        14: (0.15, 0, zt - 0.28),
        15: (0.15, 0, zt - 0.53),
        10: (-0.15, 0, zt),
        11: (-0.15, 0, zt - 0.28),
        12: (-0.15, 0, zt - 0.53),
    }
    for j, xyz in expected.items():
        np.testing.assert_allclose(P[j], xyz, atol=1e-12, err_msg=H36M16.joint_names[j])


def test_knee_and_elbow_directions():
    bones = torch.tensor(S1_BONES, dtype=torch.float64)
    d = torch.zeros(PAPER.num_dofs, dtype=torch.float64)
    d[PAPER.dof_index("r_knee")] = -math.pi / 2
    d[PAPER.dof_index("l_elbow")] = math.pi / 2
    P = forward_kinematics(PAPER, d, bones)
    assert P[3, 1] < -0.4 and abs(P[3, 2] - P[2, 2]) < 1e-12  # ankle moved backward (-Y)
    assert P[12, 1] > 0.2 and abs(P[12, 2] - P[11, 2]) < 1e-12  # wrist moved forward (+Y)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("column", ["normal", "gan"])
def test_bone_lengths_preserved(model, column):
    dofs, bones, rot, root = random_params(model, 500, column)
    P = forward_kinematics(model, dofs, bones, rot, root)
    torch.testing.assert_close(bone_lengths(P), bones, rtol=0, atol=1e-6)


# which joints each DOF group may move (pelvis-relative, before the global transform)
MOVES = {
    "r_hip": {2, 3},
    "r_knee": {3},
    "l_hip": {5, 6},
    "l_knee": {6},
    "pelvis": {7, 8, 9, 10, 11, 12, 13, 14, 15},
    "spine": {8, 9, 10, 11, 12, 13, 14, 15},
    "thorax": {9, 10, 11, 12, 13, 14, 15},
    "neck": {9},
    "r_shoulder": {14, 15},
    "r_elbow": {15},
    "l_shoulder": {11, 12},
    "l_elbow": {12},
    "r_clavicle": {13, 14, 15},
    "l_clavicle": {10, 11, 12},
}


@pytest.mark.parametrize("model", MODELS)
def test_each_dof_moves_only_its_joints(model):
    dofs, bones, _, _ = random_params(model, 20, seed=1)
    base = forward_kinematics(model, dofs, bones)
    for i, name in enumerate(model.dof_names):
        group = name.rsplit("_", 1)[0] if name.rsplit("_", 1)[1].isdigit() or "clavicle" in name else name
        d = dofs.clone()
        d[:, i] += 0.3
        moved = (forward_kinematics(model, d, bones) - base).norm(dim=-1).max(0).values > 1e-9
        assert set(torch.nonzero(moved).flatten().tolist()) == MOVES[group], name


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("column", ["normal", "gan"])
def test_ik_then_fk_is_identity(model, column):
    dofs, bones, rot, root = random_params(model, 3000, column, seed=2)
    P = forward_kinematics(model, dofs, bones, rot, root)
    r = inverse_kinematics(model, P)
    P2 = forward_kinematics(model, r.dofs, r.bones, r.rotation, r.root)
    assert (P2 - P).norm(dim=-1).max() < 1e-5
    torch.testing.assert_close(r.bones, bones, rtol=0, atol=1e-9)


def test_ik_handles_straight_limbs_deterministically():
    bones = torch.tensor(S1_BONES, dtype=torch.float64)
    dofs = torch.zeros(2, PAPER.num_dofs, dtype=torch.float64)
    dofs[1, PAPER.dof_index("r_hip_1")] = 0.4  # straight knee, moved hip
    P = forward_kinematics(PAPER, dofs, bones)
    r1, r2 = inverse_kinematics(PAPER, P), inverse_kinematics(PAPER, P)
    assert torch.equal(r1.dofs, r2.dofs) and torch.isfinite(r1.dofs).all()
    assert (forward_kinematics(PAPER, r1.dofs, r1.bones, r1.rotation, r1.root) - P).norm(dim=-1).max() < 1e-9
    assert r1.dofs[0].abs().max() < 1e-9  # the rest pose comes back as all-zero offsets


def test_paper_model_cannot_place_shoulders_off_the_thorax_line():
    bones = torch.tensor(S1_BONES, dtype=torch.float64)
    d = torch.zeros(CLAVICLE.num_dofs, dtype=torch.float64)
    d[CLAVICLE.dof_index("r_clavicle_up")] = -0.4
    d[CLAVICLE.dof_index("l_clavicle_up")] = -0.4
    P = forward_kinematics(CLAVICLE, d, bones)  # shoulders dropped: thorax above the shoulder line
    r = inverse_kinematics(PAPER, P)
    res = (forward_kinematics(PAPER, r.dofs, r.bones, r.rotation, r.root) - P).norm(dim=-1)
    assert res[13] > 0.01 and res[:10].max() < 1e-9
    rc = inverse_kinematics(CLAVICLE, P)
    assert (forward_kinematics(CLAVICLE, rc.dofs, rc.bones, rc.rotation, rc.root) - P).norm(dim=-1).max() < 1e-9


@pytest.mark.parametrize("model", MODELS)
def test_fk_gradcheck(model):
    dofs, bones, rot, root = random_params(model, 2, seed=3)
    inputs = tuple(t.clone().requires_grad_(True) for t in (dofs, bones, rot, root))
    assert torch.autograd.gradcheck(lambda *a: forward_kinematics(model, *a), inputs)


def test_batch_shapes_and_dtypes_agree():
    dofs, bones, rot, root = random_params(PAPER, 6, seed=4)
    flat = forward_kinematics(PAPER, dofs, bones, rot, root)
    bt = forward_kinematics(PAPER, dofs.view(2, 3, -1), bones.view(2, 3, -1), rot.view(2, 3, 3), root.view(2, 3, 3))
    torch.testing.assert_close(bt.reshape(6, 16, 3), flat)
    single = forward_kinematics(PAPER, dofs[4], bones[4], rot[4], root[4])
    assert single.shape == (16, 3)
    torch.testing.assert_close(single, flat[4])
    f32 = forward_kinematics(PAPER, dofs.float(), bones.float(), rot.float(), root.float())
    assert f32.dtype == torch.float32
    torch.testing.assert_close(f32.double(), flat, rtol=0, atol=1e-5)
    shared_bones = forward_kinematics(PAPER, dofs.view(2, 3, -1), bones[0])  # bones broadcast
    assert shared_bones.shape == (2, 3, 16, 3)


def test_euler_round_trip():
    g = torch.Generator().manual_seed(5)
    a = (torch.rand(1000, 3, generator=g, dtype=torch.float64) - 0.5) * torch.tensor(
        [2 * math.pi, math.pi, 2 * math.pi], dtype=torch.float64
    )
    torch.testing.assert_close(euler_xyz_from_matrix(euler_xyz_matrix(a)), a)


def test_bad_shapes():
    with pytest.raises(ValueError, match="dofs has 5 values"):
        forward_kinematics(PAPER, torch.zeros(5), torch.zeros(15))
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 16, 3\)"):
        inverse_kinematics(PAPER, torch.zeros(3, 17, 3))


def test_fk_matches_the_4x4_reference():
    from dhaug.kinematics.reference import reference_fk

    dofs, bones, rot, root = random_params(PAPER, 200, "gan", seed=6)
    torch.testing.assert_close(
        forward_kinematics(PAPER, dofs, bones, rot, root),
        reference_fk(PAPER, dofs, bones, rot, root),
        rtol=0,
        atol=1e-12,
    )


def test_ik_on_real_h36m_frames():
    from dhaug.data.h36m import load_positions_3d

    from .conftest import shared_file

    pos = load_positions_3d(shared_file("h36m", "data_3d_h36m.npz"))
    P = torch.as_tensor(np.concatenate([a[::20] for a in pos["S9"].values()]), dtype=torch.float64)
    rc = inverse_kinematics(CLAVICLE, P)
    res = (forward_kinematics(CLAVICLE, rc.dofs, rc.bones, rc.rotation, rc.root) - P).norm(dim=-1)
    assert res.max() < 1e-6  # the clavicle model reproduces real poses (float32 data)
    rp = inverse_kinematics(PAPER, P)
    resp = (forward_kinematics(PAPER, rp.dofs, rp.bones, rp.rotation, rp.root) - P).norm(dim=-1)
    assert resp[:, :10].max() < 1e-6 and resp[:, 13].mean() > 0.02  # paper model: shoulders off the thorax line


def test_data_driven_limit_tables():
    from dhaug.kinematics import limit_table
    from dhaug.kinematics.data_limits import angle_statistics, h36m_table, limits_from_statistics

    dofs, _, rot, _ = random_params(CLAVICLE, 4000, "normal", seed=7)
    stats = angle_statistics(CLAVICLE, dofs, rot)
    lo, hi = paper_table("normal").for_model(CLAVICLE, torch.float64)
    table = limits_from_statistics(stats, "t")
    tlo, thi = table.for_model(CLAVICLE, torch.float64)
    assert torch.all(tlo >= lo - 1e-9) and torch.all(thi <= hi + 1e-9) and torch.all(tlo <= thi)
    for name in ("paper", "clavicle"):  # the shipped tables cover every DOF of their model
        shipped = h36m_table(name)
        a, b = shipped.for_model(PAPER if name == "paper" else CLAVICLE)
        assert torch.all(a <= b)
    assert limit_table("h36m", "clavicle").name == "h36m-clavicle" and limit_table("gan").name == "gan"


def test_limit_table_from_poses():
    from dhaug.kinematics.data_limits import table_from_poses

    dofs, bones, rot, root = random_params(PAPER, 3000, "normal", seed=3)
    rot = rot.clone()
    rot[:, 2] = (torch.rand(3000, generator=torch.Generator().manual_seed(0)) * 2 - 1) * math.pi  # any yaw
    world = forward_kinematics(PAPER, dofs, bones, rot, root)
    table = table_from_poses(PAPER, world.float(), margin_deg=5.0)
    gan = paper_table("gan").ranges
    for name, (lo, hi) in table.ranges.items():
        assert gan[name][0] <= lo < hi <= gan[name][1], name  # inside the anatomical table
    assert table.ranges["rot_z"] == (-180.0, 180.0)  # yaw: the whole circle
    lo, hi = table.ranges["r_elbow"]  # the data's 0-135 range, 5 degrees wider where the table allows
    assert lo == 0.0 and abs(hi - 140.0) < 3.0
    with pytest.raises(ValueError, match="shape"):
        table_from_poses(PAPER, world[:, :15])
