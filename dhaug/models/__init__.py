"""Lifting backbones. All share one interface: ``(B, J, 2)`` normalised 2D -> ``(B, J, 3)``
root-relative 3D in metres. :func:`build_model` makes one from a :class:`~dhaug.config.ModelConfig`."""
from __future__ import annotations

from torch import nn

from ..errors import ConfigError
from .semgcn import SemGCN
from .simple_baseline import SimpleBaseline
from .videopose import TemporalConvNet, VideoPoseSingleFrame

MODELS = ("videopose", "mlp", "semgcn")


def build_model(cfg) -> nn.Module:
    """Build the backbone named ``cfg.name`` with the sizes in ``cfg`` (method.md §8)."""
    if cfg.name == "videopose":
        return VideoPoseSingleFrame(channels=cfg.channels, stages=cfg.stages, dropout=cfg.dropout)
    if cfg.name == "mlp":
        return SimpleBaseline(width=cfg.channels, stages=cfg.stages, dropout=cfg.dropout)
    if cfg.name == "semgcn":
        return SemGCN(hidden=cfg.gcn_hidden, blocks=cfg.gcn_blocks, dropout=cfg.dropout)
    raise ConfigError(f"model.name = {cfg.name!r} is not a backbone; choose one of {', '.join(MODELS)}")


__all__ = ["MODELS", "build_model", "SemGCN", "SimpleBaseline", "TemporalConvNet", "VideoPoseSingleFrame"]
