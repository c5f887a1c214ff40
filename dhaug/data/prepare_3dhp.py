"""``dhaug prepare 3dhp``: the MPI-INF-3DHP test set (method.md §9), from SPIN's ``mpi_inf_3dhp_valid.npz`` or
P-STMO's ``data_test_3dhp.npz`` (told from the keys), into the ``test_3dhp.npz`` format that
:func:`dhaug.data.crossdata.load_test_3dhp` reads; joints mapped to our 16 by :data:`SPIN24_TO_16`.

Output: ``pose3d`` (N, 16, 3) float32 millimetres, camera frame; ``pose2d`` (N, 16, 2) float32 normalised
(``x / w * 2 - 1``, ``y / w * 2 - h / w``); ``seq`` (N,) = TS number - 1; ``frame`` (N,) the image frame index.

Details (source formats, joint tables, units, frame counts): docs/data.md#prepare-3dhp
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..skeleton import bone_lengths
from .crossdata import TEST_3DHP_SEQ_ENDS
from .pickles import load_npz, object_item
from .prepare_io import check_bone_lengths, output_path, write_npz

OUTPUT = "test_3dhp.npz"
#: ``ours[i] = spin24[SPIN24_TO_16[i]]`` (method.md §9).
SPIN24_TO_16 = (14, 2, 1, 0, 3, 4, 5, 16, 12, 18, 9, 10, 11, 8, 7, 6)
#: ``ours[i] = mpi17[MPI17_TO_16[i]]``, the 17 joints of the 3DHP test annotations.
MPI17_TO_16 = (14, 8, 9, 10, 11, 12, 13, 15, 1, 0, 5, 6, 7, 2, 3, 4)
#: Image size (width, height) of each test sequence TS1..TS6.
TS_IMAGE_SIZE = {1: (2048, 2048), 2: (2048, 2048), 3: (2048, 2048), 4: (2048, 2048), 5: (1920, 1080), 6: (1920, 1080)}
#: Frames of TS1..TS6 in the standard 2,929-frame file.
STANDARD_COUNTS = tuple(int(n) for n in np.diff((0,) + TEST_3DHP_SEQ_ENDS))

_RE_TS = re.compile(r"(?:^|[/\\])TS([1-9]\d*)(?:[/\\]|$)")
_RE_IMG = re.compile(r"(\d+)\.[A-Za-z]+$")


def normalise_3dhp_2d(px: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Pixels -> normalised screen coordinates with each row's test-sequence image size.

    Args:
        px: (N, J, 2) pixels.  ts: (N,) test-sequence numbers 1..6.
    Returns:
        (N, J, 2) float64 ``x / w * 2 - 1``, ``y / w * 2 - h / w``.
    """
    size = np.array([TS_IMAGE_SIZE[int(t)] for t in ts], dtype=np.float64).reshape(-1, 1, 2)
    w, h = size[..., :1], size[..., 1:]
    return np.asarray(px, np.float64) / w * 2 - np.concatenate([np.ones_like(h), h / w], -1)


