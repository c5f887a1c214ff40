"""Cross-dataset test sets: the CMU file format (``cmu_test.npz``) and the ``test_3dhp.npz`` format
used by PoseAug / DH-AUG for MPI-INF-3DHP. Both become :class:`PoseSet` objects (metres,
root-relative 3D; normalised 2D), keeping ``seq``/``frame`` for video models.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..files import check_npz
from ..skeleton import bone_lengths
from .poseset import PoseSet

#: 3DHP test set: the six test sequences split the 2,929-frame file at these frame indices.
TEST_3DHP_SEQ_ENDS = (603, 1143, 1648, 2201, 2477, 2929)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    check_npz(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except Exception as e:  # numpy raises OSError, ValueError, BadZipFile, EOFError...
        raise DataError(f"{path}: not a readable npz file without pickles ({type(e).__name__}: {e})") from None


def _check(path: Path, d: dict, key: str, shape: tuple) -> np.ndarray:
    if key not in d:
        raise DataError(f"{path}: missing key {key!r} (found: {', '.join(sorted(d))})")
    a = d[key]
    if a.ndim != len(shape) or any(s is not None and s != t for s, t in zip(shape, a.shape)):
        want = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
        raise DataError(f"{path}: key {key!r} has shape {a.shape}, expected {want}")
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        raise DataError(f"{path}: key {key!r} contains NaN or inf")
    return a


#: Normalised screen coordinates of in-image joints lie in [-1, 1] (x) and [-h/w, h/w] (y); a file
#: whose 2D goes past this is taken to hold pixels.
MAX_SCREEN = 10.0


def _screen_2d(path: Path, d: dict, n: int) -> np.ndarray:
    """(N, 16, 2) normalised screen 2D: ``pose2d``, or ``pose2d_px`` normalised by ``res`` (width, height)."""
    if "pose2d" not in d and "pose2d_px" in d:
        px = _check(path, d, "pose2d_px", (n, 16, 2)).astype(np.float64)
        res = _check(path, d, "res", (n, 2)).astype(np.float64)
        if np.any(res <= 0):
            raise DataError(f"{path}: key 'res' must hold positive image widths and heights")
        w, h = res[:, :1, None], res[:, 1:, None]
        return (px / w * 2 - np.concatenate([np.ones_like(h), h / w], -1)).astype(np.float32)
    a = _check(path, d, "pose2d", (n, 16, 2))
    big = float(np.abs(a).max()) if a.size else 0.0
    if big > MAX_SCREEN:
        raise DataError(
            f"{path}: key 'pose2d' holds values up to {big:,.1f}: that looks like pixels, not normalised "
            "screen coordinates (x / width * 2 - 1, y / width * 2 - height / width); store those in "
            "'pose2d', or give the pixels as 'pose2d_px' with 'res' (N, 2: width, height) and no "
            "'pose2d', and the loader normalises them"
        )
    return a


def _units_to_metres(path: Path, pose3d: np.ndarray, units: str) -> np.ndarray:
    """Millimetres or metres -> metres. ``auto`` decides from the median bone length."""
    if units == "auto":
        med = float(np.median(bone_lengths(pose3d[:: max(1, len(pose3d) // 2000)])))
        if 50 < med < 1000:
            units = "mm"
        elif 0.05 < med < 1.0:
            units = "m"
        else:
            raise DataError(
                f"{path}: cannot tell the units of 'pose3d' (median bone length {med:.4g}); pass units='mm' or 'm'"
            )
    if units not in ("mm", "m"):
        raise DataError(f"units must be 'mm', 'm' or 'auto', got {units!r}")
    return pose3d / 1000.0 if units == "mm" else pose3d


def load_cmu_test(path: str | Path) -> PoseSet:
    """Read a file in the ``cmu_test.npz`` format (3D camera frame in mm, normalised 2D)."""
    path = Path(path)
    return in_time_order(cmu_from_arrays(_read_npz(path), path), path)


def in_time_order(data: PoseSet, path: Path | str) -> PoseSet:
    """``data`` with its rows sorted by (``seq``, ``frame``) — video windows need each sequence as one
    block in time order; files stored otherwise are reordered, not rejected. A frame number given twice
    in one sequence is an error naming the file."""
    order = np.lexsort((data.frame, data.seq))
    s, f = data.seq[order], data.frame[order]
    dup = np.flatnonzero((s[1:] == s[:-1]) & (f[1:] == f[:-1]))
    if len(dup):
        raise DataError(
            f"{path}: sequence {int(s[dup[0]])} has frame {int(f[dup[0]])} more than once "
            "('seq'/'frame' must name each row once)"
        )
    return data if np.array_equal(order, np.arange(len(order))) else data.subset(order)


def cmu_from_arrays(d: dict[str, np.ndarray], path: Path | str) -> PoseSet:
    """A :class:`PoseSet` from the arrays of a ``cmu_test.npz``-format file; ``path`` names it in errors."""
    path = Path(path)
    pose3d = _check(path, d, "pose3d", (None, 16, 3)).astype(np.float64)
    n = len(pose3d)
    pose2d = _screen_2d(path, d, n)
    seq = _check(path, d, "seq", (n,)).astype(np.int64)
    frame = _check(path, d, "frame", (n,)).astype(np.int64)
    seq_json = _check(path, d, "seq_names", (None,))
    if n and (seq.min() < 0 or seq.max() >= len(seq_json)):
        raise DataError(
            f"{path}: 'seq' values must index 'seq_names' (0..{len(seq_json) - 1}), found {seq.min()}..{seq.max()}"
        )
    metas = []
    for i, s in enumerate(seq_json):
        try:
            metas.append(json.loads(str(s)))
        except json.JSONDecodeError:
            raise DataError(f"{path}: seq_names[{i}] is not a JSON object") from None
    actions = [str(m.get("action", "unknown")) for m in metas]
    action_names = sorted(set(actions))
    seq_action = np.array([action_names.index(a) for a in actions], dtype=np.int64)
    camera = np.array([int(m.get("camera", 0)) for m in metas], dtype=np.int64)
    pose3d = pose3d / 1000.0
    root = pose3d[:, 0].copy()
    fps = float(d["fps"]) if "fps" in d else 50.0
    names = [f"{m.get('clip', i)}/cam{m.get('camera', 0)}" for i, m in enumerate(metas)]
    return PoseSet(
        pose2d=pose2d.astype(np.float32),
        pose3d=(pose3d - pose3d[:, :1]).astype(np.float32),
        root=root.astype(np.float32),
        action=seq_action[seq] if n else seq,
        seq=seq,
        frame=frame,
        camera=camera[seq] if n else seq,
        action_names=action_names,
        seq_names=names,
        name=path.stem,
        fps=fps,
    )


def load_test_3dhp(path: str | Path, units: str = "auto") -> PoseSet:
    """Read the PoseAug/DH-AUG ``test_3dhp.npz`` (keys ``pose3d`` (N,16,3), ``pose2d`` (N,16,2)
    normalised; 16-joint H36M order). Sequences: ``seq``/``frame`` keys if present, else the six test
    sequences of method.md §9 when N = 2929, else one sequence."""
    path = Path(path)
    d = _read_npz(path)
    pose3d = _units_to_metres(path, _check(path, d, "pose3d", (None, 16, 3)).astype(np.float64), units)
    n = len(pose3d)
    pose2d = _screen_2d(path, d, n)
    if "seq" in d:
        seq = _check(path, d, "seq", (n,)).astype(np.int64)
        frame = _check(path, d, "frame", (n,)).astype(np.int64) if "frame" in d else np.arange(n)
    elif n == TEST_3DHP_SEQ_ENDS[-1]:
        seq = np.searchsorted(np.array(TEST_3DHP_SEQ_ENDS), np.arange(n), side="right")
        starts = np.array((0,) + TEST_3DHP_SEQ_ENDS[:-1])
        frame = np.arange(n) - starts[seq]
    else:
        seq, frame = np.zeros(n, np.int64), np.arange(n)
    nseq = int(seq.max()) + 1 if n else 0
    return in_time_order(
        PoseSet(
            pose2d=pose2d.astype(np.float32),
            pose3d=(pose3d - pose3d[:, :1]).astype(np.float32),
            root=pose3d[:, 0].astype(np.float32),
            action=np.zeros(n, np.int64),
            seq=seq,
            frame=frame,
            camera=np.zeros(n, np.int64),
            action_names=["all"],
            seq_names=[f"TS{i + 1}" for i in range(nseq)],
            name=path.stem,
            fps=25.0,
        ),
        path,
    )


def load_cross_set(path: str | Path) -> PoseSet:
    """Dispatch on the keys: ``seq_names`` → CMU format, otherwise the 3DHP format."""
    path = Path(path)
    d = _read_npz(path)
    if "seq_names" in d and "pose3d" in d:
        return load_cmu_test(path)
    if "pose3d" in d and ("pose2d" in d or "pose2d_px" in d):
        return load_test_3dhp(path)
    raise DataError(
        f"{path}: not a cross-dataset test file (needs 'pose3d' and 'pose2d'; found: {', '.join(sorted(d))})"
    )
