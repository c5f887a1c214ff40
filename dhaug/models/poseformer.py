"""PoseFormer (Zheng et al., ICCV 2021): a spatial transformer over the joints of each frame, a
temporal transformer over the frames, and a learned weighted mean of the frames that predicts the
centre frame. Sizes of method.md §8: embedding 32 per joint (temporal width 16 x 32 = 512), depth 4,
8 heads, MLP ratio 2, stochastic depth 0.1.

(B, T, J, 2) normalised 2D -> (B, J, 3) root-relative 3D of the centre frame.
"""

from __future__ import annotations

import torch
from torch import nn


class DropPath(nn.Module):
    """Stochastic depth: drop a residual branch for whole samples with probability ``p`` (training only)."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.rand(x.shape[0], *([1] * (x.ndim - 1)), device=x.device, dtype=x.dtype) >= self.p
        return x * keep / (1 - self.p)


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(LN x), then x + MLP(LN x)."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float, drop_path: float, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(
            nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, dim), nn.Dropout(dropout)
        )
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm1(x)
        x = x + self.drop_path(self.attn(h, h, h, need_weights=False)[0])
        return x + self.drop_path(self.mlp(self.norm2(x)))


class PoseFormer(nn.Module):
    def __init__(
        self,
        frames: int = 9,
        num_joints: int = 16,
        embed_ratio: int = 32,
        depth: int = 4,
        heads: int = 8,
        mlp_ratio: float = 2.0,
        drop_path: float = 0.1,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.frames, self.num_joints = frames, num_joints
        dim = embed_ratio * num_joints
        rates = torch.linspace(0, drop_path, 2 * depth).tolist()  # stochastic depth grows with depth
        self.joint_embed = nn.Linear(2, embed_ratio)
        self.joint_pos = nn.Parameter(torch.zeros(1, num_joints, embed_ratio))
        self.spatial = nn.ModuleList(Block(embed_ratio, heads, mlp_ratio, rates[i], dropout) for i in range(depth))
        self.spatial_norm = nn.LayerNorm(embed_ratio)
        self.frame_pos = nn.Parameter(torch.zeros(1, frames, dim))
        self.temporal = nn.ModuleList(Block(dim, heads, mlp_ratio, rates[depth + i], dropout) for i in range(depth))
        self.temporal_norm = nn.LayerNorm(dim)
        self.frame_weights = nn.Conv1d(frames, 1, 1)  # learned weighted mean over frames
        self.head = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, num_joints * 3))
        nn.init.trunc_normal_(self.joint_pos, std=0.02)
        nn.init.trunc_normal_(self.frame_pos, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 3 and self.frames == 1:  # single-frame interface (B, J, 2)
            x = x[:, None]
        B, T, J, _ = x.shape
        if T != self.frames or J != self.num_joints:
            raise ValueError(
                f"PoseFormer built for (B, {self.frames}, {self.num_joints}, 2) input, got {tuple(x.shape)}"
            )
        h = self.joint_embed(x.reshape(B * T, J, 2)) + self.joint_pos
        for blk in self.spatial:
            h = blk(h)
        h = self.spatial_norm(h).reshape(B, T, -1) + self.frame_pos
        for blk in self.temporal:
            h = blk(h)
        h = self.frame_weights(self.temporal_norm(h))[:, 0]  # (B, dim)
        y = self.head(h).reshape(B, J, 3)
        return y - y[:, :1]  # root-relative: the root row is zero
