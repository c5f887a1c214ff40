"""Synthetic training pairs. Each method is a subpackage — :mod:`.random` (random DH poses),
:mod:`.dhaug` (the DH-AUG GAN, single frames and video), :mod:`.poseaug` (PoseAug, for comparison) —
with a ``build(cfg, data, device)`` that returns a :class:`~.protocol.SyntheticSource` (and optionally a
``check(cfg)`` of its settings); :data:`~dhaug.registry.AUGMENT_METHODS` names them for ``augment.method``.
A new method is one subpackage and one line there."""

from __future__ import annotations

import importlib

from ..config import AugmentConfig, ExperimentConfig
from ..errors import ConfigError
from ..registry import AUGMENT_METHODS
from .common import BONE_GROUPS, CameraSet, Discriminator2D, project_to_cameras, scale_bones
from .dhaug import DHAugmenter, generator_from_checkpoint
from .poseaug import PoseAugmenter
from .protocol import EpochPairs, Source, SyntheticSource, no_pairs
from .random import RandomDHAugmenter


def method_module(cfg: ExperimentConfig):
    """The subpackage of ``cfg.augment.method`` (:data:`~dhaug.registry.AUGMENT_METHODS`); None for ``none``."""
    name = cfg.augment.method
    if name not in AUGMENT_METHODS:
        raise ConfigError(f"augment.method = {name!r}: must be one of {', '.join(AUGMENT_METHODS)}")
    path = AUGMENT_METHODS[name]
    return None if path is None else importlib.import_module(path)


def check(cfg: ExperimentConfig) -> None:
    """The method's own checks of ``cfg`` (its ``check``, if it has one); raises ConfigError."""
    module = method_module(cfg)
    if module is not None and hasattr(module, "check"):
        module.check(cfg)


def build_source(cfg: ExperimentConfig, data, device) -> SyntheticSource | None:
    """The source named by ``cfg.augment.method`` for ``data`` (:class:`~dhaug.data.ExperimentData`);
    None for ``none``."""
    check(cfg)
    module = method_module(cfg)
    return None if module is None else module.build(cfg, data, device)


__all__ = [
    "AugmentConfig",
    "BONE_GROUPS",
    "CameraSet",
    "DHAugmenter",
    "Discriminator2D",
    "EpochPairs",
    "PoseAugmenter",
    "RandomDHAugmenter",
    "Source",
    "SyntheticSource",
    "build_source",
    "check",
    "method_module",
    "generator_from_checkpoint",
    "no_pairs",
    "project_to_cameras",
    "scale_bones",
]
