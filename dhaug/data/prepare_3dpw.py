"""``dhaug prepare 3dpw``: the 3DPW test set (``sequenceFiles/test/*.pkl``, read with :mod:`dhaug.data.pickles`)
as a cross-dataset file in the ``cmu_test.npz`` format (:func:`dhaug.data.crossdata.cmu_from_arrays`), with
ground-truth 2D projected from the 3D joints. No SMPL model files are needed: the pickles carry the joints.

Output ``test_3dpw.npz``: ``pose3d`` (N, 16, 3) float32 camera-frame millimetres (SMPL joints by
:data:`SMPL24_TO_16`); ``pose2d`` (N, 16, 2) normalised by the image's longer side; one ``seq`` per
(sequence file, person); ``fps`` 30.

Details (fields used, joint offsets, kept frames, 2D normalisation): docs/data.md#prepare-3dpw
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from ..errors import DataError
from .pickles import load_pickle
from .prepare_io import check_bone_lengths, output_path, write_npz

OUTPUT = "test_3dpw.npz"
#: ``ours[i] = smpl24[SMPL24_TO_16[i]]``.
SMPL24_TO_16 = (0, 2, 5, 8, 1, 4, 7, 6, 12, 15, 16, 18, 20, 17, 19, 21)
#: 3DPW's two image formats (width, height).
PORTRAIT, LANDSCAPE = (1080, 1920), (1920, 1080)
#: Frames with a joint closer to the camera plane than this (metres) are dropped.
MIN_DEPTH_M = 0.1
FPS = 30.0


def image_size_from_intrinsics(K: np.ndarray) -> tuple[int, int]:
    """(width, height) of a 3DPW image from its principal point: portrait when ``cx < cy``."""
    return PORTRAIT if K[0, 2] < K[1, 2] else LANDSCAPE


def world_to_camera(joints: np.ndarray, cam_poses: np.ndarray) -> np.ndarray:
    """(F, J, 3) world points and (F, 4, 4) world -> camera transforms -> (F, J, 3) camera frame."""
    R, t = cam_poses[:, None, :3, :3], cam_poses[:, None, :3, 3]
    return (R @ joints[..., None])[..., 0] + t


def project_pinhole(X: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(..., 3) camera-frame points -> (..., 2) pixels with the (3, 3) intrinsic matrix ``K``."""
    uvw = X @ K.T
    return uvw[..., :2] / uvw[..., 2:]


def normalise_longer_side(px: np.ndarray, width: float, height: float) -> np.ndarray:
    """(..., 2) pixels -> ``(p - [w, h] / 2) / s * 2`` with ``s = max(w, h)`` (centred square padding)."""
    s = float(max(width, height))
    return (np.asarray(px, np.float64) - np.array([width, height], np.float64) / 2) / s * 2


def _field(d: dict, key: str, where: str):
    if key not in d:
        raise DataError(f"{where}: missing key {key!r} (found: {', '.join(sorted(map(str, d)))})")
    return d[key]


def _numeric(a, where: str, key: str, shape: tuple) -> np.ndarray:
    try:
        a = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{where}: key {key!r} is not numeric") from None
    if a.ndim != len(shape) or any(s is not None and s != t for s, t in zip(shape, a.shape)):
        want = "(" + ", ".join("F" if s is None else str(s) for s in shape) + ")"
        raise DataError(f"{where}: key {key!r} has shape {a.shape}, expected {want}")
    return a


