import numpy as np
import torch

from dhaug.skeleton import H36M16, H36M32_TO_16, H36M32_TO_17, VPOSE17, VPOSE17_TO_16, bone_lengths, mirror_pose


def test_layout_tables():
    assert H36M16.num_joints == 16 and len(H36M16.bones) == 15
    assert H36M32_TO_16 == (0, 1, 2, 3, 6, 7, 8, 12, 13, 15, 17, 18, 19, 25, 26, 27)
    # the 17 -> 16 mapping drops exactly Neck/Nose and keeps the rest in order
    assert [H36M32_TO_17[i] for i in VPOSE17_TO_16] == list(H36M32_TO_16)
    assert [VPOSE17.joint_names[i] for i in VPOSE17_TO_16] == list(H36M16.joint_names)
    for sk in (H36M16, VPOSE17):
        for p, c in sk.bones:
            assert p < c
        assert len(sk.left) == len(sk.right) == 6


def test_mirror_is_an_involution_and_swaps_sides():
    x = torch.randn(5, 16, 3)
    m = mirror_pose(x)
    assert torch.equal(mirror_pose(m), x)
    assert torch.equal(m[:, 4, 0], -x[:, 1, 0]) and torch.equal(m[:, 13, 1:], x[:, 10, 1:])
    a = np.random.default_rng(0).normal(size=(3, 16, 2)).astype(np.float32)
    assert mirror_pose(a).dtype == np.float32
    np.testing.assert_array_equal(mirror_pose(mirror_pose(a)), a)


def test_bone_lengths_numpy_and_torch_agree():
    x = np.random.default_rng(1).normal(size=(4, 16, 3))
    np.testing.assert_allclose(bone_lengths(x), bone_lengths(torch.as_tensor(x)).numpy())
    assert bone_lengths(x).shape == (4, 15)
    # mirroring preserves the multiset of bone lengths with left/right swapped
    ml = bone_lengths(mirror_pose(x))
    np.testing.assert_allclose(np.sort(ml, -1), np.sort(bone_lengths(x), -1))
