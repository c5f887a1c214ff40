"""16-joint motion -> BVH through the DH body model: inverse kinematics, the link frames of the forward
kinematics, one BVH joint per place the kinematic chain moves (docs/bvh.md has the hierarchy).

Conventions of the written file: centimetres; Y up, the subject facing +Z with its left on +X at rest
(right-handed); rest pose = the body model's zero-DOF pose with the motion's median bone lengths;
channels ``Zrotation Xrotation Yrotation`` (local matrix Rz Rx Ry) on every joint, plus
``Xposition Yposition Zposition`` on the root (the pelvis, translation kept).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
import torch

from ..skeleton import H36M16
from .body_model import BodyModel, get_body_model
from .fk import forward_kinematics, link_frames
from .ik import inverse_kinematics

#: Model world (Z up, facing +Y, right on +X) -> BVH world (Y up, facing +Z, right on -X); a proper rotation.
TO_BVH = np.array([[-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
CHANNELS = ("Zrotation", "Xrotation", "Yrotation")
#: End Site stubs continue a terminal joint's bone by this fraction of its length (drawing only).
END_SITE_FRACTION = 0.2


@dataclass(frozen=True)
class BvhJoint:
    name: str
    parent: int  # index into the layout, -1 for the root
    position: tuple[str, int]  # link frame (see fk.link_frames) whose origin is the joint
    rotation: tuple[str, int]  # link frame whose axes the joint turns with
    terminal: bool = False  # has no child joint: gets an End Site


def bvh_layout(model: BodyModel) -> list[BvhJoint]:
    """The BVH joints of ``model``, parents first: one where a link translates (named after the H36M16
    joint it reaches) and a zero-offset ``<dof group>_rot`` joint wherever rotation-only links separate
    a joint from the next translation or from a branching chain (pelvis, neck, clavicles)."""
    length = {c.name: len(c.links) for c in model.chains}
    branch = {(c.parent, c.parent_link % length[c.parent]) for c in model.chains if c.parent}
    joints: list[dict] = [dict(name=H36M16.joint_names[0], parent=-1, position=("origin", -1), rotation=("origin", -1))]
    anchor_of = {("origin", -1): 0}
    for chain in model.chains:
        start = ("origin", -1) if chain.parent is None else (chain.parent, chain.parent_link % length[chain.parent])
        anchor = anchor_of[start]
        frame = (chain.name, -1) if chain.pre_rotations else start
        group = [name for name, _ in chain.pre_rotations]

        def settle(anchor: int, frame, group) -> int:
            """The joint that turns with ``frame``: ``anchor`` itself, or a new zero-offset joint under it."""
            j = joints[anchor]
            if j["rotation"] is None:
                j["rotation"] = frame
                return anchor
            if j["rotation"] == frame:
                return anchor
            name = os.path.commonprefix(group).rstrip("_") or f"{chain.name}_{frame[1]}"
            joints.append(dict(name=f"{name}_rot", parent=anchor, position=j["position"], rotation=frame))
            return len(joints) - 1

        for k, link in enumerate(chain.links):
            if link.a_bone is not None or link.d_bone is not None:
                anchor = settle(anchor, frame, group)
                if link.joint is None:
                    raise ValueError(f"chain {chain.name}: link {k} lays off a bone but names no joint")
                joints.append(
                    dict(name=H36M16.joint_names[link.joint], parent=anchor, position=(chain.name, k), rotation=None)
                )
                anchor, group = len(joints) - 1, []
            if link.dof is not None:
                group.append(link.dof)
            frame = (chain.name, k)
            if frame in branch:
                anchor = settle(anchor, frame, group)
                anchor_of[frame], group = anchor, []
        if joints[anchor]["rotation"] is None:  # the chain's last joint: ankle, wrist, head
            joints[anchor].update(rotation=frame, terminal=True)
    return [BvhJoint(**j) for j in joints]


def _euler_zxy(L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two (z, x, y) angle triples (..., 3) of ``L = Rz(z) Rx(x) Ry(y)`` (radians)."""
    x = np.arcsin(np.clip(L[..., 2, 1], -1.0, 1.0))
    cx = np.cos(x)
    lock = np.abs(cx) < 1e-9
    z = np.where(lock, np.arctan2(L[..., 1, 0], L[..., 0, 0]), np.arctan2(-L[..., 0, 1], L[..., 1, 1]))
    y = np.where(lock, 0.0, np.arctan2(-L[..., 2, 0], L[..., 2, 2]))
    one = np.stack([z, x, y], -1)
    two = np.stack([z + math.pi, math.pi - x, y + math.pi], -1)
    return one, np.where(lock[..., None], one, two)


def continuous_euler(L: np.ndarray) -> np.ndarray:
    """ZXY angles (T, J, 3) in degrees of rotations ``L`` (T, J, 3, 3), each frame's of the two solutions
    and of its 360-degree turns the one nearest the previous frame (no flips, no wraps)."""
    one, two = _euler_zxy(L)
    out = np.empty_like(one)
    prev = one[0]
    for t in range(len(L)):
        a, b = (c + 2 * math.pi * np.round((prev - c) / (2 * math.pi)) for c in (one[t], two[t]))
        closer = np.abs(b - prev).sum(-1, keepdims=True) < np.abs(a - prev).sum(-1, keepdims=True)
        out[t] = prev = np.where(closer, b, a)
    return np.degrees(out)


