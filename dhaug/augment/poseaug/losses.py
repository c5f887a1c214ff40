"""PoseAug's losses: the rectified range penalty, the pose net's grouped error and the hardness
feedback built on it, and the LSGAN losses of its discriminators. Errors in metres."""

from __future__ import annotations

import torch

#: Per-joint weights of the pose net's error in the feedback loss, and the joint groups it is compared in.
FEEDBACK_WEIGHTS = (1, 5, 2, 1, 5, 2, 1, 1, 1, 1, 5, 2, 1, 5, 2, 1)

FEEDBACK_GROUPS = ((1, 4, 10, 13), (2, 5, 9, 11, 14), (3, 6, 12, 15))


def range_loss(x: torch.Tensor, mean: float, half_width: float) -> torch.Tensor:
    """Rectified squared distance: mean over all elements of ``(x - mean)^2`` where ``|x - mean| >
    half_width``, 0 inside the range. ``range_loss(x, 0, b)`` is the release's rectified L2."""
    d = (x - mean) ** 2
    return (d * (d > half_width**2)).mean()


def grouped_error(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The pose net's error for the feedback: per-joint distance (B, 16) x :data:`FEEDBACK_WEIGHTS`,
    averaged over each of the :data:`FEEDBACK_GROUPS`. (B, 16, 3) root-relative poses -> (B, 3)."""
    w = torch.tensor(FEEDBACK_WEIGHTS, dtype=pred.dtype, device=pred.device)
    err = torch.linalg.norm(pred - target, dim=-1) * w
    return torch.stack([err[:, list(g)].mean(-1) for g in FEEDBACK_GROUPS], -1)


def hard_ratio(fraction: float, start_end: tuple[float, float]) -> float:
    """The hardness target mu after ``fraction`` (0..1) of the GAN epochs: linear from start to end."""
    s, e = start_end
    return s + (e - s) * fraction


def feedback_loss(
    err_aug: torch.Tensor, err_orig: torch.Tensor, target: float, spread: float, mode: str = "range"
) -> torch.Tensor:
    """The feedback loss on grouped errors (B, 3) of the augmented and the original pairs.
    ``range`` (release): the hardness ``err_aug / err_orig`` within ``target`` +- ``spread``
    (:func:`range_loss`); ``paper``: ``|1 - exp(err_aug - target * err_orig)|`` (``spread`` unused)."""
    if mode == "paper":
        return (1 - torch.exp(err_aug - target * err_orig)).abs().mean()
    return range_loss(err_aug / err_orig.clamp_min(1e-6), target, spread)


def lsgan_critic_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """``0.5 (E[(D(real) - 1)^2] + E[D(fake)^2])`` on scores of any shape."""
    return 0.5 * (((real - 1) ** 2).mean() + (fake**2).mean())


def lsgan_generator_loss(fake: torch.Tensor) -> torch.Tensor:
    """``0.5 E[(D(fake) - 1)^2]``."""
    return 0.5 * ((fake - 1) ** 2).mean()


__all__ = [
    "FEEDBACK_GROUPS",
    "FEEDBACK_WEIGHTS",
    "feedback_loss",
    "grouped_error",
    "hard_ratio",
    "lsgan_critic_loss",
    "lsgan_generator_loss",
    "range_loss",
]
