"""Pieces shared by the backbones."""

from __future__ import annotations

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


class Dropout(nn.Module):
    """``nn.Dropout`` with a cheaper mask on the CPU: the keep/drop decisions are 16-bit random integers
    compared with ``p`` (so ``p`` is rounded to a multiple of 1/65536; 0.25 is exact), eight per 64-bit
    draw of torch's default generator, instead of one ``bernoulli_`` draw per element — the same
    distribution and seeding, a different random stream, ~6x less time (``benchmarks/throughput.py``).
    Elsewhere (CUDA) and in eval mode it is ``nn.functional.dropout``. (B, ...) -> same shape."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if x.device.type != "cpu":
            return nn.functional.dropout(x, self.p, True)
        n = x.numel()
        bits = torch.empty((n + 3) // 4, dtype=torch.int64).random_(-(2**63), 2**63 - 1)
        keep = bits.view(torch.int16)[:n].view(x.shape) >= -32768 + round(self.p * 65536)
        return x * keep.to(x.dtype).mul_(1.0 / (1.0 - self.p))

    def extra_repr(self) -> str:
        return f"p={self.p}"
