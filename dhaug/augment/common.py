"""What every synthetic source shares: cameras as stacked tensors, projection into them, bone-length
scaling and swapping, the camera-relative placement of a pelvis, the 2D critic both GANs use, and the
limit table and camera numbering read from the training data. Poses are root-relative (..., 16, 3) in
metres (H36M16 joint order); 2D is normalised screen coordinates (x in [-1, 1], y in [-h/w, h/w])."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..camera import Camera, project, with_focal, world_to_camera
from ..errors import ConfigError
from ..kinematics.data_limits import limit_table, table_from_poses
from ..skeleton import H36M16

#: Bone groups sharing one scale factor (indices into kinematics.BONES); the thorax bone (7) is never scaled.
BONE_GROUPS = {
    "shins": (2, 5),
    "thighs": (1, 4),
    "hips": (0, 3),
    "waist": (6,),
    "shoulders": (9, 12),
    "upper_arms": (10, 13),
    "forearms": (11, 14),
    "neck": (8,),
}


def scale_bones(bones: torch.Tensor, scale: float, generator: torch.Generator) -> torch.Tensor:
    """Multiply each bone group by ``1 + U[-scale, scale)`` (one factor per group and pose). bones (N, 15)."""
    n = bones.shape[0]
    factors = 1 + scale * (2 * torch.rand(n, len(BONE_GROUPS), generator=generator, dtype=bones.dtype) - 1)
    factors = factors.to(bones.device)  # drawn on the (CPU) generator, applied where the bones are
    out = bones.clone()
    for g, idx in enumerate(BONE_GROUPS.values()):
        out[:, list(idx)] *= factors[:, g : g + 1]
    return out


@dataclass
class CameraSet:
    """Cameras as stacked tensors: R (C,3,3), T (C,3) metres, normalised intrinsics (C,9), aspect h/w (C,)."""

    R: torch.Tensor
    T: torch.Tensor
    K: torch.Tensor
    aspect: torch.Tensor

    @staticmethod
    def from_cameras(cams: list[Camera], dtype=torch.float32) -> "CameraSet":
        return CameraSet(
            torch.as_tensor(np.stack([c.R for c in cams]), dtype=dtype),
            torch.as_tensor(np.stack([c.T for c in cams]), dtype=dtype),
            torch.as_tensor(np.stack([c.normalized_intrinsics() for c in cams]), dtype=dtype),
            torch.tensor([c.res_h / c.res_w for c in cams], dtype=dtype),
        )


def project_to_cameras(
    world: torch.Tensor, cams: CameraSet, min_depth: float = 0.5, focal: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """World poses (N,16,3) into every camera: 2D (N,C,16,2), root-relative camera 3D (N,C,16,3),
    and a validity mask (N,C): every joint at depth >= ``min_depth`` and inside the image.
    ``focal`` (N,C): normalised focal lengths replacing the cameras' own (a zoom per pair)."""
    Xc = world_to_camera(world[:, None], cams.R, cams.T)  # (N,C,16,3)
    K = cams.K[None] if focal is None else with_focal(cams.K[None].expand(*focal.shape, -1), focal)
    uv = project(Xc, K, clamp=False)
    depth_ok = (Xc[..., 2] >= min_depth).all(-1)
    a = cams.aspect[None, :, None]
    inside = ((uv[..., 0].abs() <= 1) & (uv[..., 1].abs() <= a)).all(-1)
    return uv, Xc - Xc[..., :1, :], depth_ok & inside


def bone_vectors(pose: torch.Tensor) -> torch.Tensor:
    """(..., 16, 3) -> (..., 15, 3), bone i from the parent of joint i+1 to joint i+1."""
    parents = [p for p, _ in H36M16.bones]
    return pose[..., 1:, :] - pose[..., parents, :]


