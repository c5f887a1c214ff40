"""PoseAug's differentiable pose operations (Gong et al., CVPR 2021): bone-angle (BA) and bone-length
(BL) changes re-assembled along the kinematic tree, the rotation of RT, and the part-aware Kinematic
Chain Space its 3D discriminator reads. Root-relative poses (..., 16, 3); bones in
:func:`~dhaug.augment.common.bone_vectors` order."""

from __future__ import annotations

import torch
from torch import nn

from ...skeleton import H36M16
from ..common import bone_vectors

#: Bones (indices into :attr:`H36M16.bones`; bone i ends at joint i + 1) of each part whose KCS the 3D
#: discriminator judges.
PARTS = {
    "torso": (0, 3, 6, 7, 8, 9, 12),
    "left_arm": (7, 9, 10, 11),
    "right_arm": (7, 12, 13, 14),
    "right_leg": (0, 1, 2, 3, 6),
    "left_leg": (0, 3, 4, 5, 6),
}

#: Bones whose direction BA keeps with ``poseaug.fix_backbone``: pelvis->spine, spine->thorax.
BACKBONE = (6, 7)

#: BL ratio of each bone (left and right share one): hips, thighs, shins, pelvis->spine, spine->thorax,
#: neck/head, clavicles, upper arms, forearms.
BL_GROUP = (0, 1, 2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 6, 7, 8)

#: The BL ratio held at 0 (spine->thorax).
BL_FIXED = 4


def ancestors(parents=H36M16.parents) -> torch.Tensor:
    """(J, J-1) 0/1 matrix: entry (j, b) = 1 when bone b (ending at joint b + 1) lies on the path from the
    root to joint j, so that ``joints = ancestors() @ bones``."""
    J = len(parents)
    A = torch.zeros(J, J - 1)
    for j in range(1, J):
        k = j
        while k > 0:
            A[j, k - 1] = 1
            k = parents[k]
    return A


_ANCESTORS = ancestors()


def assemble(bones: torch.Tensor) -> torch.Tensor:
    """Bone vectors (..., 15, 3) (child minus parent, :func:`~dhaug.augment.common.bone_vectors` order) ->
    joints (..., 16, 3) with the pelvis at the origin: each joint is its parent plus its bone."""
    return torch.einsum("jb,...bd->...jd", _ANCESTORS.to(bones), bones)


def bone_angle_change(
    pose: torch.Tensor, residual: torch.Tensor, fixed: tuple[int, ...] = BACKBONE
) -> tuple[torch.Tensor, torch.Tensor]:
    """BA: new bone directions ``normalise(u + residual)`` with the old lengths.

    Args:
        pose: (..., 16, 3) root-relative poses.  residual: (..., 15, 3).  fixed: bones that keep their direction.
    Returns:
        (..., 16, 3) root-relative poses and the change ``1 - cos`` of every bone's direction (..., 15).
    """
    b = bone_vectors(pose)
    length = torch.linalg.norm(b, dim=-1, keepdim=True)
    u = b / length.clamp_min(1e-8)
    new = nn.functional.normalize(u + residual, dim=-1, eps=1e-8)
    if fixed:
        keep = torch.zeros(15, 1, dtype=torch.bool, device=pose.device)
        keep[list(fixed)] = True
        new = torch.where(keep, u, new)
    return assemble(new * length), 1 - (new * u).sum(-1)


def bone_length_change(pose: torch.Tensor, raw: torch.Tensor, limit: float = 0.2) -> tuple[torch.Tensor, torch.Tensor]:
    """BL: lengths x (1 + r), r = ``limit`` tanh(raw) per left/right group (:data:`BL_GROUP`), r = 0 for
    the spine->thorax group. pose (..., 16, 3) root-relative, raw (..., 9) -> (poses (..., 16, 3), r (..., 15))."""
    keep = torch.ones(9, dtype=raw.dtype, device=raw.device)
    keep[BL_FIXED] = 0
    r = (limit * torch.tanh(raw * keep))[..., list(BL_GROUP)]
    return assemble(bone_vectors(pose) * (1 + r)[..., None]), r


def rotation_from_axis_angle(r: torch.Tensor) -> torch.Tensor:
    """Rodrigues: axis-angle vectors (..., 3) (angle = length, radians) -> rotation matrices (..., 3, 3);
    smooth at r = 0."""
    theta = torch.sqrt((r * r).sum(-1) + 1e-12)[..., None, None]
    k = r / theta[..., 0]
    zero = torch.zeros_like(k[..., 0])
    K = torch.stack(
        [
            torch.stack([zero, -k[..., 2], k[..., 1]], -1),
            torch.stack([k[..., 2], zero, -k[..., 0]], -1),
            torch.stack([-k[..., 1], k[..., 0], zero], -1),
        ],
        -2,
    )
    eye = torch.eye(3, dtype=r.dtype, device=r.device)
    return eye + torch.sin(theta) * K + (1 - torch.cos(theta)) * (K @ K)


def part_masks(parts=PARTS) -> torch.Tensor:
    """(P, 15) 0/1: the bones of each part."""
    M = torch.zeros(len(parts), 15)
    for i, bones in enumerate(parts.values()):
        M[i, list(bones)] = 1
    return M


def kcs(pose: torch.Tensor, masks: torch.Tensor | None = None) -> torch.Tensor:
    """Part-aware Kinematic Chain Space: per part the Gram matrix ``B B^T`` of the *unit* bone vectors,
    those outside the part zeroed (entry (i, j): cosine of the angle between bones i and j of the part).

    Args:
        pose: (..., 16, 3).  masks: (P, 15) from :func:`part_masks` (default: :data:`PARTS`).
    Returns:
        (..., P, 15, 15), symmetric and invariant to rotations of the pose.
    """
    masks = (part_masks() if masks is None else masks).to(pose)
    u = nn.functional.normalize(bone_vectors(pose), dim=-1, eps=1e-8)
    b = u[..., None, :, :] * masks[:, :, None]  # (..., P, 15, 3)
    return b @ b.transpose(-1, -2)


__all__ = [
    "BACKBONE",
    "BL_FIXED",
    "BL_GROUP",
    "PARTS",
    "ancestors",
    "assemble",
    "bone_angle_change",
    "bone_length_change",
    "kcs",
    "part_masks",
    "rotation_from_axis_angle",
]
