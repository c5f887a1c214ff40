"""``augment.method: random`` in training: a fresh draw of random DH poses (or sequences) each epoch."""

from __future__ import annotations

import numpy as np
import torch

from ...config import ExperimentConfig
from ...data.windows import window_rows
from ...kinematics import get_body_model
from ...skeleton import bone_lengths
from ..common import resolve_limits, training_cameras, training_world
from ..protocol import EpochPairs, Source
from .sampler import RandomDHAugmenter


class RandomSource(Source):
    """Random DH poses (or sequences) each epoch; no warm-up, no state."""

    def __init__(self, aug: RandomDHAugmenter) -> None:
        self.aug = aug

    def epoch_pairs(self, epoch: int, progress: bool) -> EpochPairs:
        return EpochPairs({}, *self.aug.sample(epoch))


def build(cfg: ExperimentConfig, data, device: torch.device) -> RandomSource:
    """The source for ``data`` (:class:`~dhaug.data.ExperimentData`): the training subjects' bones,
    pelvis positions (trajectories of real windows for sequences) and cameras."""
    ac, frames = cfg.augment, cfg.model.frames
    cams, _ = training_cameras(data, ac.method)
    model, world = get_body_model(ac.body_model), training_world(data)
    roots = world[:, 0]
    if frames > 1:  # sequences: pelvis trajectories of real windows at the training frame rate
        paths = [p[:: cfg.data.downsample, 0] for s in data.train_subjects for p in data.mocap.positions[s].values()]
        seq = np.concatenate([np.full(len(p), i) for i, p in enumerate(paths)])
        roots = torch.as_tensor(np.concatenate(paths), dtype=torch.float32)[torch.as_tensor(window_rows(seq, frames))]
    return RandomSource(
        RandomDHAugmenter(
            model,
            bone_lengths(world),
            roots,
            cams,
            limits=resolve_limits(ac, model, world),
            settings=ac,
            seed=cfg.train.seed,
            frames=frames,
        )
    )


__all__ = ["RandomSource", "build"]
