"""The pose net's learning-rate schedule (method.md §5), a pure function of the epoch and
:class:`~dhaug.config.TrainConfig`; read by the training loop and by synthetic sources whose own
LRs follow it."""

from __future__ import annotations


def learning_rate(epoch: int, cfg) -> float:
    """``lr (1 - e/(E+1))`` (``cfg.lr_decay`` linear) or ``lr`` (constant) for pose-net epoch
    e < E = ``cfg.epochs``, then the tail ``lr/(E+1) * tail_decay^(e-E+1)``.

    Args:
        epoch: 0-based pose-net epoch.
        cfg: a :class:`~dhaug.config.TrainConfig` (``lr``, ``epochs``, ``lr_decay``, ``tail_decay``).
    Returns:
        The learning rate of that epoch.
    """
    E = cfg.epochs
    if epoch < E:
        return cfg.lr if cfg.lr_decay == "constant" else cfg.lr * (1 - epoch / (E + 1))
    return cfg.lr / (E + 1) * cfg.tail_decay ** (epoch - E + 1)


__all__ = ["learning_rate"]
