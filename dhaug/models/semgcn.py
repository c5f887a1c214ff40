"""SemGCN (Zhao et al., CVPR 2019): semantic graph convolutions over the skeleton graph, without
the non-local blocks (method.md §8)."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..skeleton import H36M16, Skeleton
from .common import Dropout


def skeleton_adjacency(skeleton: Skeleton = H36M16) -> torch.Tensor:
    """(J, J) symmetric 0/1 adjacency of the bone graph with self-loops."""
    J = skeleton.num_joints
    adj = torch.eye(J)
    for p, c in skeleton.bones:
        adj[p, c] = adj[c, p] = 1.0
    return adj


class SemGraphConv(nn.Module):
    """Semantic graph convolution: a learnable weight per edge of the adjacency (softmax-normalised
    per row), separate transforms for the node itself and for its neighbours.

    (B, J, C_in) -> (B, J, C_out).
    """

    def __init__(self, in_features: int, out_features: int, adj: torch.Tensor) -> None:
        super().__init__()
        self.W = nn.Parameter(torch.empty(2, in_features, out_features))
        nn.init.xavier_uniform_(self.W, gain=math.sqrt(2.0))
        self.register_buffer("mask", adj > 0, persistent=False)
        self.e = nn.Parameter(torch.ones(int(self.mask.sum())))
        self.bias = nn.Parameter(torch.empty(out_features))
        bound = 1.0 / math.sqrt(out_features)
        nn.init.uniform_(self.bias, -bound, bound)

    def adjacency(self, dtype: torch.dtype) -> torch.Tensor:
        """(J, J) row-softmax of the learnable edge weights over the skeleton's edges."""
        logits = torch.full(self.mask.shape, -9e15, dtype=dtype, device=self.e.device)
        return torch.softmax(logits.masked_scatter(self.mask, self.e.to(dtype)), dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        A = self.adjacency(x.dtype)
        B, J, _ = x.shape
        h0 = x @ self.W[0]  # the node's own features
        h1 = x @ self.W[1]  # features passed to neighbours
        self_term = torch.diagonal(A)[:, None] * h0
        off = A - torch.diag(torch.diagonal(A))
        # one (J, J) @ (J, B*C) product instead of B small ones
        neigh = (off @ h1.transpose(0, 1).reshape(J, -1)).reshape(J, B, -1).transpose(0, 1)
        return self_term + neigh + self.bias


class _GraphConvBlock(nn.Module):
    def __init__(self, adj: torch.Tensor, c_in: int, c_out: int, dropout: float) -> None:
        super().__init__()
        self.conv = SemGraphConv(c_in, c_out, adj)
        self.bn = nn.BatchNorm1d(c_out)
        self.drop = Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.bn(self.conv(x).transpose(1, 2)).transpose(1, 2)
        return self.drop(torch.relu(h))


class _ResBlock(nn.Module):
    def __init__(self, adj: torch.Tensor, width: int, dropout: float) -> None:
        super().__init__()
        self.a = _GraphConvBlock(adj, width, width, dropout)
        self.b = _GraphConvBlock(adj, width, width, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.b(self.a(x))


class SemGCN(nn.Module):
    """(B, J, 2) normalised 2D -> (B, J, 3) root-relative 3D (all J joints predicted)."""

    def __init__(self, skeleton: Skeleton = H36M16, hidden: int = 128, blocks: int = 4, dropout: float = 0.25) -> None:
        super().__init__()
        adj = skeleton_adjacency(skeleton)
        self.inp = _GraphConvBlock(adj, 2, hidden, 0.0)
        self.blocks = nn.Sequential(*[_ResBlock(adj, hidden, dropout) for _ in range(blocks)])
        self.out = SemGraphConv(hidden, 3, adj)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.blocks(self.inp(x)))
