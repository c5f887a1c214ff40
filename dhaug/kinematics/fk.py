"""Batched, differentiable forward kinematics of a :class:`~dhaug.kinematics.body_model.BodyModel`.

Frames are kept as three column vectors (x, y, z axes) and a position, so a modified-DH link
``RotX(alpha) TransX(a) RotZ(theta) TransZ(d)`` costs a few fused vector operations instead of a
4x4 product (the update: docs/kinematics.md#forward-kinematics).

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


def forward_kinematics(
    model: BodyModel,
    dofs: torch.Tensor,
    bones: torch.Tensor,
    rotation: torch.Tensor | None = None,
    root: torch.Tensor | None = None,
) -> torch.Tensor:
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
    joints, _ = _walk(model, dofs, bones, rotation, root)
    return torch.stack(joints, -2)


def link_frames(
    model: BodyModel,
    dofs: torch.Tensor,
    bones: torch.Tensor,
    rotation: torch.Tensor | None = None,
    root: torch.Tensor | None = None,
) -> dict[tuple[str, int], tuple[torch.Tensor, torch.Tensor]]:
    """Every link frame of the forward kinematics (same arguments as :func:`forward_kinematics`).

    Returns:
        ``{(chain name, k): (R, p)}``: R (..., 3, 3) the frame's axes as columns, p (..., 3) its origin, after
        link k of the chain; k = -1 is the chain's start frame (after its pre-rotations), and
        ``("origin", -1)`` the rotated, translated pelvis frame every parentless chain starts from.
    """
    _, frames = _walk(model, dofs, bones, rotation, root)
    return {key: (torch.stack(f[:3], -1), f[3]) for key, f in frames.items()}


def _walk(model, dofs, bones, rotation, root):
    """Joints (a list of 16 (..., 3)) and link frames ``{(chain, k): (x, y, z, p)}`` of the kinematics."""
    if dofs.shape[-1] != model.num_dofs:
        raise ValueError(
            f"dofs has {dofs.shape[-1]} values in its last axis; body model {model.name!r} has {model.num_dofs}"
        )
    if bones.shape[-1] != 15:
        raise ValueError(f"bones must have 15 lengths in its last axis, got shape {tuple(bones.shape)}")
    shape = torch.broadcast_shapes(dofs.shape[:-1], bones.shape[:-1])
    dofs = dofs.expand(*shape, dofs.shape[-1])
    bones = bones.expand(*shape, 15)
    dtype, device = dofs.dtype, dofs.device
    # the global transform is applied by starting every chain from the rotated, translated pelvis
    # frame (no 16-joint matrix product at the end)
    if rotation is not None:
        R = euler_xyz_matrix(rotation).expand(*shape, 3, 3)
        x0, y0, z0 = R[..., :, 0], R[..., :, 1], R[..., :, 2]
    else:
        eye = torch.eye(3, dtype=dtype, device=device)
        x0, y0, z0 = (eye[i].expand(*shape, 3) for i in range(3))
    p0 = root.expand(*shape, 3) if root is not None else torch.zeros(*shape, 3, dtype=dtype, device=device)
    origin = (x0, y0, z0, p0)
    frames: dict[tuple[str, int], tuple] = {("origin", -1): origin}

    names = {n: i for i, n in enumerate(model.dof_names)}
    # cos/sin of every (rest + offset) angle in two vector ops instead of two per link
    rest = torch.tensor(_rest_angles(model), dtype=dtype, device=device)
    theta = dofs + rest
    cos_all, sin_all = torch.cos(theta), torch.sin(theta)
    joints: list[torch.Tensor | None] = [None] * NUM_JOINTS
    length = {c.name: len(c.links) for c in model.chains}
    for chain in model.chains:
        parent = ("origin", -1) if chain.parent is None else (chain.parent, chain.parent_link % length[chain.parent])
        x, y, z, p = frames[parent]
        for name, axis in chain.pre_rotations:
            x, y, z = _rotate_about((x, y, z), axis, dofs[..., names[name]])
        frames[(chain.name, -1)] = (x, y, z, p)
        for k, link in enumerate(chain.links):
            if link.a_bone is not None:
                p = torch.addcmul(p, (link.a_sign * bones[..., link.a_bone])[..., None], x)
            ca, sa = _round_trig(link.alpha)
            # alpha is 0 or +-90 in both models: u and z' are then copies or negations, no arithmetic
            if sa == 0:
                u, z_new = (y, z) if ca > 0 else (-y, -z)
            elif ca == 0:
                u, z_new = (z, -y) if sa > 0 else (-z, y)
            else:
                u, z_new = ca * y + sa * z, -sa * y + ca * z
            if link.dof is not None:
                i = names[link.dof]
                ct, st = cos_all[..., i : i + 1], sin_all[..., i : i + 1]
                x, y = torch.addcmul(ct * x, st, u), torch.addcmul(ct * u, st, x, value=-1.0)
            else:
                ct, st = _round_trig(link.theta_rest)
                x, y = _combine(ct, x, st, u), _combine(ct, u, -st, x)
            z = z_new
            if link.d_bone is not None:
                p = torch.addcmul(p, bones[..., link.d_bone][..., None], z)
            frames[(chain.name, k)] = (x, y, z, p)
            if link.joint is not None:
                joints[link.joint] = p
    return joints, frames


def _round_trig(deg: float) -> tuple[float, float]:
    """cos/sin of an angle in degrees, exact for multiples of 90 (no 6e-17 residue)."""
    r = math.radians(deg)
    c, s = math.cos(r), math.sin(r)
    return (round(c) if abs(c - round(c)) < 1e-12 else c, round(s) if abs(s - round(s)) < 1e-12 else s)


def _combine(a: float, v: torch.Tensor, b: float, w: torch.Tensor) -> torch.Tensor:
    """``a v + b w`` for constants, skipping terms that are exactly 0 and products by 1."""
    if b == 0:
        return v if a == 1 else (-v if a == -1 else a * v)
    if a == 0:
        return w if b == 1 else (-w if b == -1 else b * w)
    return a * v + b * w


def _rest_angles(model: BodyModel) -> list[float]:
    """Rest theta (radians) of the link each DOF drives; 0 for pre-rotation DOFs."""
    rest = {lk.dof: math.radians(lk.theta_rest) for ch in model.chains for lk in ch.links if lk.dof}
    return [rest.get(n, 0.0) for n in model.dof_names]