def parse_imgnames(names: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    """(N,) image names -> (N,) test sequence 1..6 (the ``TS<k>`` folder) and (N,) frame index (from
    ``img_<number>``, 1-based in the file names; a name without a number gets its row's order within its
    sequence)."""
    ts = np.zeros(len(names), np.int64)
    frame = np.full(len(names), -1, np.int64)
    for i, raw in enumerate(names):
        name = raw.decode() if isinstance(raw, bytes) else str(raw)
        m = _RE_TS.search(name)
        if m is None or int(m.group(1)) not in TS_IMAGE_SIZE:
            raise DataError(
                f"{where}[{i}] = {name!r} names no test sequence TS1..TS6 "
                "(expected e.g. 'mpi_inf_3dhp_test_set/TS1/imageSequence/img_000001.jpg')"
            )
        ts[i] = int(m.group(1))
        n = _RE_IMG.search(name)
        if n is not None:
            frame[i] = int(n.group(1)) - 1
    for t in np.unique(ts[frame < 0]):
        rows = np.flatnonzero((ts == t) & (frame < 0))
        frame[rows] = np.arange(len(rows))
    return ts, frame


def _array(d: dict, key: str, shape: tuple, where: str, finite: bool = True) -> np.ndarray:
    """``d[key]`` as float64 with the given shape (None = any), finite (if ``finite``); else a DataError."""
    if key not in d:
        raise DataError(f"{where}: missing key {key!r} (found: {', '.join(sorted(map(str, d))) or 'nothing'})")
    a = np.asarray(d[key])
    if (
        a.dtype.kind not in "fiub"
        or a.ndim != len(shape)
        or any(s is not None and s != t for s, t in zip(shape, a.shape))
    ):
        want = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
        raise DataError(
            f"{where}: key {key!r} has shape {a.shape} and dtype {a.dtype}, expected numbers of shape {want}"
        )
    a = a.astype(np.float64)
    if finite and not np.all(np.isfinite(a)):
        raise DataError(f"{where}: key {key!r} contains NaN or inf")
    return a


def _metres(pose3d: np.ndarray) -> np.ndarray:
    """3D in millimetres or metres -> metres (a median bone over 5 units long is taken as millimetres)."""
    med = float(np.median(bone_lengths(pose3d[:: max(1, len(pose3d) // 2000)]))) if len(pose3d) else 1.0
    return pose3d / 1000.0 if med > 5 else pose3d


def read_spin_3dhp(d: dict, path: Path) -> dict[str, np.ndarray]:
    """SPIN's arrays -> ``pose3d`` (N, 16, 3) metres, ``px`` (N, 16, 2), ``ts`` (N,), ``frame`` (N,)."""
    part = _array(d, "part", (None, 24, 3), str(path))
    n = len(part)
    S = _array(d, "S", (n, 24, 4), str(path))
    if "imgname" not in d:
        raise DataError(f"{path}: missing key 'imgname' (found: {', '.join(sorted(d))})")
    names = np.asarray(d["imgname"])
    if names.shape != (n,) or names.dtype.kind not in "USO":
        raise DataError(
            f"{path}: key 'imgname' has shape {names.shape} and dtype {names.dtype}, expected ({n},) strings"
        )
    idx = list(SPIN24_TO_16)
    for key, vis in (("part", part[:, idx, 2]), ("S", S[:, idx, 3])):
        bad = np.argwhere(vis <= 0)
        if len(bad):
            r, j = bad[0]
            raise DataError(
                f"{path}: key {key!r}: SPIN joint {idx[j]} of row {r} has visibility {vis[r, j]:g}; "
                f"all 16 joints used must be annotated ({len(bad)} joint(s) are not)"
            )
    ts, frame = parse_imgnames(names, f"{path}: key 'imgname'")
    return {"pose3d": _metres(S[:, idx, :3]), "px": part[:, idx, :2], "ts": ts, "frame": frame}


def read_pstmo_3dhp(d: dict, path: Path) -> dict[str, np.ndarray]:
    """P-STMO's ``data`` dict -> the valid frames as ``pose3d`` (metres), ``px``, ``ts``, ``frame``."""
    seqs = object_item(d["data"], f"{path}: key 'data'")
    parts = []
    for name in sorted(seqs, key=str):
        m = re.fullmatch(r"TS([1-6])", str(name))
        where = f"{path}: data[{name!r}]"
        if m is None:
            raise DataError(f"{path}: key 'data' has sequence {name!r}; expected the test sequences TS1..TS6")
        seq = object_item(seqs[name], where)
        p3 = _array(seq, "data_3d", (None, 17, 3), where, finite=False)  # invalid frames may hold anything
        n = len(p3)
        p2 = _array(seq, "data_2d", (n, 17, 2), where, finite=False)
        keep = np.flatnonzero(_array(seq, "valid", (n,), where) > 0)
        for key, a in (("data_3d", p3), ("data_2d", p2)):
            bad = ~np.all(np.isfinite(a[keep]), axis=(1, 2))
            if bad.any():
                raise DataError(f"{where}: key {key!r} has NaN or inf in valid frame {keep[np.argmax(bad)]}")
        parts.append(
            {
                "pose3d": p3[keep][:, list(MPI17_TO_16)],
                "px": p2[keep][:, list(MPI17_TO_16)],
                "ts": np.full(len(keep), int(m.group(1)), np.int64),
                "frame": keep.astype(np.int64),
            }
        )
    if not parts:
        raise DataError(f"{path}: key 'data' holds no sequences")
    out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    out["pose3d"] = _metres(out["pose3d"])
    return out


def check_counts(ts: np.ndarray, frame: np.ndarray, where: str, any_length: bool) -> None:
    """The standard split (603/540/505/553/276/452 frames over TS1..TS6) unless ``any_length``; every
    (sequence, frame) once."""
    order = np.lexsort((frame, ts))
    s, f = ts[order], frame[order]
    dup = np.flatnonzero((s[1:] == s[:-1]) & (f[1:] == f[:-1]))
    if len(dup):
        raise DataError(f"{where}: TS{s[dup[0]]} frame {f[dup[0]]} appears more than once")
    if any_length:
        return
    counts = tuple(int((ts == t).sum()) for t in range(1, 7))
    if counts != STANDARD_COUNTS:
        raise DataError(
            f"{where}: {len(ts):,} frames split {'/'.join(map(str, counts))} over TS1..TS6; the 3DHP test "
            f"set has {TEST_3DHP_SEQ_ENDS[-1]:,} ({'/'.join(map(str, STANDARD_COUNTS))}); pass --any-length "
            "to convert another selection"
        )


def read_3dhp_source(path: str | Path, any_length: bool = False) -> dict[str, np.ndarray]:
    """Either source file -> ``pose3d`` (N, 16, 3) metres, ``pose2d`` (N, 16, 2) normalised, ``ts``, ``frame``."""
    path = Path(path)
    d = load_npz(path)
    if "data" in d:
        raw, key = read_pstmo_3dhp(d, path), "data"
    elif "S" in d or "part" in d:
        raw, key = read_spin_3dhp(d, path), "imgname"
    else:
        raise DataError(
            f"{path}: neither SPIN's 3DHP file (keys 'imgname', 'part', 'S') nor P-STMO's "
            f"(key 'data'); found: {', '.join(sorted(d)) or 'nothing'}"
        )
    check_counts(raw["ts"], raw["frame"], f"{path}: key {key!r}", any_length)
    check_bone_lengths(raw["pose3d"], str(path))
    raw["pose2d"] = normalise_3dhp_2d(raw.pop("px"), raw["ts"])
    return raw


def prepare_3dhp(sources, out_dir: str | Path, force: bool = False, any_length: bool = False) -> dict:
    """Convert one SPIN or P-STMO 3DHP test file into ``out_dir/test_3dhp.npz``; returns a summary."""
    sources = [sources] if isinstance(sources, (str, Path)) else list(sources)
    if len(sources) != 1:
        raise DataError(
            f"prepare 3dhp takes one file (SPIN's mpi_inf_3dhp_valid.npz or P-STMO's "
            f"data_test_3dhp.npz), got {len(sources)}"
        )
    out = output_path(out_dir, OUTPUT, force)
    raw = read_3dhp_source(sources[0], any_length)
    order = np.lexsort((raw["frame"], raw["ts"]))
    write_npz(
        out,
        pose3d=(raw["pose3d"][order] * 1000).astype(np.float32),
        pose2d=raw["pose2d"][order].astype(np.float32),
        seq=raw["ts"][order] - 1,
        frame=raw["frame"][order],
    )
    counts = "/".join(str(int((raw["ts"] == t).sum())) for t in range(1, 7))
    return {
        "files_written": [str(out)],
        "warnings": [],
        "description": f"3DHP test set: {len(order):,} frames over TS1..TS6 ({counts})",
    }
