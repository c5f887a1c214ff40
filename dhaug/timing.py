"""Wall-clock sections for profiling training: ``with section("pose/forward_backward"): ...`` adds the
section's seconds to the active :class:`Timer`; with none active it costs one global read.

A section's seconds are its own: an inner section pauses the outer one, so all seconds add up to the
time spent inside sections. A Timer on CUDA synchronises the device at each section's edges (only while
profiling) so the time lands where the work is.
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Iterator

import torch

_active: "Timer | None" = None


class Timer:
    """Collects the seconds and calls of every :func:`section` run while it is entered."""

    def __init__(self, device: torch.device | str = "cpu") -> None:
        self.cuda = torch.device(device).type == "cuda"
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._open: list[list] = []  # [name, start of its current stretch]

    def _start(self, name: str) -> None:
        self.sync()
        now = time.perf_counter()
        if self._open:  # pause the enclosing section
            outer = self._open[-1]
            self.seconds[outer[0]] += now - outer[1]
        self._open.append([name, now])
        self.calls[name] += 1

    def _stop(self) -> None:
        self.sync()
        now = time.perf_counter()
        name, start = self._open.pop()
        self.seconds[name] += now - start
        if self._open:  # resume the enclosing section
            self._open[-1][1] = now

    def sync(self) -> None:
        if self.cuda:
            torch.cuda.synchronize()

    def __enter__(self) -> "Timer":
        global _active
        if _active is not None:
            raise RuntimeError("a Timer is already active")
        _active = self
        return self

    def __exit__(self, *exc) -> None:
        global _active
        _active = None

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()


@contextmanager
def section(name: str) -> Iterator[None]:
    """Time the enclosed block under ``name`` in the active Timer (none: do nothing)."""
    timer = _active
    if timer is None:
        yield
        return
    timer._start(name)
    try:
        yield
    finally:
        timer._stop()
