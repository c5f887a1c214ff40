"""Analytic inverse kinematics: real 16-joint poses -> (bone lengths, global rotation, root, DOFs)
such that :func:`~dhaug.kinematics.fk.forward_kinematics` reproduces them. Vectorised over frames; all
closed form, per chain. The paper model puts the shoulders on a line through the thorax (its residual on
real data); the clavicle model places each shoulder exactly.

Method: docs/kinematics.md#inverse-kinematics
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..skeleton import bone_lengths
from .body_model import BodyModel, Chain, Link
from .fk import _round_trig
from .limits import LimitTable, paper_table

EPS = 1e-9


@dataclass
class IKResult:
    dofs: torch.Tensor  # (..., num_dofs) radians
    bones: torch.Tensor  # (..., 15) metres
    rotation: torch.Tensor  # (..., 3) radians, R = Rx Ry Rz
    root: torch.Tensor  # (..., 3)


def _normalize(v: torch.Tensor) -> torch.Tensor:
    return v / torch.linalg.norm(v, dim=-1, keepdim=True).clamp_min(EPS)


def _cols(x, y, z) -> torch.Tensor:
    return torch.stack([x, y, z], -1)


def link_rotation(link: Link, theta: torch.Tensor | float) -> torch.Tensor:
    """Rotation part of one link, ``Rx(alpha) Rz(theta)``, for a tensor or float theta (radians)."""
    ca, sa = _round_trig(link.alpha)
    t = torch.as_tensor(theta, dtype=torch.float64)
    ct, st = torch.cos(t), torch.sin(t)
    z, o = torch.zeros_like(ct), torch.ones_like(ct)
    return torch.stack(
        [
            torch.stack([ct, -st, z], -1),
            torch.stack([ca * st, ca * ct, -sa * o], -1),
            torch.stack([sa * st, sa * ct, ca * o], -1),
        ],
        -2,
    )


def rest_rotation(links) -> torch.Tensor:
    R = torch.eye(3, dtype=torch.float64)
    for lk in links:
        R = R @ link_rotation(lk, math.radians(lk.theta_rest))
    return R


def axis_angle_matrix(axis, angle: torch.Tensor) -> torch.Tensor:
    """Rotation by ``angle`` about a fixed unit ``axis`` (Rodrigues). angle (...) -> (..., 3, 3)."""
    k = torch.tensor(axis, dtype=angle.dtype, device=angle.device)
    K = torch.zeros(3, 3, dtype=angle.dtype, device=angle.device)
    K[0, 1], K[0, 2], K[1, 2] = -k[2], k[1], -k[0]
    K = K - K.T
    c, s = torch.cos(angle)[..., None, None], torch.sin(angle)[..., None, None]
    return torch.eye(3, dtype=angle.dtype, device=angle.device) + s * K + (1 - c) * (K @ K)


def euler_xyz_from_matrix(R: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`~dhaug.kinematics.fk.euler_xyz_matrix` (a_y in [-90°, 90°]; a_z = 0 at gimbal lock)."""
    sy = R[..., 0, 2].clamp(-1, 1)
    ay = torch.asin(sy)
    lock = (1 - sy.abs()) < 1e-12
    ax = torch.where(lock, torch.atan2(R[..., 2, 1], R[..., 1, 1]), torch.atan2(-R[..., 1, 2], R[..., 2, 2]))
    az = torch.where(lock, torch.zeros_like(ay), torch.atan2(-R[..., 0, 1], R[..., 0, 0]))
    return torch.stack([ax, ay, az], -1)


def _wrap(a: torch.Tensor) -> torch.Tensor:
    return torch.remainder(a + math.pi, 2 * math.pi) - math.pi


def _frame_from_axis(
    ref: torch.Tensor,
    axis: int,
    direction: torch.Tensor,
    second: int,
    second_dir: torch.Tensor | None = None,
    valid: torch.Tensor | None = None,
) -> torch.Tensor:
    """A rotation whose column ``axis`` is ``direction``. Column ``second`` is ``second_dir`` made
    orthogonal to it where given (and ``valid``); otherwise the same column of ``ref`` made
    orthogonal (the no-twist rule), or, if that is parallel to ``direction``, built from ref's
    third column."""
    d = _normalize(direction)
    third = 3 - axis - second
    cyclic = second == (axis + 1) % 3  # then col[third] = col[axis] x col[second]

    def ortho(v):
        return v - (v * d).sum(-1, keepdim=True) * d

    s = ortho(ref[..., :, second])
    t = _normalize(ortho(ref[..., :, third]))
    from_third = torch.cross(t, d, dim=-1) if cyclic else torch.cross(d, t, dim=-1)
    s = torch.where(torch.linalg.norm(s, dim=-1, keepdim=True) < 1e-6, from_third, s)
    if second_dir is not None:
        sd = ortho(second_dir)
        ok = torch.linalg.norm(sd, dim=-1, keepdim=True) > 1e-6
        if valid is not None:
            ok = ok & valid[..., None]
        s = torch.where(ok, sd, s)
    s = _normalize(s)
    t = torch.cross(d, s, dim=-1) if cyclic else torch.cross(s, d, dim=-1)
    cols: list[torch.Tensor] = [d, d, d]
    cols[axis], cols[second], cols[third] = d, s, t
    return _cols(*cols)


