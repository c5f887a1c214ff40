"""Pieces shared by the backbones."""
from __future__ import annotations

import torch
from torch import nn


def kaiming_init(module: nn.Module) -> None:
    """Kaiming-normal init of every Linear / Conv1d weight, zero bias (method.md §5)."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv1d)):
            nn.init.kaiming_normal_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def pad_root(joints: torch.Tensor) -> torch.Tensor:
    """(..., J-1, 3) non-root joints -> (..., J, 3) with a zero root prepended."""
    return torch.cat([torch.zeros_like(joints[..., :1, :]), joints], dim=-2)
