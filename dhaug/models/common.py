"""Pieces shared by the backbones."""

from __future__ import annotations

import math

import torch
from torch import nn


def kaiming_init(module: nn.Module, output: nn.Module | None = None) -> None:
    """Kaiming-normal init of every hidden ``nn.Linear`` (method.md §5: the release applies it to
    Linear layers only, so convolutional models keep PyTorch's default init). ``output`` keeps the
    default init: a Kaiming-scaled output layer starts with predictions of several metres, which
    costs many epochs to undo (measured: MPJPE 265 vs 137 mm after 3 short epochs)."""
    for m in module.modules():
        if isinstance(m, nn.Linear) and m is not output:
            nn.init.kaiming_normal_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def pad_root(joints: torch.Tensor) -> torch.Tensor:
    """(..., J-1, 3) non-root joints -> (..., J, 3) with a zero root prepended."""
    return torch.cat([torch.zeros_like(joints[..., :1, :]), joints], dim=-2)


def keep_mask(shape: torch.Size | tuple[int, ...], p: float) -> torch.Tensor:
    """A CPU dropout mask (bool, ``shape``), each element True with probability 1 - ``p``: 8-bit random
    integers compared with ``p``, eight per 64-bit draw of torch's default generator, where ``p`` is a
    multiple of 1/256 (0.25 is), else 16-bit ones, four per draw (``p`` rounded to a multiple of 1/65536);
    one ``bernoulli_`` draw per element costs several times more (``benchmarks/throughput.py``)."""
    n = math.prod(shape)
    if float(p * 256).is_integer():
        bits = torch.empty((n + 7) // 8, dtype=torch.int64).random_(-(2**63), 2**63 - 1)
        return bits.view(torch.uint8)[:n].view(shape) >= int(p * 256)
    bits = torch.empty((n + 3) // 4, dtype=torch.int64).random_(-(2**63), 2**63 - 1)
    return bits.view(torch.int16)[:n].view(shape) >= -32768 + round(p * 65536)


class Dropout(nn.Module):
    """``nn.Dropout`` with a cheaper mask on the CPU (:func:`keep_mask`: the same distribution and
    seeding, a different random stream); with ``relu``, an in-place ReLU first (one module where the
    layers had two). Elsewhere (CUDA) and in eval mode: ``nn.functional.dropout``. (B, ...) -> same shape."""

    def __init__(self, p: float = 0.5, relu: bool = False) -> None:
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p, self.relu = p, relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.relu:
            x = torch.relu_(x)  # in place, as nn.ReLU(inplace=True) (the input is a BatchNorm's output)
        if not self.training or self.p == 0 or x.device.type != "cpu":
            return nn.functional.dropout(x, self.p, self.training)
        # arithmetic in x's dtype (a bf16 multiply is ~4x cheaper than a bool where / masked_fill here)
        return x * keep_mask(x.shape, self.p).to(x.dtype).mul_(1.0 / (1.0 - self.p))

    def extra_repr(self) -> str:
        return f"p={self.p}" + (", relu" if self.relu else "")
