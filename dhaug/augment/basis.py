"""The slow cosines that make generated and random DH sequences smooth over a window."""

from __future__ import annotations

import torch

from ..errors import ConfigError


def cosine_basis(frames: int, count: int) -> torch.Tensor:
    """(count, frames) DCT-II cosines ``cos(pi k (t + 1/2) / T)``, k = 0 .. count-1 (k = 0: constant)."""
    t, k = torch.arange(frames) + 0.5, torch.arange(count)
    return torch.cos(torch.pi * k[:, None] * t[None, :] / frames)


def temporal_basis(setting: int, frames: int) -> int:
    """``augment.video.temporal_basis`` for ``frames``-frame windows: -1 (auto) -> round(0.45 T) cosines
    (9 frames: 4; 27: 12; 81: 36), else as given (0: free per-frame outputs, the paper)."""
    if setting < -1:
        raise ConfigError(f"augment.video.temporal_basis = {setting}: use -1 (auto), 0 (paper) or a number of cosines")
    k = max(2, round(0.45 * frames)) if setting == -1 else setting
    if k > frames:
        raise ConfigError(f"augment.video.temporal_basis = {k} is more cosines than the window's {frames} frames")
    return k
