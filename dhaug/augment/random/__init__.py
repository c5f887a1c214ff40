"""Random DH poses (the paper's "normal" mode, method.md §7): :class:`RandomDHAugmenter` draws them,
:class:`RandomSource` hands them to the training loop."""

from .sampler import RandomDHAugmenter
from .source import RandomSource, build

__all__ = ["RandomDHAugmenter", "RandomSource", "build"]
