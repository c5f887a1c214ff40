"""DH-AUG's video mode networks (method.md §6): the sequence generator (optionally smooth by a cosine
basis) and the 3D and 2D motion critics, which see mirrored and time-reversed sequences alike."""

from __future__ import annotations

import torch
from torch import nn

from ...camera import project
from ...kinematics import BodyModel, forward_kinematics
from ...kinematics.limits import LimitTable
from ...precision import full_precision
from ...skeleton import mirror_pose
from ..basis import cosine_basis
from .networks import Generator, _Res, _stream, bone_cosines


class VideoGenerator(Generator):
    """z (B, noise) -> per-frame DOFs (B, T, D), rotations (B, T, 3), root codes (B, T, 3)."""

    def __init__(
        self,
        body_model: BodyModel,
        limits: LimitTable,
        frames: int,
        width: int = 256,
        noise_dim: int = 128,
        depth_range: tuple[float, float] = (2.5, 8.0),
        screen_margin: float = 0.7,
        temporal_basis: int = 0,
    ) -> None:
        super().__init__(body_model, limits, width, noise_dim, depth_range, screen_margin)
        self.frames = frames
        self.temporal_basis = temporal_basis
        if temporal_basis > 0:  # every output channel a sum of the K slowest cosines over the window (DCT-II)
            self.register_buffer("basis", cosine_basis(frames, temporal_basis))  # (K, T)
        self.head = nn.Linear(width, (temporal_basis or frames) * (len(self.lo) + 3))

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        B, T, n = z.shape[0], self.frames, len(self.lo)
        out = self.head(self.trunk(z))
        if self.temporal_basis > 0:
            out = torch.einsum("bkc,kt->btc", out.reshape(B, self.temporal_basis, n + 3), self.basis)
        else:
            out = out.reshape(B, T, n + 3)
        angles = self.lo + (torch.tanh(out[..., :n]) + 1) / 2 * (self.hi - self.lo)
        root = torch.cat([torch.tanh(out[..., n : n + 2]), torch.sigmoid(out[..., n + 2 :])], -1)
        nd = self.body_model.num_dofs
        return angles[..., :nd], angles[..., nd:], root

    def generate(self, z, bones, R, T, K, aspect) -> dict[str, torch.Tensor]:
        """Sequences seen by one camera each (R (B,3,3), T (B,3), K (B,9), aspect (B,)); bones (B, 15).
        Returns ``world``/``cam`` (B,T,16,3) root-relative, ``pose2d`` (B,T,16,2), ``root_cam`` (B,T,3)."""
        dofs, rot, code = (t.float() for t in self(z))
        B, F = dofs.shape[:2]
        with full_precision(z.device):  # the geometry in float32 when the network ran under autocast
            world = forward_kinematics(self.body_model, dofs, bones[:, None].expand(B, F, -1), rot)
            root_cam = self.root_in_camera(
                code.reshape(B * F, 3), K.repeat_interleave(F, 0), aspect.repeat_interleave(F, 0)
            ).reshape(B, F, 3)
            cam_rel = world @ R[:, None].transpose(-1, -2)
            pose2d = project(cam_rel + root_cam[:, :, None], K[:, None], clamp=False)
        return {"world": world, "cam": cam_rel, "pose2d": pose2d, "root_cam": root_cam, "dofs": dofs, "rotation": rot}


class _Merge(nn.Module):
    def __init__(self, streams: list[nn.Module], width: int) -> None:
        super().__init__()
        self.streams = nn.ModuleList(streams)
        self.merge = nn.Sequential(nn.Linear(len(streams) * width, 100), nn.ReLU(), _Res(100), nn.Linear(100, 1))

    def score(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return self.merge(torch.cat([s(x) for s, x in zip(self.streams, inputs)], -1))[:, 0]


class MotionDiscriminator3D(_Merge):
    """Root-relative world sequences (B, T, 16, 3) -> score."""

    def __init__(self, frames: int, width: int = 256) -> None:
        T = frames
        super().__init__(
            [
                _stream(15 * T, width),
                _stream(15 * (T - 1), width),
                _stream(48 * T, width),
                _stream(48 * (T - 1), width),
            ],
            width,
        )

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        c = bone_cosines(seq)
        B = seq.shape[0]
        return self.score(
            [c.reshape(B, -1), c.diff(dim=1).reshape(B, -1), seq.reshape(B, -1), seq.diff(dim=1).reshape(B, -1)]
        )


class MotionDiscriminator2D(_Merge):
    """Normalised 2D sequences (B, T, 16, 2) -> score, from the poses and the root's image steps."""

    def __init__(self, frames: int, width: int = 256) -> None:
        super().__init__([_stream(32 * frames, width), _stream(2 * (frames - 1), width)], width)

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        B = seq.shape[0]
        return self.score([seq.reshape(B, -1), seq[:, :, 0].diff(dim=1).reshape(B, -1)])


def four_ways(seq: torch.Tensor) -> torch.Tensor:
    """(B, T, J, D) -> (4B, T, J, D): as is, mirrored, time-reversed, mirrored and reversed."""
    rev = seq.flip(1)
    return torch.cat([seq, mirror_pose(seq), rev, mirror_pose(rev)])


def joint_acceleration(seq: torch.Tensor) -> torch.Tensor:
    """(B, T, J, 3) -> (B,) mean joint acceleration ``|p[t+1] - 2 p[t] + p[t-1]|`` (units per frame^2)."""
    acc = seq[:, 2:] - 2 * seq[:, 1:-1] + seq[:, :-2]
    return torch.linalg.norm(acc, dim=-1).mean((1, 2))


__all__ = ["MotionDiscriminator2D", "MotionDiscriminator3D", "VideoGenerator", "four_ways", "joint_acceleration"]
