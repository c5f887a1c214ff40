"""Temporal windows for multi-frame lifters (method.md §6), as row indices into a :class:`PoseSet`.

A window of ``T`` (odd) frames is centred on a row, ``step`` rows apart, inside the row's own sequence; past
either end the first or last row is repeated. The windows are an ``(M, T)`` index array, and a batch is
``pose2d[index[b]]`` -> ``(B, T, 16, 2)``. Given the rows' ``frame`` numbers, windows are cut in time.

Details (training and test protocols, cutting in time): docs/data.md#temporal-windows
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .poseset import PoseSet


def sequence_bounds(seq: np.ndarray, name: str = "PoseSet") -> tuple[np.ndarray, np.ndarray]:
    """(N,) first and one-past-last row of each row's sequence; sequences must be contiguous blocks."""
    seq = np.asarray(seq)
    n = len(seq)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    change = np.flatnonzero(seq[1:] != seq[:-1]) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [n]])
    block_ids = seq[starts]
    uniq, counts = np.unique(block_ids, return_counts=True)
    if np.any(counts > 1):
        dup = uniq[counts > 1][0]
        raise DataError(
            f"{name}: the frames of sequence {int(dup)} are not contiguous; windows need each "
            "sequence stored as one block in time order"
        )
    lengths = ends - starts
    return np.repeat(starts, lengths), np.repeat(ends, lengths)


def window_rows(
    seq: np.ndarray,
    frames: int,
    step: int = 1,
    centres: np.ndarray | None = None,
    name: str = "PoseSet",
    frame: np.ndarray | None = None,
) -> np.ndarray:
    """(M, frames) row indices of windows centred on ``centres`` (default: every row).

    Without ``frame``: rows ``c + step * o`` for ``o = -(frames-1)/2 .. (frames-1)/2``, clamped to the
    sequence of row ``c``. With ``frame`` ((N,) frame numbers, increasing inside each sequence): the
    rows whose frames are nearest to ``frame[c] + step * o``, clamped to the sequence's first and last
    frame (ties go to the row nearer the centre).
    """
    if frames < 1 or frames % 2 != 1:
        raise ValueError(f"a window needs an odd number of frames, got {frames}")
    if step < 1:
        raise ValueError(f"window step must be >= 1, got {step}")
    start, end = sequence_bounds(seq, name)
    c = np.arange(len(seq)) if centres is None else np.asarray(centres)
    half = (frames - 1) // 2
    offsets = step * np.arange(-half, half + 1)
    lo_row, hi_row = start[c][:, None], end[c][:, None] - 1
    if frame is None:
        return np.clip(c[:, None] + offsets[None, :], lo_row, hi_row)
    return _nearest_frame_rows(np.asarray(seq), np.asarray(frame, dtype=np.int64), c, offsets, lo_row, hi_row, name)


def _nearest_frame_rows(seq, frame, c, offsets, lo_row, hi_row, name) -> np.ndarray:
    """Rows of the frames nearest to ``frame[c] + offsets`` inside each centre's sequence."""
    if frame.shape != seq.shape:
        raise DataError(f"{name}: 'frame' has shape {frame.shape}, 'seq' {seq.shape}")
    same = seq[1:] == seq[:-1]
    bad = np.flatnonzero(same & (frame[1:] <= frame[:-1]))
    if len(bad):
        r = int(bad[0]) + 1
        raise DataError(
            f"{name}: frame numbers must increase inside a sequence; sequence {int(seq[r])} has frame "
            f"{int(frame[r])} after frame {int(frame[r - 1])} (row {r})"
        )
    # one increasing key over all rows: (block of the sequence, frame), so a single searchsorted finds them
    block = np.concatenate([[0], np.cumsum(~same)])
    fmin = int(frame.min())
    span = int(frame.max()) - fmin + 1
    key = block * span + (frame - fmin)
    target = np.clip(frame[c][:, None] + offsets[None, :], frame[lo_row], frame[hi_row])
    tkey = block[c][:, None] * span + (target - fmin)
    hi = np.clip(np.searchsorted(key, tkey, side="left"), lo_row, hi_row)
    lo = np.maximum(hi - 1, lo_row)
    d_hi, d_lo = key[hi] - tkey, tkey - key[lo]
    take_hi = (d_hi < d_lo) | ((d_hi == d_lo) & (offsets[None, :] < 0))
    return np.where(take_hi, hi, lo)


def centre_rows(data: PoseSet, every: int = 1) -> np.ndarray:
    """Rows whose ``frame`` is a multiple of ``every`` (the evaluated centres of a subsampled test)."""
    return np.flatnonzero(data.frame % every == 0) if every > 1 else np.arange(len(data))


def step_for_rate(data: PoseSet, train_fps: float) -> int:
    """Window step that gives ``data`` (at ``data.fps``) the training frame rate (>= 1)."""
    return max(1, int(round(data.fps / train_fps)))
