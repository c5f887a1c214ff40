"""Batched, differentiable forward kinematics of a :class:`~dhaug.kinematics.body_model.BodyModel`.

Frames are kept as three column vectors (x, y, z axes) and a position, so a modified-DH link
``RotX(alpha) TransX(a) RotZ(theta) TransZ(d)`` costs a few fused vector operations instead of a
4x4 product:

    p  <- p + a * x
    u   = cos(alpha) * y + sin(alpha) * z
    x', y' = cos(theta) * x + sin(theta) * u,  -sin(theta) * x + cos(theta) * u
    z'  = -sin(alpha) * y + cos(alpha) * z
    p  <- p + d * z'

Any leading batch shape works (``()``, ``(B,)``, ``(B, T)``), float32 or float64, CPU or CUDA.
"""
from __future__ import annotations

import math

import torch

from .body_model import BodyModel

NUM_JOINTS = 16


def euler_xyz_matrix(angles: torch.Tensor) -> torch.Tensor:
    """``R = Rx(a_x) Ry(a_y) Rz(a_z)`` (column vectors, applied as R p). angles (..., 3) rad -> (..., 3, 3)."""
    cx, cy, cz = torch.cos(angles).unbind(-1)
    sx, sy, sz = torch.sin(angles).unbind(-1)
    row0 = torch.stack([cy * cz, -cy * sz, sy], -1)
    row1 = torch.stack([sx * sy * cz + cx * sz, -sx * sy * sz + cx * cz, -sx * cy], -1)
    row2 = torch.stack([-cx * sy * cz + sx * sz, cx * sy * sz + sx * cz, cx * cy], -1)
    return torch.stack([row0, row1, row2], -2)


def _rotate_about(frame, axis, angle):
    """Rotate a frame (x, y, z columns) about ``axis`` given in the frame's own coordinates (Rodrigues)."""
    x, y, z = frame
    ax, ay, az = axis
    w = ax * x + ay * y + az * z  # the axis in the outer coordinates, shape (..., 3)
    c, s = torch.cos(angle)[..., None], torch.sin(angle)[..., None]

    def rot(v):
        return v * c + torch.cross(w, v, dim=-1) * s + w * (w * v).sum(-1, keepdim=True) * (1 - c)

    return rot(x), rot(y), rot(z)


def forward_kinematics(model: BodyModel, dofs: torch.Tensor, bones: torch.Tensor,
                       rotation: torch.Tensor | None = None, root: torch.Tensor | None = None) -> torch.Tensor:
    """Joint positions of the 16-joint H36M layout.

    Args:
        model: the body model (named DOFs, chains).
        dofs: (..., model.num_dofs) angle offsets in radians, in ``model.dof_names`` order.
        bones: (..., 15) bone lengths in metres, :data:`~dhaug.kinematics.body_model.BONES` order.
        rotation: (..., 3) global rotation (a_x, a_y, a_z) in radians, ``R = Rx Ry Rz`` about the pelvis.
        root: (..., 3) pelvis position (world frame).
    Returns:
        (..., 16, 3) joints; Z up, rest pose faces +Y with the subject's right on +X.
    """
    if dofs.shape[-1] != model.num_dofs:
        raise ValueError(f"dofs has {dofs.shape[-1]} values in its last axis; body model {model.name!r} has {model.num_dofs}")
    if bones.shape[-1] != 15:
        raise ValueError(f"bones must have 15 lengths in its last axis, got shape {tuple(bones.shape)}")
    shape = torch.broadcast_shapes(dofs.shape[:-1], bones.shape[:-1])
    dofs = dofs.expand(*shape, dofs.shape[-1])
    bones = bones.expand(*shape, 15)
    dtype, device = dofs.dtype, dofs.device
    zero = torch.zeros(*shape, 3, dtype=dtype, device=device)
    eye = torch.eye(3, dtype=dtype, device=device)
    origin = (eye[0].expand_as(zero), eye[1].expand_as(zero), eye[2].expand_as(zero), zero)

    names = {n: i for i, n in enumerate(model.dof_names)}
    joints: list[torch.Tensor | None] = [None] * NUM_JOINTS
    frames: dict[str, list] = {}
    for chain in model.chains:
        x, y, z, p = origin if chain.parent is None else frames[chain.parent][chain.parent_link]
        for name, axis in chain.pre_rotations:
            x, y, z = _rotate_about((x, y, z), axis, dofs[..., names[name]])
        chain_frames = []
        for link in chain.links:
            if link.a_bone is not None:
                p = p + (link.a_sign * bones[..., link.a_bone])[..., None] * x
            ca, sa = _round_trig(link.alpha)
            u = ca * y + sa * z
            theta = math.radians(link.theta_rest)
            if link.dof is not None:
                theta = theta + dofs[..., names[link.dof]]
                ct, st = torch.cos(theta)[..., None], torch.sin(theta)[..., None]
            else:
                ct, st = _round_trig(link.theta_rest)
            x, y, z = ct * x + st * u, -st * x + ct * u, -sa * y + ca * z
            if link.d_bone is not None:
                p = p + bones[..., link.d_bone][..., None] * z
            chain_frames.append((x, y, z, p))
            if link.joint is not None:
                joints[link.joint] = p
        frames[chain.name] = chain_frames
    out = torch.stack(joints, -2)  # (..., 16, 3), pelvis at the origin
    if rotation is not None:
        out = out @ euler_xyz_matrix(rotation).transpose(-1, -2)
    if root is not None:
        out = out + root[..., None, :]
    return out


def _round_trig(deg: float) -> tuple[float, float]:
    """cos/sin of an angle in degrees, exact for multiples of 90 (no 6e-17 residue)."""
    r = math.radians(deg)
    c, s = math.cos(r), math.sin(r)
    return (round(c) if abs(c - round(c)) < 1e-12 else c, round(s) if abs(s - round(s)) < 1e-12 else s)
