"""Where and how tensors run: the device named in a config, and the process-wide CPU allocator setting."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

import torch

from .errors import ConfigError

_allocator_tuned = False


def resolve_device(name: str) -> torch.device:
    """``auto`` (CUDA when present, else the CPU), ``cpu``, ``cuda`` or ``cuda:N`` -> a torch device;
    anything else, or CUDA where there is none, is a :class:`ConfigError` naming the setting."""
    where = f"train.device (--device) = {name!r}"
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise ConfigError(f"{where} is not a device; use 'auto', 'cpu', 'cuda' or 'cuda:N'") from None
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"{where}: dhaug runs on 'cpu' or 'cuda' ('auto' picks CUDA when present)")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"{where} but CUDA is not available; use 'auto' or 'cpu'")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(f"{where} but this machine has {torch.cuda.device_count()} CUDA device(s)")
    return device


def keep_freed_memory() -> bool:
    """On Linux with glibc: keep freed heap memory in the process instead of returning it to the kernel
    after every large tensor, and serve large tensors from the heap rather than fresh ``mmap`` pages.

    A VideoPose3D train step frees and re-allocates ~100 activation tensors of 4 MB; by default each comes
    back as new pages, ~15,000 page faults and ~50 ms of kernel time per step on a 2-core VM
    (``benchmarks/profile_epoch.py``). Process-wide and idempotent; the resident memory then stays at its
    peak. Returns whether the setting was applied (False off glibc)."""
    global _allocator_tuned
    if _allocator_tuned:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
    _allocator_tuned = bool(mallopt(M_MMAP_THRESHOLD, 1 << 30)) and bool(mallopt(M_TRIM_THRESHOLD, (1 << 31) - 1))
    return _allocator_tuned
