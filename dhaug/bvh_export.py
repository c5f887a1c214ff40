"""``dhaug export-bvh``: a motion file of this package (``dhaug lift``'s ``lifted.npz``, a cross-dataset npz
such as ``dhaug generate --format cross`` writes, or a ``dhaug generate`` VideoPose3D folder) -> one BVH file
through :func:`dhaug.kinematics.bvh.motion_to_bvh`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .camera import camera_to_upright
from .data.pickles import load_npz, object_item
from .errors import ConfigError, DataError
from .files import atomic_write, check_npz, claim_output_file
from .kinematics.bvh import motion_to_bvh

#: Frame rate written when neither the input nor ``--fps`` gives one.
DEFAULT_FPS = 30.0


@dataclass
class Motion:
    pose: np.ndarray  # (T, 16, 3) metres, Z-up world axes
    fps: float | None
    what: str  # where it came from, for messages and the summary


def _fps(d: dict) -> float | None:
    """The file's positive, finite ``fps``, else None."""
    v = np.asarray(d.get("fps", np.nan), dtype=np.float64).ravel()
    return float(v[0]) if v.size and np.isfinite(v[0]) and v[0] > 0 else None


def read_motion(path: str | Path, sequence: str | None = None) -> Motion:
    """The 16-joint motion in ``path`` (see the module docstring); ``sequence`` picks one clip of a file
    that holds several (a cross npz: its ``seq`` number; a VideoPose3D folder: ``SUBJECT/ACTION``)."""
    path = Path(path)
    if path.is_dir():
        path = path / "data_3d_h36m.npz"
    if not path.is_file():
        raise DataError(f"{path}: not found (give lifted.npz, a cross-dataset .npz or a dhaug generate folder)")
    check_npz(path)
    with np.load(path, allow_pickle=False) as z:
        keys = set(z.files)
        if "positions_3d" in keys:  # pickled dicts, read through the numpy-only unpickler
            return _read_videopose3d(path, sequence)
        try:
            d = {k: z[k] for k in keys & {"pose3d", "pose2d_input", "seq", "frame", "fps", "seq_names"}}
        except ValueError as e:  # an object array: not read outside the VideoPose3D layout
            raise DataError(f"{path}: {e}") from None
    if "pose3d" not in d:
        raise DataError(f"{path}: no 'pose3d' array (keys: {', '.join(sorted(keys))})")
    pose = np.asarray(d["pose3d"], dtype=np.float64)
    if pose.ndim != 3 or pose.shape[1:] != (16, 3):
        raise DataError(f"{path}: 'pose3d' must have shape (T, 16, 3), got {pose.shape}")
    if "pose2d_input" in d:  # dhaug lift: metres, root-relative, camera axes
        if sequence is not None:
            raise ConfigError(f"--sequence: {path} holds one motion (dhaug lift output)")
        return Motion(camera_to_upright(pose), _fps(d), f"{path} (dhaug lift, camera axes turned upright)")
    if "seq" not in d:
        raise DataError(f"{path}: 'pose3d' without 'seq' (not a cross-dataset file) and not dhaug lift output")
    seqs = np.unique(d["seq"])
    pick = int(seqs[0]) if sequence is None else _int(sequence, f"--sequence {sequence}")
    rows = np.flatnonzero(d["seq"] == pick)
    if len(rows) == 0:
        raise ConfigError(f"--sequence {sequence}: {path} has sequences {seqs.min()}..{seqs.max()} ({len(seqs)})")
    if "frame" in d:
        rows = rows[np.argsort(d["frame"][rows], kind="stable")]
    name = ""
    if "seq_names" in d and pick < len(d["seq_names"]):
        name = f" {str(d['seq_names'][pick])[:80]}"
    return Motion(
        camera_to_upright(pose[rows] / 1000.0),
        _fps(d),
        f"{path} sequence {pick}{name} (mm, camera axes turned upright)",
    )


def _int(text: str, where: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"{where}: a cross-dataset file's sequences are numbers") from None


def _read_videopose3d(path: Path, sequence: str | None) -> Motion:

    d = load_npz(path)
    if "positions_3d" not in d:
        raise DataError(f"{path}: neither 'pose3d' nor 'positions_3d'")
    pos = object_item(d["positions_3d"], f"{path}: 'positions_3d'")
    names = [f"{s}/{a}" for s in pos for a in pos[s]]
    if not names:
        raise DataError(f"{path}: 'positions_3d' is empty")
    pick = names[0] if sequence is None else sequence
    if pick not in names:
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise ConfigError(f"--sequence {pick}: {path} has SUBJECT/ACTION {shown} ({len(names)})")
    subject, action = pick.split("/", 1)
    pose = np.asarray(pos[subject][action], dtype=np.float64)
    if pose.ndim != 3 or pose.shape[1:] != (16, 3):
        raise DataError(f"{path}: positions_3d[{subject!r}][{action!r}] must have shape (T, 16, 3), got {pose.shape}")
    fps = _fps(d)
    if fps is None and "generated" in d:
        fps = json.loads(str(d["generated"])).get("fps")
    return Motion(pose, fps, f"{path} {pick} (world metres)")


def export_bvh(
    source: str | Path,
    out: str | Path,
    sequence: str | None = None,
    fps: float | None = None,
    body_model: str = "clavicle",
    smooth: float = 0.0,
    force: bool = False,
) -> dict:
    """Write the motion of ``source`` as the BVH file ``out``; returns a summary (frames, fps, residuals)."""
    out = claim_output_file(out, force, suffixes=(".bvh",))
    if fps is not None and not (np.isfinite(fps) and fps > 0):
        raise ConfigError(f"--fps must be a positive number, got {fps:g}")
    if not (np.isfinite(smooth) and smooth >= 0):
        raise ConfigError(f"--smooth must be 0 or a positive number of frames, got {smooth:g}")
    motion = read_motion(source, sequence)
    if not np.isfinite(motion.pose).all():
        raise DataError(f"{motion.what}: the 3D has NaN or infinite values")
    rate = fps or motion.fps or DEFAULT_FPS
    bvh = motion_to_bvh(motion.pose, rate, body_model=body_model, smooth=smooth)
    atomic_write(out, lambda fh: fh.write(bvh.text), binary=False)
    return {
        "source": motion.what,
        "out": str(out),
        "frames": bvh.frames,
        "fps": rate,
        "body_model": body_model,
        "smooth": smooth,
        "residual_mm_mean": float(bvh.residual_mm.mean()),
        "residual_mm_max": float(bvh.residual_mm.max()),
        "bones_m": np.round(bvh.bones, 4).tolist(),
    }
