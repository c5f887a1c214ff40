"""Progress display that reads well both on a terminal and in a redirected log: a tqdm bar on a terminal;
otherwise, for a pass still running ``quiet_s`` seconds after it began, one plain line at 25, 50, 75 and
100 %; nothing with ``enabled`` = False.

    for batch in progress_bar(batches, desc="epoch 1 real", enabled=progress):
        ...

The policy in full: docs/cli.md#progress-output
"""

from __future__ import annotations

import sys
import time
from typing import IO, Iterable

#: Seconds a pass runs before a redirected (non-terminal) log gets its 25 % lines.
QUIET_S = 60.0


def is_terminal(stream) -> bool:
    """Whether ``stream`` is an open terminal (a bar redrawn with ``\\r`` reads well there)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False


class PlainProgress:
    """A tqdm stand-in for logs: ``update``, ``close``, iteration and ``with``; prints a plain line per
    quarter of ``total`` once ``quiet_s`` seconds have passed (never when ``stream`` is None)."""

    def __init__(
        self,
        iterable: Iterable | None = None,
        total: int | None = None,
        desc: str = "",
        unit: str = "it",
        stream: IO | None = None,
        quiet_s: float = QUIET_S,
    ):
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.iterable, self.total, self.desc, self.unit = iterable, total, desc, unit
        self.stream, self.quiet_s = stream, quiet_s
        self.n, self._quarter, self._t0 = 0, 0, time.monotonic()

    def __iter__(self):
        for item in self.iterable:
            yield item
            self.update(1)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        self.n += n
        if self.stream is None or not self.total:
            return
        quarter = min(4, 4 * self.n // self.total)
        if quarter > self._quarter:
            self._quarter = quarter
            elapsed = time.monotonic() - self._t0
            if elapsed >= self.quiet_s:
                print(
                    f"{self.desc}: {25 * quarter}% ({self.n}/{self.total} {self.unit}) {elapsed:.0f} s",
                    file=self.stream,
                    flush=True,
                )

    def set_postfix(self, *args, **kwargs) -> None:
        """Accepted for tqdm compatibility; a plain log shows no postfix."""

    def close(self) -> None:
        pass


def progress_bar(
    iterable: Iterable | None = None,
    *,
    total: int | None = None,
    desc: str = "",
    unit: str = "it",
    enabled: bool = True,
    leave: bool = False,
    stream: IO | None = None,
    quiet_s: float = QUIET_S,
):
    """A tqdm bar over ``iterable`` (or of ``total`` steps, advanced by ``update``) when ``enabled`` and
    ``stream`` (default ``sys.stderr``) is a terminal; otherwise a :class:`PlainProgress` (plain 25 %
    lines for passes longer than ``quiet_s`` seconds; silent when not ``enabled``)."""
    stream = sys.stderr if stream is None else stream
    if enabled and is_terminal(stream):
        from tqdm.auto import tqdm  # late: bars only on a terminal

        return tqdm(iterable, total=total, desc=desc, unit=unit, leave=leave, file=stream, dynamic_ncols=True)
    return PlainProgress(iterable, total, desc, unit, stream if enabled else None, quiet_s)