@dataclass
class BvhMotion:
    """What :func:`motion_to_bvh` made: the file text and how well it reproduces the input."""

    text: str
    frames: int
    bones: np.ndarray  # (15,) metres, the rest skeleton's bone lengths
    residual_mm: np.ndarray  # (T, 16) distance of each joint of the BVH motion from the input


def motion_to_bvh(pose: np.ndarray, fps: float, body_model: str = "clavicle", smooth: float = 0.0) -> BvhMotion:
    """A BVH animation of a 16-joint motion.

    Args:
        pose: (T, 16, 3) H36M16 joints in metres, model world axes (Z up; e.g. ``dhaug generate``'s
            world poses, or camera-frame poses turned upright).
        fps: frames per second (Frame Time = 1 / fps).
        body_model: ``clavicle`` (shoulders placed exactly) or ``paper``.
        smooth: Gaussian sigma in frames applied to the joints before IK (0 = none).
    Returns:
        a :class:`BvhMotion`; its ``residual_mm`` is the IK residual plus the effect of fixing the bone
        lengths to their median over the motion.
    """
    pose = np.asarray(pose, dtype=np.float64)
    if pose.ndim != 3 or pose.shape[1:] != (16, 3) or len(pose) == 0:
        raise ValueError(f"pose must have shape (T, 16, 3) with T >= 1, got {pose.shape}")
    if not np.isfinite(pose).all():
        raise ValueError("pose has NaN or infinite values")
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps}")
    if smooth > 0 and len(pose) > 1:
        from scipy.ndimage import gaussian_filter1d  # lazy: SciPy only for smoothing

        pose = gaussian_filter1d(pose, smooth, axis=0, mode="nearest")
    model = get_body_model(body_model)
    ik = inverse_kinematics(model, torch.from_numpy(pose))
    bones = ik.bones.median(0).values
    T = len(pose)
    frames = link_frames(model, ik.dofs, bones.expand(T, 15), ik.rotation, ik.root)
    rest = link_frames(model, torch.zeros(model.num_dofs, dtype=torch.float64), bones)
    recomputed = forward_kinematics(model, ik.dofs, bones.expand(T, 15), ik.rotation, ik.root).numpy()
    residual = np.linalg.norm(recomputed - pose, axis=-1) * 1000.0

    layout = bvh_layout(model)
    W = TO_BVH
    # each joint's world rotation relative to its rest rotation, in BVH axes: (T, J, 3, 3)
    Gs = np.stack([W @ frames[j.rotation][0].numpy() @ rest[j.rotation][0].numpy().T @ W.T for j in layout], 1)
    parents = np.array([max(j.parent, 0) for j in layout])
    local = np.swapaxes(Gs[:, parents], -1, -2) @ Gs
    local[:, 0] = Gs[:, 0]
    angles = continuous_euler(local)  # (T, J, 3) deg
    root_cm = (ik.root.numpy() @ W.T) * 100.0
    rest_cm = {j.name: (W @ rest[j.position][1].numpy()) * 100.0 for j in layout}
    text = _write(layout, rest_cm, root_cm, angles, 1.0 / fps)
    return BvhMotion(text, T, bones.numpy(), residual)


def _write(layout: list[BvhJoint], rest_cm: dict, root_cm: np.ndarray, angles: np.ndarray, frame_time: float) -> str:
    children: dict[int, list[int]] = {}
    for i, j in enumerate(layout):
        children.setdefault(j.parent, []).append(i)
    lines, order = ["HIERARCHY"], []

    def emit(i: int, depth: int) -> None:
        j, pad = layout[i], "  " * depth
        order.append(i)
        off = np.zeros(3) if j.parent < 0 else rest_cm[j.name] - rest_cm[layout[j.parent].name]
        lines.append(f"{pad}{'ROOT' if j.parent < 0 else 'JOINT'} {j.name}")
        lines.append(pad + "{")
        lines.append(f"{pad}  OFFSET {off[0]:.4f} {off[1]:.4f} {off[2]:.4f}")
        channels = ("Xposition", "Yposition", "Zposition") + CHANNELS if j.parent < 0 else CHANNELS
        lines.append(f"{pad}  CHANNELS {len(channels)} {' '.join(channels)}")
        for c in children.get(i, []):
            emit(c, depth + 1)
        if j.terminal:
            end = off * END_SITE_FRACTION
            lines.extend(
                [
                    f"{pad}  End Site",
                    pad + "  {",
                    f"{pad}    OFFSET {end[0]:.4f} {end[1]:.4f} {end[2]:.4f}",
                    pad + "  }",
                ]
            )
        lines.append(pad + "}")

    emit(0, 0)
    lines.extend(["MOTION", f"Frames: {len(angles)}", f"Frame Time: {frame_time:.8f}"])
    angles = angles[:, order]  # channels in the order the hierarchy lists the joints
    for t in range(len(angles)):
        values = np.concatenate([root_cm[t], angles[t].reshape(-1)])
        lines.append(" ".join(f"{v:.4f}" for v in values))
    return "\n".join(lines) + "\n"
