"""The one interface between the training loop and a synthetic-pair method: :class:`SyntheticSource`
(a ``typing.Protocol``), the :class:`EpochPairs` it returns, and :class:`Source`, a base class with the
defaults (no warm-up, the loop's LR, nothing to save). 2D pairs are normalised screen coordinates
(P, 16, 2) — windows (P, T, 16, 2) —, 3D root-relative camera-frame metres (P, 16, 3)."""

from __future__ import annotations

from typing import NamedTuple, Protocol, runtime_checkable

import torch
from torch import nn


class EpochPairs(NamedTuple):
    """One epoch's synthetic pairs and the source's log values (floats, keys like ``gan/d3``)."""

    logs: dict[str, float]
    pose2d: torch.Tensor
    pose3d: torch.Tensor


def no_pairs(logs: dict[str, float] | None = None, frames: int = 1) -> EpochPairs:
    """An epoch without synthetic pairs (warm-up, pre-training)."""
    return EpochPairs(logs or {}, torch.zeros((0, 16, 2) if frames == 1 else (0, frames, 16, 2)), torch.zeros(0, 16, 3))


@runtime_checkable
class SyntheticSource(Protocol):
    """What the training loop needs from an augmentation method.

    Attributes:
        pose_start: source-only epochs (e.g. a GAN's warm-up) before the pose net's first epoch.
        networks: the source's trained networks and their optimisers (``{}`` / ``{}`` when it trains
            none): made equal across ranks and gradient-averaged under torchrun.
    """

    pose_start: int
    networks: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]

    def attach(self, pose_net: nn.Module) -> None:
        """Called once with the pose net (a source may read its errors, as PoseAug's feedback does)."""

    def pose_lr(self, pose_epoch: int, lr: float) -> float:
        """The pose net's LR in pose-net epoch ``pose_epoch``, given the loop's schedule value ``lr``."""

    def epoch_pairs(self, epoch: int, progress: bool) -> EpochPairs:
        """Train the source for loop epoch ``epoch`` (0-based, warm-up included) if it trains, and return
        that epoch's pairs (none before it has any)."""

    def state_dict(self) -> dict:
        """Everything needed to resume exactly (networks, optimisers, random state, counters)."""

    def load_state_dict(self, state: dict) -> None: ...


class Source:
    """Defaults of :class:`SyntheticSource`: no warm-up, no networks, the loop's LR, nothing to save.
    Subclasses implement :meth:`epoch_pairs` and override what they need."""

    pose_start = 0

    @property
    def networks(self) -> dict[str, nn.Module]:
        return {}

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {}

    def attach(self, pose_net: nn.Module) -> None:
        pass

    def pose_lr(self, pose_epoch: int, lr: float) -> float:
        return lr

    def epoch_pairs(self, epoch: int, progress: bool) -> EpochPairs:
        raise NotImplementedError

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


__all__ = ["EpochPairs", "Source", "SyntheticSource", "no_pairs"]
