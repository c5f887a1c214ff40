"""Single-frame ST-GCN lifter on the 16-joint graph: the graph network of Cai et al. (ICCV 2019) with one
frame, PoseAug's strongest single-frame backbone: partitioned graph convolutions, part pooling and a
non-local block. (B, 16, 2) normalised 2D -> (B, 16, 3) root-relative 3D.

Structure and differences from PoseAug's release: docs/models.md#st-gcn
"""

from __future__ import annotations

import torch
from torch import nn

from ..skeleton import H36M16, Skeleton
from .common import Dropout

#: Body parts of :data:`H36M16` for part pooling: torso+head, left arm, right arm, left leg, right leg.
PARTS_16 = ((0, 7, 8, 9), (10, 11, 12), (13, 14, 15), (4, 5, 6), (1, 2, 3))
#: The part graph: torso (0) linked to every limb; symmetric links left arm-right arm, left leg-right leg.
PART_EDGES = ((0, 1), (0, 2), (0, 3), (0, 4))
PART_SYMMETRY = ((1, 2), (3, 4))


def _hops_to_centre(num_nodes: int, edges, centre: int) -> torch.Tensor:
    """(V,) graph distance of every node from ``centre`` along ``edges`` (breadth-first)."""
    nbrs = [[] for _ in range(num_nodes)]
    for a, b in edges:
        nbrs[a].append(b)
        nbrs[b].append(a)
    dist = [-1] * num_nodes
    dist[centre], frontier = 0, [centre]
    while frontier:
        nxt = []
        for a in frontier:
            for b in nbrs[a]:
                if dist[b] < 0:
                    dist[b] = dist[a] + 1
                    nxt.append(b)
        frontier = nxt
    if min(dist) < 0:
        raise ValueError("the graph is not connected")
    return torch.tensor(dist)


def partitioned_adjacency(num_nodes: int, edges, symmetric, centre: int = 0) -> torch.Tensor:
    """(4, V, V) adjacency subsets ``[self, closer to centre, farther from centre, symmetric]``.

    Entry ``[k, i, j]`` is the weight with which node ``j`` receives from node ``i``; every column is
    normalised by the in-degree of ``j`` in the whole graph (self-loop, bones and symmetric links), so the
    four subsets together average over a node's neighbourhood.
    """
    dist = _hops_to_centre(num_nodes, edges, centre)
    A = torch.zeros(4, num_nodes, num_nodes)
    A[0] = torch.eye(num_nodes)
    for a, b in edges:
        for i, j in ((a, b), (b, a)):  # i sends to j
            A[1 if dist[i] < dist[j] else 2, i, j] = 1.0
    for a, b in symmetric:
        A[3, a, b] = A[3, b, a] = 1.0
    degree = A.sum(dim=(0, 1))  # (V,) in-degree of each receiving node
    return A / degree


