import math

import pytest
import torch

from dhaug.augment.realism import canonical_directions, nearest_real_angle
from dhaug.kinematics import PAPER, forward_kinematics
from dhaug.skeleton import S1_BONE_LENGTHS

S1_BONES = torch.tensor([S1_BONE_LENGTHS])


def random_poses(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    dofs = (torch.rand(n, PAPER.num_dofs, generator=g) - 0.5) * 1.5
    rot = torch.zeros(n, 3)
    rot[:, 2] = (torch.rand(n, generator=g) - 0.5) * 6  # heading only
    return forward_kinematics(PAPER, dofs, S1_BONES.expand(n, 15), rot, torch.zeros(n, 3))


def turn_about_z(pose, angle):
    c, s = math.cos(angle), math.sin(angle)
    R = torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return pose @ R.T


def test_heading_size_and_position_do_not_count():
    poses = random_poses(5)
    moved = 1.3 * turn_about_z(poses, 0.9) + torch.tensor([2.0, -1.0, 0.5])
    torch.testing.assert_close(canonical_directions(moved), canonical_directions(poses), atol=1e-5, rtol=0)
    assert nearest_real_angle(moved, poses).max() < 0.05


def test_nearest_is_found_and_one_bent_bone_counts_its_share():
    ref = random_poses(50, seed=1)
    pose = ref[17:18].clone()
    knee, ankle = 2, 3  # right lower leg: turn it by 90 degrees about an axis across it
    shin = pose[0, ankle] - pose[0, knee]
    axis = torch.linalg.cross(shin, torch.tensor([0.3, 0.2, 0.9]))
    axis = axis / axis.norm()
    turned = torch.linalg.cross(axis, shin)  # the shin turned by 90 degrees about an axis across it
    pose[0, ankle] = pose[0, knee] + turned
    angle = nearest_real_angle(turn_about_z(pose, -2.0), ref)
    torch.testing.assert_close(angle, torch.tensor([90.0 / 15]), atol=0.01, rtol=0)  # one bone of 15 at 90 deg


def test_unreal_poses_score_higher_and_bad_shapes_are_named():
    ref = random_poses(500, seed=2)
    near = random_poses(100, seed=3)
    noise = near + 0.15 * torch.randn(100, 16, 3, generator=torch.Generator().manual_seed(0))
    assert nearest_real_angle(noise, ref).mean() > nearest_real_angle(near, ref).mean() + 5
    with pytest.raises(ValueError, match=r"poses \(3, 15, 3\)"):
        nearest_real_angle(torch.zeros(3, 15, 3), ref)
