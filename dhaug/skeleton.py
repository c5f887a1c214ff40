"""Joint layouts: the 16-joint H36M layout used by SemGCN / PoseAug / DH-AUG, and the 17-joint
VideoPose3D layout, with the mapping between them and the 32-joint Human3.6M mocap skeleton.

Everything here is constant data plus two pure functions (``mirror_pose``, ``bone_lengths``);
no state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Skeleton:
    """A joint layout: names, parent of each joint (-1 for the root), left/right joint lists."""

    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def bones(self) -> tuple[tuple[int, int], ...]:
        """(parent, child) pairs in joint order, one per non-root joint."""
        return tuple((p, j) for j, p in enumerate(self.parents) if p >= 0)

    @property
    def flip_permutation(self) -> tuple[int, ...]:
        """Joint permutation that swaps left and right (used with x -> -x for mirroring)."""
        perm = list(range(self.num_joints))
        for a, b in zip(self.left, self.right):
            perm[a], perm[b] = b, a
        return tuple(perm)

    def index(self, name: str) -> int:
        try:
            return self.joint_names.index(name)
        except ValueError:
            raise KeyError(f"joint {name!r} is not in layout {self.name!r}: {self.joint_names}") from None


H36M16 = Skeleton(
    name="h36m16",
    joint_names=(
        "Pelvis",
        "RHip",
        "RKnee",
        "RAnkle",
        "LHip",
        "LKnee",
        "LAnkle",
        "Spine",
        "Thorax",
        "Head",
        "LShoulder",
        "LElbow",
        "LWrist",
        "RShoulder",
        "RElbow",
        "RWrist",
    ),
    parents=(-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 8, 10, 11, 8, 13, 14),
    left=(4, 5, 6, 10, 11, 12),
    right=(1, 2, 3, 13, 14, 15),
)

VPOSE17 = Skeleton(
    name="h36m17",
    joint_names=(
        "Pelvis",
        "RHip",
        "RKnee",
        "RAnkle",
        "LHip",
        "LKnee",
        "LAnkle",
        "Spine",
        "Thorax",
        "Nose",
        "Head",
        "LShoulder",
        "LElbow",
        "LWrist",
        "RShoulder",
        "RElbow",
        "RWrist",
    ),
    parents=(-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15),
    left=(4, 5, 6, 11, 12, 13),
    right=(1, 2, 3, 14, 15, 16),
)

#: Bone lengths (metres) of Human3.6M subject S1 in the order of ``H36M16.bones`` (method.md §1): the
#: template used when no training data is at hand (previews, benchmarks, tests).
S1_BONE_LENGTHS = (
    0.133,
    0.443,
    0.454,
    0.133,
    0.443,
    0.454,
    0.234,
    0.257,
    0.182,
    0.151,
    0.279,
    0.252,
    0.151,
    0.279,
    0.252,
)

#: Indices into the 32-joint Human3.6M mocap skeleton of the 16 joints of :data:`H36M16`.
H36M32_TO_16 = (0, 1, 2, 3, 6, 7, 8, 12, 13, 15, 17, 18, 19, 25, 26, 27)
#: Indices into the 32-joint skeleton of the 17 joints of :data:`VPOSE17`.
H36M32_TO_17 = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)
#: Indices into the 17-joint layout of the 16 joints of :data:`H36M16` (drops Neck/Nose, index 9).
VPOSE17_TO_16 = (0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16)

#: Joints of the 32-joint mocap skeleton that no lifting code uses (may be NaN in shared files).
H36M32_UNUSED = tuple(sorted(set(range(32)) - set(H36M32_TO_17)))


def mirror_pose(pose, skeleton: Skeleton = H36M16):
    """Mirror poses left/right: negate x and swap left and right joints.

    Args:
        pose: (..., J, D) tensor or array, D = 2 or 3, x in channel 0.
    Returns:
        The mirrored poses, same type and shape.
    """
    perm = list(skeleton.flip_permutation)
    sign = [-1.0] + [1.0] * (pose.shape[-1] - 1)
    if isinstance(pose, torch.Tensor):  # index_select: ~200x faster on CPU than pose[..., perm, :]
        out = pose.index_select(-2, torch.tensor(perm, device=pose.device))
        return out * torch.tensor(sign, dtype=pose.dtype, device=pose.device)
    return np.take(pose, perm, axis=-2) * np.asarray(sign, dtype=pose.dtype)


def bone_lengths(pose, skeleton: Skeleton = H36M16):
    """Lengths of every bone, in the order of :attr:`Skeleton.bones`.

    Args:
        pose: (..., J, 3) tensor or array.
    Returns:
        (..., J-1) lengths.
    """
    parents = [p for p, _ in skeleton.bones]
    children = [c for _, c in skeleton.bones]
    vec = pose[..., children, :] - pose[..., parents, :]
    if isinstance(pose, torch.Tensor):
        return torch.linalg.norm(vec, dim=-1)
    return np.linalg.norm(vec, axis=-1)