def decompose_joint(M: torch.Tensor, links: tuple[Link, ...], lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """Offsets (..., 3) of a 3-link joint with relative rotation ``M`` (..., 3, 3); of the two
    solutions the one with less violation of [lo, hi] (then smaller offsets) is returned."""
    a1, a2, a3 = (lk.alpha for lk in links)
    if abs(abs(a2) - 90) > 1e-9 or abs(abs(a3) - 90) > 1e-9:
        raise ValueError("decompose_joint expects the 2nd and 3rd links of a joint to have alpha = ±90°")
    s2 = -_round_trig(a2)[1]  # Rx(a2) Rz(t) Rx(-a2) = Ry(s2 t)
    flip = abs(a2 + a3) > 1e-9  # Rx(a2 + a3) = Rx(180°): K = Rx(180°), Rz(t3) -> Rz(-t3)
    s3 = -1.0 if flip else 1.0
    N = link_rotation(Link(a1, 0.0), 0.0).to(M).transpose(-1, -2) @ M
    if flip:
        N = N * torch.tensor([1.0, -1.0, -1.0], dtype=M.dtype, device=M.device)  # N Rx(180)^T: negate columns 1, 2
    sb = torch.sqrt(N[..., 0, 2] ** 2 + N[..., 1, 2] ** 2)
    B = torch.atan2(sb, N[..., 2, 2])
    A = torch.atan2(N[..., 1, 2], N[..., 0, 2])
    C = torch.atan2(N[..., 2, 1], -N[..., 2, 0])
    rest = torch.tensor([math.radians(lk.theta_rest) for lk in links], dtype=M.dtype, device=M.device)
    # degenerate (B = 0 or pi): only A ± C is known; keep the third offset at 0
    degenerate = sb < 1e-9
    C_rest = s3 * rest[2]
    A_deg = torch.where(
        N[..., 2, 2] > 0,
        torch.atan2(N[..., 1, 0], N[..., 0, 0]) - C_rest,
        torch.atan2(-N[..., 1, 0], -N[..., 0, 0]) + C_rest,
    )
    A = torch.where(degenerate, A_deg, A)
    C = torch.where(degenerate, torch.full_like(C, 0.0) + C_rest, C)
    sol1 = torch.stack([A, B * s2, C * s3], -1)
    sol2 = torch.stack([A + math.pi, -B * s2, (C + math.pi) * s3], -1)
    off1, off2 = _wrap(sol1 - rest), _wrap(sol2 - rest)
    off2 = torch.where(degenerate[..., None], off1, off2)

    def cost(o):
        over = (lo - o).clamp_min(0) + (o - hi).clamp_min(0)
        return over.sum(-1) * 100 + o.abs().sum(-1)

    return torch.where((cost(off2) < cost(off1))[..., None], off2, off1)


def _limb(
    chain: Chain,
    base: torch.Tensor,
    start: torch.Tensor,
    mid: torch.Tensor,
    end: torch.Tensor,
    lo: torch.Tensor,
    hi: torch.Tensor,
    bend_sign: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hip/shoulder (3 offsets) and knee/elbow (1 offset) of a limb chain starting at frame ``base``."""
    links = chain.links
    u = _normalize(mid - start)  # upper bone (thigh / upper arm) = x axis of frame 2
    f = _normalize(end - mid)  # lower bone = cos(t) x2 + sin(t) y2 of frame 2
    cosb = (u * f).sum(-1)
    bend = bend_sign * torch.atan2(torch.linalg.norm(torch.cross(u, f, dim=-1), dim=-1), cosb)  # exact near 0
    sinb = torch.sin(bend)
    straight = sinb.abs() < 1e-6
    y_dir = (f - cosb[..., None] * u) / torch.where(straight, torch.ones_like(sinb), sinb)[..., None]
    ref = base @ rest_rotation(links[:3]).to(base)
    R2 = _frame_from_axis(ref, 0, u, 1, y_dir, ~straight)
    joint = decompose_joint(base.transpose(-1, -2) @ R2, links[:3], lo[:3], hi[:3])
    return joint, _wrap(bend - math.radians(links[3].theta_rest))


def _dof_names(links) -> list[str]:
    """The DOF names of ``links``, each of which must have one."""
    names = [lk.dof for lk in links]
    if any(n is None for n in names):
        raise ValueError(f"IK expects a DOF on each of these links, got {names}")
    return [str(n) for n in names]


def inverse_kinematics(model: BodyModel, pose: torch.Tensor, limits: LimitTable | None = None) -> IKResult:
    """Analytic IK of (..., 16, 3) world-frame poses (Z up) for ``model``; computed in float64."""
    if pose.shape[-2:] != (16, 3):
        raise ValueError(f"pose must have shape (..., 16, 3), got {tuple(pose.shape)}")
    P = pose.to(torch.float64)
    lo_all, hi_all = (limits or paper_table("gan")).for_model(model, torch.float64, P.device)
    idx = {n: i for i, n in enumerate(model.dof_names)}

    def lim(names):
        ii = [idx[n] for n in names]
        return lo_all[ii], hi_all[ii]

    root = P[..., 0, :]
    bones = bone_lengths(P)
    xb = _normalize(P[..., 1, :] - P[..., 4, :])
    Rb = _frame_from_axis(
        torch.eye(3, dtype=P.dtype, device=P.device).expand(*P.shape[:-2], 3, 3), 0, xb, 2, P[..., 7, :] - P[..., 0, :]
    )
    rotation = euler_xyz_from_matrix(Rb)
    Q = (P - root[..., None, :]) @ Rb  # body coordinates
    out = torch.zeros(*P.shape[:-2], model.num_dofs, dtype=P.dtype, device=P.device)
    eye = torch.eye(3, dtype=P.dtype, device=P.device).expand(*P.shape[:-2], 3, 3)
    chains = {c.name: c for c in model.chains}

    # spine: pelvis joint (links 0-2) -> Spine direction is frame 2's y axis, etc.
    sp = chains["spine"].links
    names = _dof_names(sp[:12])
    parent = eye
    # (links, constrained axis, direction, name slice)
    segs = [(sp[0:3], 1, Q[..., 7, :], 0), (sp[3:6], 1, Q[..., 8, :] - Q[..., 7, :], 3)]
    for links, axis, direction, k in segs:
        ref = parent @ rest_rotation(links).to(P)
        R = _frame_from_axis(ref, axis, direction, 0)
        lo, hi = lim(names[k : k + 3])
        out[..., [idx[n] for n in names[k : k + 3]]] = decompose_joint(parent.transpose(-1, -2) @ R, links, lo, hi)
        parent = R
    # thorax joint (links 6-8): frame 8's x axis is the LShoulder - RShoulder line (paper arms hang on it)
    ref = parent @ rest_rotation(sp[6:9]).to(P)
    R8 = _frame_from_axis(ref, 0, Q[..., 10, :] - Q[..., 13, :], 1)
    lo, hi = lim(names[6:9])
    out[..., [idx[n] for n in names[6:9]]] = decompose_joint(parent.transpose(-1, -2) @ R8, sp[6:9], lo, hi)
    # neck (links 9-11): the head direction is frame 11's x axis (link 12: Rx(90) keeps x)
    ref = R8 @ rest_rotation(sp[9:12]).to(P)
    R11 = _frame_from_axis(ref, 0, Q[..., 9, :] - Q[..., 8, :], 1)
    lo, hi = lim(names[9:12])
    out[..., [idx[n] for n in names[9:12]]] = decompose_joint(R8.transpose(-1, -2) @ R11, sp[9:12], lo, hi)

    # legs start at the body frame
    for side, (hip, knee, ankle) in (("r", (1, 2, 3)), ("l", (4, 5, 6))):
        ch = chains[f"{side}_leg"]
        dn = _dof_names(ch.links[:4])
        lo, hi = lim(dn)
        j, bend = _limb(ch, eye, Q[..., hip, :], Q[..., knee, :], Q[..., ankle, :], lo, hi, -1.0)
        out[..., [idx[n] for n in dn[:3]]] = j
        out[..., idx[dn[3]]] = bend

    # arms start at frame 8 (after optional clavicle rotations)
    for side, (sho, elb, wri) in (("r", (13, 14, 15)), ("l", (10, 11, 12))):
        ch = chains[f"{side}_arm"]
        base = R8
        if ch.pre_rotations:
            # shoulder direction in frame-8 coordinates -> the two clavicle angles
            sgn = ch.links[0].a_sign
            d = (_normalize(Q[..., sho, :] - Q[..., 8, :])[..., None, :] @ R8)[..., 0, :] * sgn
            (n_up, ax_up), (n_fwd, ax_fwd) = ch.pre_rotations
            # d = Rot(ax_up, c1) Rot(ax_fwd, c2) e_x  (see body_model.CLAVICLE_AXES)
            s_up = ax_up[2]  # +1: rotation about +z;  -1: about -z
            s_fwd = -ax_fwd[1]  # +1: rotation about -y;  -1: about +y
            c2 = torch.asin((d[..., 2] * s_fwd).clamp(-1, 1))
            c1 = torch.atan2(d[..., 1] * s_up, d[..., 0])
            out[..., idx[n_up]], out[..., idx[n_fwd]] = c1, c2
            base = R8 @ axis_angle_matrix(ax_up, c1) @ axis_angle_matrix(ax_fwd, c2)
        dn = _dof_names(ch.links[:4])
        lo, hi = lim(dn)
        j, bend = _limb(ch, base, Q[..., sho, :], Q[..., elb, :], Q[..., wri, :], lo, hi, 1.0)
        out[..., [idx[n] for n in dn[:3]]] = j
        out[..., idx[dn[3]]] = bend
    return IKResult(dofs=out, bones=bones, rotation=rotation, root=root)