class PartitionedGraphConv(nn.Module):
    """Graph convolution with one weight matrix per adjacency subset and a learnable edge importance.

    (B, C_in, V) -> (B, C_out, V) with ``adjacency`` (K, V, V).
    """

    def __init__(self, c_in: int, c_out: int, adjacency: torch.Tensor) -> None:
        super().__init__()
        self.K = adjacency.shape[0]
        self.register_buffer("A", adjacency.clone(), persistent=False)
        self.importance = nn.Parameter(torch.ones_like(adjacency))
        self.linear = nn.Conv1d(c_in, c_out * self.K, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, _, V = x.shape
        h = self.linear(x).view(B, self.K, -1, V)  # (B, K, C_out, V)
        A = (self.A * self.importance).to(h.dtype)  # (K, V, V)
        return torch.einsum("bkcv,kvw->bcw", h, A)


class _Block(nn.Module):
    """Graph conv, BN, ReLU, dropout, 1x1, BN, dropout, plus a residual (projected when widths differ)."""

    def __init__(self, c_in: int, c_out: int, adjacency: torch.Tensor, dropout: float, residual: bool = True) -> None:
        super().__init__()
        self.gcn = PartitionedGraphConv(c_in, c_out, adjacency)
        self.post = nn.Sequential(
            nn.BatchNorm1d(c_out),
            nn.ReLU(),
            Dropout(dropout),
            nn.Conv1d(c_out, c_out, 1),
            nn.BatchNorm1d(c_out),
            Dropout(dropout),
        )
        if not residual:
            self.res = None
        elif c_in == c_out:
            self.res = nn.Identity()
        else:
            self.res = nn.Sequential(nn.Conv1d(c_in, c_out, 1), nn.BatchNorm1d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.post(self.gcn(x))
        return torch.relu(h if self.res is None else h + self.res(x))


class NonLocal(nn.Module):
    """Embedded-Gaussian non-local block (self-attention over the nodes) with a residual; its output
    layer starts at zero, so the block starts as the identity. (B, C, V) -> (B, C, V)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        inner = max(1, channels // 2)
        self.theta, self.phi, self.g = (nn.Conv1d(channels, inner, 1) for _ in range(3))
        self.out = nn.Sequential(nn.Conv1d(inner, channels, 1), nn.BatchNorm1d(channels))
        nn.init.zeros_(self.out[1].weight)
        nn.init.zeros_(self.out[1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        attn = torch.softmax(self.theta(x).transpose(1, 2) @ self.phi(x), dim=-1)  # (B, V, V)
        y = self.g(x) @ attn.transpose(1, 2)  # (B, inner, V)
        return x + self.out(y)


class STGCN(nn.Module):
    """(B, J, 2) normalised 2D -> (B, J, 3) root-relative 3D (all joints predicted, then the predicted root
    subtracted). ``channels``: the three joint-level widths; ``part_channels``: the part-level width."""

    def __init__(
        self,
        skeleton: Skeleton = H36M16,
        channels: tuple[int, int, int] = (128, 128, 256),
        part_channels: int = 512,
        dropout: float = 0.1,
        parts=PARTS_16,
    ) -> None:
        super().__init__()
        J = skeleton.num_joints
        if sorted(j for p in parts for j in p) != list(range(J)):
            raise ValueError(f"parts {parts} must cover each of the {J} joints exactly once")
        self.parts = [list(p) for p in parts]
        part_of = torch.empty(J, dtype=torch.long)
        for i, p in enumerate(parts):
            part_of[list(p)] = i
        self.register_buffer("part_of", part_of, persistent=False)
        A = partitioned_adjacency(J, skeleton.bones, tuple(zip(skeleton.left, skeleton.right)))
        A_part = partitioned_adjacency(len(parts), PART_EDGES, PART_SYMMETRY)
        c1, c2, c3 = channels
        self.data_bn = nn.BatchNorm1d(2 * J)
        self.joints = nn.Sequential(
            _Block(2, c1, A, dropout, residual=False), _Block(c1, c2, A, dropout), _Block(c2, c3, A, dropout)
        )
        self.part_blocks = nn.Sequential(
            _Block(c3, part_channels, A_part, dropout), _Block(part_channels, part_channels, A_part, dropout)
        )
        self.body = nn.Sequential(
            nn.Conv1d(part_channels, part_channels, 1), nn.BatchNorm1d(part_channels), nn.ReLU(), Dropout(dropout)
        )
        self.fuse = nn.Sequential(nn.Conv1d(2 * part_channels, c3, 1), nn.BatchNorm1d(c3), nn.ReLU(), Dropout(dropout))
        self.non_local = NonLocal(2 * c3)
        self.head = nn.Sequential(Dropout(dropout), nn.Conv1d(2 * c3, 3, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[-1] != 2:
            raise ValueError(f"STGCN expects (B, J, 2) 2D poses, got shape {tuple(x.shape)}")
        B, J, _ = x.shape
        h = self.data_bn(x.reshape(B, 2 * J)).view(B, J, 2).transpose(1, 2)  # (B, 2, J)
        h = self.joints(h)  # (B, c3, J)
        parts = torch.stack([h[:, :, p].amax(dim=-1) for p in self.parts], dim=-1)  # (B, c3, P)
        parts = self.part_blocks(parts)  # (B, C_p, P)
        body = self.body(parts.amax(dim=-1, keepdim=True))  # (B, C_p, 1)
        fused = self.fuse(torch.cat([body.expand_as(parts), parts], dim=1))  # (B, c3, P)
        h = torch.cat([h, fused[:, :, self.part_of]], dim=1)  # (B, 2 c3, J): each joint gets its part's feature
        y = self.head(self.non_local(h)).transpose(1, 2)  # (B, J, 3)
        return y - y[:, :1]  # root-relative, like the other backbones' outputs