def swap_bones(pose: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Keep every bone's direction, give it the new ``lengths`` (B, 15); root-relative (B,16,3) poses."""
    b = bone_vectors(pose)
    u = b / torch.linalg.norm(b, dim=-1, keepdim=True).clamp_min(1e-8)
    joints = [torch.zeros_like(pose[:, 0])]
    for j, (p, _) in enumerate(H36M16.bones):  # parents come before children
        joints.append(joints[p] + u[:, j] * lengths[:, j : j + 1])
    return torch.stack(joints, 1)


def root_in_camera(
    code: torch.Tensor, K: torch.Tensor, aspect: torch.Tensor, depth_range: tuple[float, float], screen_margin: float
) -> torch.Tensor:
    """Camera-frame pelvis (B, 3) from a root code (B, 3) in [-1, 1]^2 x [0, 1]: depth in ``depth_range``,
    image position within the central ``screen_margin`` of the (normalised) screen; K (B, 9) normalised
    intrinsics, aspect (B,) h/w. People placed so are in front of the camera and near the image centre."""
    d0, d1 = depth_range
    depth = d0 + (d1 - d0) * code[:, 2]
    sx = screen_margin * code[:, 0]
    sy = screen_margin * code[:, 1] * aspect
    x = (sx - K[:, 2]) / K[:, 0] * depth
    y = (sy - K[:, 3]) / K[:, 1] * depth
    return torch.stack([x, y, depth], -1)


class Discriminator2D(nn.Module):
    """Normalised (not root-centred) 2D pose (B,16,2) -> score (judges pose, placement and scale)."""

    def __init__(self, width: int = 256) -> None:
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(32, width), nn.Linear(width, width), nn.Linear(width, width)
        self.l4, self.l5, self.l6 = nn.Linear(width, width), nn.Linear(width, width), nn.Linear(width, 1)
        self.act = nn.LeakyReLU(0.01)

    def forward(self, pose2d: torch.Tensor) -> torch.Tensor:
        h1 = self.act(self.l1(pose2d.flatten(1)))
        h2 = self.act(self.l2(h1))
        h3 = self.act(self.l3(h2) + h1)
        h4 = self.l4(h3)
        h5 = self.act(self.l5(h4))
        return self.l6(h5)[:, 0]


def resolve_limits(ac, model, world: torch.Tensor):
    """The limit table named by ``augment.limits`` (``auto``: random -> ``normal``, dhaug -> ``data``)."""
    name = ac.limits if ac.limits != "auto" else ("normal" if ac.method == "random" else "data")
    if name == "data":
        return table_from_poses(model, world, ac.limit_margin_deg)
    return limit_table(name, ac.body_model)


def training_cameras(data, method: str) -> tuple[list[Camera], torch.Tensor]:
    """The training cameras of ``data`` (:class:`~dhaug.data.ExperimentData`), every subject's in turn,
    and the index into them of each training pair's camera (N,). ``method`` names the caller in errors."""
    if data.mocap is None:
        raise ConfigError(f"augment.method = {method!r} needs the world-frame 3D of the training subjects")
    cams = [c for s in data.train_subjects for c in data.mocap.cameras[s]]
    first, tr = camera_offsets(data), data.train
    return cams, torch.as_tensor(np.array([first[n] for n in tr.subject_names])[tr.subject] + tr.camera)


def bone_templates(data) -> torch.Tensor:
    """(S, 15) bone lengths of each training subject (metres)."""
    return torch.as_tensor(data.mocap.bone_template(list(data.train_subjects)), dtype=torch.float32)


def training_world(data, most: int = 50_000) -> torch.Tensor:
    """Up to about ``most`` evenly spaced world-frame training poses (N, 16, 3)."""
    world = np.concatenate([p for s in data.train_subjects for p in data.mocap.positions[s].values()])
    return torch.as_tensor(world[:: max(1, len(world) // most)], dtype=torch.float32)


def camera_offsets(data) -> dict[str, int]:
    """Index of each training subject's first camera in the concatenated camera list (each subject
    counts its own cameras)."""
    first, k = {}, 0
    for s in data.train_subjects:
        first[s] = k
        k += len(data.mocap.cameras[s])
    return first


__all__ = [
    "bone_templates",
    "training_cameras",
    "training_world",
    "BONE_GROUPS",
    "CameraSet",
    "Discriminator2D",
    "bone_vectors",
    "camera_offsets",
    "project_to_cameras",
    "resolve_limits",
    "root_in_camera",
    "scale_bones",
    "swap_bones",
]
