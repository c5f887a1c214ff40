"""SimpleBaseline (Martinez et al., ICCV 2017): a residual MLP lifting one 2D pose to 3D."""

from __future__ import annotations

import torch
from torch import nn

from .common import Dropout, kaiming_init, pad_root


class _Block(nn.Module):
    def __init__(self, width: int, dropout: float) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(width, width),
            nn.BatchNorm1d(width),
            nn.Identity(),  # the ReLU, fused into the dropout (keeps the layers' checkpoint indices)
            Dropout(dropout, relu=True),
            nn.Linear(width, width),
            nn.BatchNorm1d(width),
            nn.Identity(),  # the ReLU, fused into the dropout (keeps the layers' checkpoint indices)
            Dropout(dropout, relu=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.layers(x)


class SimpleBaseline(nn.Module):
    """(B, J, 2) normalised 2D -> (B, J, 3) root-relative 3D; predicts J-1 joints, root = 0."""

    def __init__(self, num_joints: int = 16, width: int = 1024, stages: int = 4, dropout: float = 0.25) -> None:
        super().__init__()
        self.num_joints = num_joints
        self.inp = nn.Sequential(
            nn.Linear(num_joints * 2, width), nn.BatchNorm1d(width), nn.Identity(), Dropout(dropout, relu=True)
        )
        self.blocks = nn.Sequential(*[_Block(width, dropout) for _ in range(stages)])
        self.out = nn.Linear(width, (num_joints - 1) * 3)
        kaiming_init(self, output=self.out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.out(self.blocks(self.inp(x.flatten(1))))
        return pad_root(y.view(len(x), self.num_joints - 1, 3))