def read_3dpw_sequence(path: str | Path, image_size: tuple[int, int] | None = None) -> dict:
    """One sequence file -> ``{"name", "image_size", "people": [{"pose3d" (n, 16, 3) camera metres,
    "pose2d" (n, 16, 2) normalised, "frame" (n,), "dropped" int}]}``."""
    path = Path(path)
    d = load_pickle(path)
    where = str(path)
    if not isinstance(d, dict):
        raise DataError(f"{where}: expected a pickled dict (a 3DPW sequence file), found {type(d).__name__}")
    cam = _numeric(_field(d, "cam_poses", where), where, "cam_poses", (None, 4, 4))
    F = len(cam)
    K = _numeric(_field(d, "cam_intrinsics", where), where, "cam_intrinsics", (3, 3))
    joints = _field(d, "jointPositions", where)
    valid = _field(d, "campose_valid", where)
    if len(joints) == 0 or len(joints) != len(valid):
        raise DataError(
            f"{where}: key 'jointPositions' has {len(joints)} people and 'campose_valid' {len(valid)}; "
            "expected one entry per person in both"
        )
    if "img_frame_ids" in d and len(d["img_frame_ids"]) != F:
        raise DataError(f"{where}: key 'img_frame_ids' has {len(d['img_frame_ids'])} frames, 'cam_poses' {F}")
    if not np.all(np.isfinite(cam)) or not np.all(np.isfinite(K)) or K[0, 0] <= 0 or K[1, 1] <= 0:
        raise DataError(f"{where}: keys 'cam_poses' / 'cam_intrinsics' must be finite with positive focal lengths")
    w, h = image_size or image_size_from_intrinsics(K)
    name = str(d.get("sequence", path.stem))
    people = []
    for k, (jp, ok) in enumerate(zip(joints, valid)):
        jp = _numeric(jp, where, f"jointPositions[{k}]", (F, 72)).reshape(F, 24, 3)[:, list(SMPL24_TO_16)]
        ok = _numeric(ok, where, f"campose_valid[{k}]", (F,)) > 0
        ok &= np.all(np.isfinite(jp), axis=(1, 2))
        Xc = world_to_camera(np.where(np.isfinite(jp), jp, 0.0), cam)
        front = np.all(Xc[..., 2] >= MIN_DEPTH_M, axis=1)
        keep = np.flatnonzero(ok & front)
        people.append(
            {
                "pose3d": Xc[keep],
                "pose2d": normalise_longer_side(project_pinhole(Xc[keep], K), w, h),
                "frame": keep.astype(np.int64),
                "dropped": int((ok & ~front).sum()),
            }
        )
    return {"name": name, "image_size": (int(w), int(h)), "people": people}


def _sequence_files(sources) -> list[Path]:
    files: list[Path] = []
    for s in sources:
        s = Path(s)
        if s.is_dir():
            found = sorted(s.glob("*.pkl"))
            if not found:
                raise DataError(f"{s}: no .pkl sequence files in this folder (expected 3DPW's sequenceFiles/test)")
            files += found
        elif s.is_file():
            files.append(s)
        else:
            raise DataError(f"{s}: no such file or folder")
    return files


def prepare_3dpw(sources, out_dir: str | Path, force: bool = False, image_size: tuple[int, int] | None = None) -> dict:
    """Convert 3DPW sequence files (files or folders of ``*.pkl``) into ``out_dir/test_3dpw.npz``."""
    sources = [sources] if isinstance(sources, (str, Path)) else list(sources)
    out = output_path(out_dir, OUTPUT, force)
    pose3d, pose2d, seq, frame, names, warnings = [], [], [], [], [], []
    for f in _sequence_files(sources):
        s = read_3dpw_sequence(f, image_size)
        for k, p in enumerate(s["people"]):
            if p["dropped"]:
                warnings.append(
                    f"{f}: person {k}: {p['dropped']} valid frame(s) with a joint behind or at the camera dropped"
                )
            if not len(p["frame"]):
                warnings.append(f"{f}: person {k} has no valid frame; left out")
                continue
            seq.append(np.full(len(p["frame"]), len(names), np.int64))
            names.append(
                json.dumps(
                    {
                        "clip": f"{s['name']}/person{k}",
                        "action": re.sub(r"_\d+$", "", s["name"]),
                        "camera": 0,
                        "image_size": list(s["image_size"]),
                    }
                )
            )
            pose3d.append(p["pose3d"])
            pose2d.append(p["pose2d"])
            frame.append(p["frame"])
    if not names:
        raise DataError(f"{', '.join(map(str, sources))}: no valid frames in any sequence")
    P3 = np.concatenate(pose3d)
    check_bone_lengths(P3 - P3[:, :1], ", ".join(map(str, sources)))
    write_npz(
        out,
        pose3d=(P3 * 1000).astype(np.float32),
        pose2d=np.concatenate(pose2d).astype(np.float32),
        seq=np.concatenate(seq),
        frame=np.concatenate(frame),
        seq_names=np.array(names),
        fps=np.float64(FPS),
    )
    return {
        "files_written": [str(out)],
        "warnings": warnings,
        "description": f"3DPW: {len(P3):,} frames in {len(names)} (sequence, person) tracks",
    }
