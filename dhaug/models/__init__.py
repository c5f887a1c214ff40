"""Lifting backbones. All share one interface: ``(B, J, 2)`` normalised 2D -> ``(B, J, 3)``
root-relative 3D in metres. :func:`build_model` makes one from a :class:`~dhaug.config.ModelConfig`."""

from __future__ import annotations

from torch import nn

from ..config import MODEL_NAMES as MODELS
from ..errors import ConfigError
from .poseformer import PoseFormer
from .semgcn import SemGCN
from .simple_baseline import SimpleBaseline
from .stgcn import STGCN
from .videopose import TemporalConvNet, VideoPoseSingleFrame, VideoPoseTemporal, widths_for_frames


def build_model(cfg) -> nn.Module:
    """Build the backbone named ``cfg.name`` with the sizes in ``cfg`` (method.md §8)."""
    if cfg.frames > 1 and cfg.name in ("mlp", "semgcn", "stgcn"):
        raise ConfigError(
            f"model.name = {cfg.name!r} is a single-frame backbone; model.frames must be 1 "
            f"(got {cfg.frames}); use videopose or poseformer for windows"
        )
    if cfg.name == "videopose" and (cfg.frames > 1 or cfg.architecture):
        try:
            widths = tuple(cfg.architecture) if cfg.architecture else widths_for_frames(cfg.frames)
            model = VideoPoseTemporal(widths, channels=cfg.channels, dropout=cfg.dropout)
        except ValueError as e:
            raise ConfigError(f"model.frames / model.architecture: {e}") from None
        if model.frames != cfg.frames:
            raise ConfigError(
                f"model.architecture {list(widths)} has a receptive field of {model.frames} frames, "
                f"but model.frames = {cfg.frames}"
            )
        return model
    if cfg.name == "videopose":
        return VideoPoseSingleFrame(channels=cfg.channels, stages=cfg.stages, dropout=cfg.dropout)
    if cfg.name == "poseformer":
        return PoseFormer(
            cfg.frames,
            embed_ratio=cfg.embed_ratio,
            depth=cfg.depth,
            heads=cfg.heads,
            mlp_ratio=cfg.mlp_ratio,
            drop_path=cfg.drop_path,
        )
    if cfg.name == "mlp":
        return SimpleBaseline(width=cfg.channels, stages=cfg.stages, dropout=cfg.dropout)
    if cfg.name == "semgcn":
        return SemGCN(hidden=cfg.gcn_hidden, blocks=cfg.gcn_blocks, dropout=cfg.dropout)
    if cfg.name == "stgcn":
        h = cfg.gcn_hidden
        return STGCN(channels=(h, h, 2 * h), part_channels=4 * h, dropout=cfg.dropout)
    raise ConfigError(f"model.name = {cfg.name!r} is not a backbone; choose one of {', '.join(MODELS)}")


__all__ = [
    "MODELS",
    "build_model",
    "PoseFormer",
    "SemGCN",
    "SimpleBaseline",
    "STGCN",
    "TemporalConvNet",
    "VideoPoseSingleFrame",
    "VideoPoseTemporal",
    "widths_for_frames",
]
