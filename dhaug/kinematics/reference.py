"""The obvious forward kinematics, written for checking and for speed comparison only: one 4x4
modified-DH matrix per link, multiplied in a Python loop over links (batched over poses)."""

from __future__ import annotations

import math

import torch

from .body_model import BodyModel
from .fk import euler_xyz_matrix


def dh_matrix(alpha: float, a: torch.Tensor, theta: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """``RotX(alpha) TransX(a) RotZ(theta) TransZ(d)`` as (N, 4, 4); alpha in degrees, theta in radians."""
    ca, sa = math.cos(math.radians(alpha)), math.sin(math.radians(alpha))
    ct, st = torch.cos(theta), torch.sin(theta)
    z, o = torch.zeros_like(ct), torch.ones_like(ct)
    return torch.stack(
        [
            torch.stack([ct, -st, z, a], -1),
            torch.stack([st * ca, ct * ca, -sa * o, -d * sa], -1),
            torch.stack([st * sa, ct * sa, ca * o, d * ca], -1),
            torch.stack([z, z, z, o], -1),
        ],
        -2,
    )


def reference_fk(model: BodyModel, dofs: torch.Tensor, bones: torch.Tensor, rotation=None, root=None) -> torch.Tensor:
    """Same contract as :func:`~dhaug.kinematics.fk.forward_kinematics` for (N, ...) inputs; models
    without pre-rotations (the paper model) only."""
    if any(ch.pre_rotations for ch in model.chains):
        raise NotImplementedError("the reference FK covers plain DH chains (the paper model)")
    n = dofs.shape[0]
    names = {nm: i for i, nm in enumerate(model.dof_names)}
    zero = torch.zeros(n, dtype=dofs.dtype, device=dofs.device)
    joints: list[torch.Tensor] = [zero[:, None].expand(n, 3)] * 16
    frames: dict[str, list[torch.Tensor]] = {}
    for ch in model.chains:
        T = (
            torch.eye(4, dtype=dofs.dtype, device=dofs.device).repeat(n, 1, 1)
            if ch.parent is None
            else frames[ch.parent][ch.parent_link]
        )
        out = []
        for lk in ch.links:
            a = zero if lk.a_bone is None else lk.a_sign * bones[:, lk.a_bone]
            d = zero if lk.d_bone is None else bones[:, lk.d_bone]
            theta = math.radians(lk.theta_rest) + (dofs[:, names[lk.dof]] if lk.dof else zero)
            T = T @ dh_matrix(lk.alpha, a, theta, d)
            out.append(T)
            if lk.joint is not None:
                joints[lk.joint] = T[:, :3, 3]
        frames[ch.name] = out
    P = torch.stack(joints, 1)
    if rotation is not None:
        P = P @ euler_xyz_matrix(rotation).transpose(-1, -2)
    if root is not None:
        P = P + root[:, None]
    return P
