"""Human3.6M in the VideoPose3D npz formats: 3D mocap, 2D keypoint files, ground-truth 2D by
projection, and the train/test protocols.

Layout of a data folder (``--data-dir``)::

    data_3d_h36m.npz                 positions_3d[subject][action] -> (T, 32|17|16, 3) world, metres
    data_2d_h36m_<source>.npz        positions_2d[subject][action] -> [4 x (T, 17|16, 2)] pixels
    cameras.json                     optional; the official calibration is built in
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..camera import Camera, load_cameras, normalize_screen, project, world_to_camera
from ..errors import DataError
from ..files import atomic_write, check_npz
from ..skeleton import H36M32_TO_16, H36M32_TO_17, VPOSE17_TO_16, bone_lengths
from .pickles import load_npz
from .poseset import PoseSet, concat

FILE_3D = "data_3d_h36m.npz"
#: Short names for 2D sources; anything else is used as ``data_2d_h36m_<source>.npz``.
SOURCE_FILES = {
    "sh": "data_2d_h36m_sh_pt_mpii.npz",
    "cpn": "data_2d_h36m_cpn_ft_h36m_dbb.npz",
    "det": "data_2d_h36m_detectron_ft_h36m.npz",
}

Positions = dict[str, dict[str, np.ndarray]]
Keypoints = dict[str, dict[str, list[np.ndarray]]]


def action_group(action: str) -> str:
    """'Directions 1' -> 'Directions' (the 15 H36M action classes used for per-action metrics)."""
    return re.sub(r"\s*\d+$", "", action)


def _load_npz_dict(path: Path, key: str) -> dict:
    check_npz(path)
    try:  # pickled objects through a numpy-only unpickler: a shared file cannot run code
        arrays = load_npz(path)
    except DataError:
        raise
    except Exception as e:  # a malformed header or pickle stream
        raise DataError(f"{path}: not a readable npz file ({type(e).__name__}: {e})") from None
    if key not in arrays:
        raise DataError(f"{path}: missing key {key!r} (found keys: {', '.join(arrays)})")
    obj = arrays[key]
    meta = arrays["metadata"].item() if "metadata" in arrays else None
    try:
        value = obj.item()
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise DataError(f"{path}: key {key!r} must hold a pickled dict subject -> action -> array")
    return value if meta is None else {"__data__": value, "__meta__": meta}


def load_positions_3d(path: str | Path) -> Positions:
    """Read ``data_3d_h36m.npz`` and reduce every sequence to the 16-joint layout.

    32-joint sequences may hold NaN in the 15 joints no lifting code uses; NaN or inf in a used
    joint is an error. 17-joint (VideoPose3D) and 16-joint arrays are accepted as well.

    Returns:
        ``{subject: {action: (T, 16, 3) float32}}``, world frame, metres.
    """
    path = Path(path)
    raw = _load_npz_dict(path, "positions_3d")
    out: Positions = {}
    for subject, actions in raw.items():
        if not isinstance(actions, dict):
            raise DataError(f"{path}: positions_3d[{subject!r}] must be a dict action -> array")
        out[subject] = {}
        for action, arr in actions.items():
            where = f"{path}: positions_3d[{subject!r}][{action!r}]"
            arr = np.asarray(arr)
            if arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[1] not in (32, 17, 16):
                raise DataError(f"{where} has shape {arr.shape}, expected (T, 32, 3) (or 17/16 joints)")
            if arr.shape[0] == 0:
                raise DataError(f"{where} has no frames")
            index = {32: H36M32_TO_16, 17: VPOSE17_TO_16, 16: tuple(range(16))}[arr.shape[1]]
            used = {32: H36M32_TO_17, 17: tuple(range(17)), 16: tuple(range(16))}[arr.shape[1]]
            bad = ~np.isfinite(arr[:, list(used)])
            if bad.any():
                t, j, _ = np.argwhere(bad)[0]
                raise DataError(
                    f"{where} has NaN/inf in used joint {used[j]} (frame {t}); {int(bad.any(-1).sum())} values affected"
                )
            out[subject][action] = np.ascontiguousarray(arr[:, list(index)], dtype=np.float32)
    if not out:
        raise DataError(f"{path}: positions_3d is empty")
    return out


def load_keypoints_2d(path: str | Path, positions: Positions) -> Keypoints:
    """Read a VideoPose3D 2D file (pixels) and check it against the 3D data.

    17-joint files (CPN, Detectron) are cut to 16 joints by dropping Neck/Nose; 16-joint files are
    used as they are, after checking ``metadata['num_joints']``. A camera's 2D may be longer than
    the 3D (it is trimmed, as in VideoPose3D) but not shorter.

    Returns:
        ``{subject: {action: [ (T, 16, 2) float32 per camera ]}}`` in pixels.
    """
    path = Path(path)
    raw = _load_npz_dict(path, "positions_2d")
    data, meta = (raw["__data__"], raw["__meta__"]) if "__meta__" in raw else (raw, None)
    declared = None
    if meta is not None:
        if not isinstance(meta, dict) or "num_joints" not in meta:
            raise DataError(f"{path}: 'metadata' must be a dict with 'num_joints'")
        declared = int(meta["num_joints"])
        if declared not in (16, 17):
            raise DataError(f"{path}: metadata num_joints = {declared}; only 16 or 17 joints are supported")
    out: Keypoints = {}
    for subject, actions in positions.items():
        if subject not in data:
            continue
        out[subject] = {}
        for action, pos in actions.items():
            if action not in data[subject]:
                continue
            cams = data[subject][action]
            where = f"{path}: positions_2d[{subject!r}][{action!r}]"
            if not isinstance(cams, (list, tuple)) or len(cams) == 0:
                raise DataError(f"{where} must be a list with one (T, J, 2) array per camera")
            out[subject][action] = []
            for ci, kp in enumerate(cams):
                kp = np.asarray(kp)
                w = f"{where}[{ci}]"
                if kp.ndim != 3 or kp.shape[2] != 2 or kp.shape[1] not in (16, 17):
                    raise DataError(f"{w} has shape {kp.shape}, expected (T, 16 or 17, 2)")
                if declared is not None and kp.shape[1] != declared:
                    raise DataError(f"{w} has {kp.shape[1]} joints but metadata num_joints = {declared}")
                if kp.shape[0] < len(pos):
                    raise DataError(f"{w} has {kp.shape[0]} frames, fewer than the {len(pos)} frames of the 3D data")
                if not np.all(np.isfinite(kp)):
                    raise DataError(f"{w} contains NaN or inf")
                if kp.shape[1] == 17:
                    kp = kp[:, list(VPOSE17_TO_16)]
                out[subject][action].append(np.ascontiguousarray(kp[: len(pos)], dtype=np.float32))
    if not any(out.values()):
        raise DataError(f"{path}: no subject/action in this file matches the 3D data")
    return out


def project_ground_truth_2d(positions: Positions, cameras: dict[str, list[Camera]]) -> Keypoints:
    """Ground-truth 2D (pixels) by projecting the 3D into every camera with distortion."""
    out: Keypoints = {}
    for subject, actions in positions.items():
        if subject not in cameras:
            continue
        cams = cameras[subject]
        R = torch.as_tensor(np.stack([c.R for c in cams]))[:, None]  # (C,1,3,3)
        T = torch.as_tensor(np.stack([c.T for c in cams]))[:, None]
        K = torch.as_tensor(np.stack([c.intrinsics() for c in cams]))[:, None]
        out[subject] = {}
        for action, pos in actions.items():
            X = torch.as_tensor(pos, dtype=torch.float64)[None]  # (1,T,16,3)
            uv = project(world_to_camera(X, R, T), K)
            out[subject][action] = [a for a in uv.float().numpy()]
    return out


def _cache_dir() -> Path:
    base = os.environ.get("DHAUG_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "dhaug")
    return Path(base)


def cached_ground_truth_2d(path_3d: Path, positions: Positions, cameras: dict[str, list[Camera]]) -> Keypoints:
    """:func:`project_ground_truth_2d`, cached on disk (``$DHAUG_CACHE_DIR``, default ~/.cache/dhaug).

    The cache key covers the 3D file (path, size, mtime) and the camera parameters.
    """
    st = path_3d.stat()
    h = hashlib.sha1(f"{path_3d.resolve()}|{st.st_size}|{st.st_mtime_ns}|v1".encode())
    for subject in sorted(cameras):
        for c in cameras[subject]:
            h.update(np.concatenate([c.R.ravel(), c.T, c.intrinsics()]).tobytes())
    cache = _cache_dir() / f"data_2d_h36m_gt_{h.hexdigest()[:16]}.npz"
    if cache.is_file():
        try:
            return load_npz(cache)["positions_2d"].item()
        except Exception:  # a damaged cache is rebuilt, never trusted
            pass
    kp = project_ground_truth_2d(positions, cameras)
    try:
        atomic_write(cache, lambda fh: np.savez(fh, positions_2d=np.array(kp, dtype=object)))
    except OSError:
        pass  # caching is an optimisation; a read-only home must not stop the run
    return kp


def build_split(
    positions: Positions,
    cameras: dict[str, list[Camera]],
    keypoints: Keypoints,
    subjects: list[str],
    downsample: int = 1,
    actions: list[str] | None = None,
    name: str = "",
    fps: float = 50.0,
) -> PoseSet:
    """Pairs of every (subject, action, camera) sequence: normalised 2D input, root-relative 3D.

    Args:
        downsample: keep every ``downsample``-th frame of each sequence (frames 0, k, 2k, ...).
        actions: action groups (e.g. ``["Walking"]``) or exact sequence names to keep; None = all.
    """
    if downsample < 1:
        raise DataError(f"downsample must be >= 1, got {downsample}")
    for s in subjects:
        if s not in positions:
            raise DataError(f"unknown subject {s!r}; the 3D data has {', '.join(positions)}")
        if s not in cameras:
            raise DataError(f"no cameras for subject {s!r}; cameras exist for {', '.join(cameras)}")
        if s not in keypoints:
            raise DataError(f"the 2D keypoints have no subject {s!r}")
    if actions:
        known = {a for s in subjects for a in positions[s]} | {action_group(a) for s in subjects for a in positions[s]}
        for a in actions:
            if a not in known:
                raise DataError(f"unknown action {a!r}; known: {', '.join(sorted({action_group(k) for k in known}))}")
    parts: list[PoseSet] = []
    for s in subjects:
        cams = cameras[s]
        for action, pos in positions[s].items():
            if actions and action not in actions and action_group(action) not in actions:
                continue
            if action not in keypoints[s]:
                raise DataError(f"the 2D keypoints have no sequence {s} {action!r}")
            kps = keypoints[s][action]
            if len(kps) != len(cams):
                raise DataError(
                    f"2D keypoints of {s} {action!r} have {len(kps)} cameras, the calibration has {len(cams)}"
                )
            idx = np.arange(0, len(pos), downsample)
            for ci, cam in enumerate(cams):
                Xc = world_to_camera(
                    torch.as_tensor(pos[idx], dtype=torch.float64), torch.as_tensor(cam.R), torch.as_tensor(cam.T)
                ).numpy()
                root = Xc[:, :1]
                uv = normalize_screen(torch.as_tensor(kps[ci][idx], dtype=torch.float64), cam.res_w, cam.res_h).numpy()
                n = len(idx)
                parts.append(
                    PoseSet(
                        pose2d=uv.astype(np.float32),
                        pose3d=(Xc - root).astype(np.float32),
                        root=root[:, 0].astype(np.float32),
                        action=np.zeros(n, np.int64),
                        seq=np.zeros(n, np.int64),
                        frame=idx.astype(np.int64),
                        camera=np.full(n, ci, np.int64),
                        action_names=[action_group(action)],
                        seq_names=[f"{s}/{action}/{cam.id or ci}"],
                        name=name,
                        fps=fps,
                        subject=np.zeros(n, np.int64),
                        subject_names=[s],
                    )
                )
    return concat(parts, name=name)


@dataclass
class H36MData:
    """Human3.6M 3D + cameras + a chosen 2D source, ready to cut into protocol splits."""

    positions: Positions
    cameras: dict[str, list[Camera]]
    keypoints: Keypoints
    source: str
    fps: float = 50.0

    def split(
        self, subjects: list[str], downsample: int = 1, actions: list[str] | None = None, name: str | None = None
    ) -> PoseSet:
        return build_split(
            self.positions,
            self.cameras,
            self.keypoints,
            subjects,
            downsample,
            actions,
            name=name or f"{self.source} {','.join(subjects)}",
            fps=self.fps,
        )

    def bone_template(self, subjects: list[str]) -> np.ndarray:
        """(S, 15) mean bone lengths per subject, left and right averaged (method.md §1), in
        :attr:`H36M16.bones` order."""
        rows = []
        for s in subjects:
            lens = np.concatenate([bone_lengths(p) for p in self.positions[s].values()]).mean(0)
            for left, right in ((3, 0), (4, 1), (5, 2), (9, 12), (10, 13), (11, 14)):
                lens[left] = lens[right] = (lens[left] + lens[right]) / 2
            rows.append(lens)
        return np.stack(rows)


def load_h36m(data_dir: str | Path, keypoints: str = "gt") -> H36MData:
    """Load a Human3.6M data folder with 2D source ``keypoints``: ``gt`` (projected, cached),
    ``sh`` (stacked hourglass), ``cpn``, ``det``, or any ``<name>`` of a ``data_2d_h36m_<name>.npz``."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"data folder {data_dir} does not exist")
    path_3d = data_dir / FILE_3D
    positions = load_positions_3d(path_3d)
    cam_file = data_dir / "cameras.json"
    try:
        cameras = load_cameras(cam_file if cam_file.is_file() else None)
    except (KeyError, ValueError, FileNotFoundError) as e:
        raise DataError(str(e).strip('"')) from None
    if keypoints == "gt":
        kp = cached_ground_truth_2d(path_3d, positions, cameras)
    else:
        fname = SOURCE_FILES.get(keypoints, f"data_2d_h36m_{keypoints}.npz")
        kp_path = data_dir / fname
        if not kp_path.is_file():
            avail = sorted(p.name for p in data_dir.glob("data_2d_h36m_*.npz"))
            raise DataError(
                f"2D source {keypoints!r}: {kp_path} not found (2D files present: {avail or 'none'}; "
                f"'gt' projects the 3D instead)"
            )
        kp = load_keypoints_2d(kp_path, positions)
    return H36MData(positions, cameras, kp, source=keypoints)
