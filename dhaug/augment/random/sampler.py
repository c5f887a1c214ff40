"""Random DH poses — the paper's "normal" mode (method.md §7) as a seeded transform: random bones,
DOFs, rotation and pelvis, seen by every training camera (single frames or smooth sequences).
Output pairs are in the training format. Design: docs/augment/random.md."""

from __future__ import annotations

import numpy as np
import torch

from ...camera import Camera, random_focals
from ...config import AugmentConfig
from ...kinematics import BodyModel, forward_kinematics, paper_table
from ...kinematics.limits import LimitTable
from ...timing import section
from ..basis import cosine_basis, temporal_basis
from ..common import CameraSet, project_to_cameras, scale_bones


class RandomDHAugmenter:
    """Seeded random DH poses -> (2D, 3D) training pairs. ``sample(epoch)`` is deterministic in (seed, epoch).

    Args:
        body_model: the FK model (``PAPER`` or ``CLAVICLE``).
        bones: (M, 15) real bone lengths (one row per real frame or per subject).
        roots: (K, 3) real pelvis positions in the world frame.
        cameras: the cameras to project into (all training cameras).
        limits: the limit table (default: the paper's ``normal`` column).
    """

    def __init__(
        self,
        body_model: BodyModel,
        bones: torch.Tensor,
        roots: torch.Tensor,
        cameras: list[Camera],
        limits: LimitTable | None = None,
        settings: AugmentConfig | None = None,
        seed: int = 0,
        frames: int = 1,
        max_active: int | None = None,
        **overrides,
    ) -> None:
        s = (settings or AugmentConfig()).updated(**overrides)  # e.g. num_poses=500, temporal_basis=3
        if bones.ndim != 2 or bones.shape[1] != 15:
            raise ValueError(f"bones must have shape (M, 15), got {tuple(bones.shape)}")
        want = (3,) if frames == 1 else (frames, 3)
        if roots.ndim != len(want) + 1 or tuple(roots.shape[1:]) != want:
            raise ValueError(
                f"roots must have shape (K, {', '.join(map(str, want))}) for frames = {frames}, "
                f"got {tuple(roots.shape)}"
            )
        self.frames = frames
        if frames > 1:  # cosines per trajectory; 0 (free per-frame outputs in the GAN) = every cosine
            self.temporal_basis = temporal_basis(s.video.temporal_basis, frames) or frames
        self.motion = float(np.radians(s.motion_deg))
        self.model = body_model
        self.bones = bones.float()
        self.roots = roots.float()
        self.cams = CameraSet.from_cameras(cameras)
        self.lo, self.hi = (limits or paper_table("normal")).for_model(body_model)
        self.num_poses = s.num_poses
        self.bone_scale = s.bone_scale
        self.sigma = float(np.radians(s.sigma_deg))
        self.max_active = max_active if max_active is not None else len(self.lo) + 2  # method.md §7: 0..33
        self.min_depth = s.min_depth
        self.seed = seed
        self.fov_range_deg = tuple(s.fov_range_deg) if s.fov_range_deg is not None else None

    def sample_parameters(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(n, num_dofs + 3) offsets in radians (DOFs then rot_x/y/z) with a random active subset each."""
        D = len(self.lo)
        mid = (self.lo + self.hi) / 2
        draw = (mid + self.sigma * torch.randn(n, D, generator=generator)).clamp(self.lo, self.hi)
        k = torch.randint(0, self.max_active + 1, (n, 1), generator=generator)
        rank = torch.rand(n, D, generator=generator).argsort(-1).argsort(-1)  # a random permutation per row
        active = rank < k
        values = torch.where(active, draw, torch.zeros_like(draw).clamp(self.lo, self.hi))
        values[0] = torch.zeros(D).clamp(self.lo, self.hi)  # sample 0: the rest pose
        return values[:, : self.model.num_dofs], values[:, self.model.num_dofs :]

    def trajectories(
        self, dofs: torch.Tensor, rot: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Single-frame draws (n, D), (n, 3) -> smooth random trajectories (n, T, D), (n, T, 3): each
        *active* channel (non-zero draw) plus cosines 1..K-1 over the window, clipped to the limits."""
        v = torch.cat([dofs, rot], -1)
        n, D, T, K = v.shape[0], v.shape[1], self.frames, self.temporal_basis
        k = torch.arange(1, K)
        basis = cosine_basis(T, K)[1:]  # (K-1, T): the zero-mean cosines
        coef = self.motion * torch.randn(n, K - 1, D, generator=generator) / k[None, :, None]
        active = (v != torch.zeros(D).clamp(self.lo, self.hi)).float()  # inactive DOFs stay at the rest pose
        traj = (v[:, None] + torch.einsum("nkd,kt->ntd", coef, basis) * active[:, None]).clamp(self.lo, self.hi)
        return traj[..., : self.model.num_dofs], traj[..., self.model.num_dofs :]

    def sample_world(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """(n, 16, 3) world-frame poses, or (n, T, 16, 3) sequences when ``frames`` = T > 1."""
        dofs, rot = self.sample_parameters(n, generator)
        bones = scale_bones(
            self.bones[torch.randint(len(self.bones), (n,), generator=generator)], self.bone_scale, generator
        )
        root = self.roots[torch.randint(len(self.roots), (n,), generator=generator)]
        if self.frames > 1:
            dofs, rot = self.trajectories(dofs, rot, generator)
            bones = bones[:, None].expand(-1, self.frames, -1)
        return forward_kinematics(self.model, dofs, bones, rot, root)

    def sample(self, epoch: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """This epoch's pairs, valid ones only: 2D (P, 16, 2) and root-relative camera 3D (P, 16, 3);
        sequences: 2D windows (P, T, 16, 2) and the centre frame's 3D (P, 16, 3)."""
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        with section("synthetic/draw_fk"):
            world = self.sample_world(self.num_poses, g)
        focal = None
        n, c, T = self.num_poses, len(self.cams.R), self.frames
        if self.fov_range_deg is not None:
            focal = random_focals(n * c, self.fov_range_deg, g).reshape(n, c)
        if T == 1:
            with section("synthetic/project"):
                uv, rel, ok = project_to_cameras(world, self.cams, self.min_depth, focal)
                return uv[ok], rel[ok]
        flat_focal = None if focal is None else focal.repeat_interleave(T, 0)  # one zoom per sequence and camera
        with section("synthetic/project"):
            uv, rel, ok = project_to_cameras(world.flatten(0, 1), self.cams, self.min_depth, flat_focal)
        uv, rel, ok = (
            uv.unflatten(0, (n, T)),
            rel.unflatten(0, (n, T)),
            ok.unflatten(0, (n, T)).all(1),
        )  # (n, T, C, ...)
        return uv.transpose(1, 2)[ok], rel[:, T // 2][ok]


__all__ = ["RandomDHAugmenter"]
