"""``dhaug prepare hrnet``: EvoSkeleton's HRNet 2D detections of Human3.6M (``twoDPose_HRN_{train,test}.npy``)
into ``data_2d_h36m_hr.npz``, the VideoPose3D 2D layout :func:`dhaug.data.h36m.load_keypoints_2d` reads
(``--keypoints hr``): ``positions_2d[subject][action]`` = 4 arrays (T, 16, 2) float32 pixels in the camera
order of ``cameras.json``, and ``metadata``.

Details (input keys and values, action spelling, the CPN / Detectron files): docs/data.md#prepare-hrnet
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..camera import load_cameras
from ..errors import DataError
from ..skeleton import H36M32_TO_16, VPOSE17_TO_16
from .archive import SH_METADATA, canonical_action
from .h36m import FILE_3D, load_positions_3d
from .pickles import load_npy, object_item
from .prepare_io import output_path, write_npz

OUTPUT = "data_2d_h36m_hr.npz"
METADATA = dict(SH_METADATA, source="EvoSkeleton HRNet detections (twoDPose_HRN_*.npy)")


def hrnet_joints(value, where: str) -> np.ndarray:
    """One EvoSkeleton value -> (T, 16, 2) float32 pixels in our joint order."""
    a = np.asarray(value)
    if a.dtype.kind not in "fiu":
        raise DataError(f"{where} is not numeric (dtype {a.dtype})")
    if a.ndim == 2 and a.shape[1] == 64:
        a = a.reshape(len(a), 32, 2)
    if a.ndim != 3 or a.shape[2] != 2 or a.shape[1] not in (32, 17):
        raise DataError(
            f"{where} has shape {a.shape}, expected (T, 64) = 32 joints x (x, y) (or (T, 32, 2), (T, 17, 2))"
        )
    if not np.all(np.isfinite(a)):
        raise DataError(f"{where} contains NaN or inf")
    return a[:, list(H36M32_TO_16 if a.shape[1] == 32 else VPOSE17_TO_16)].astype(np.float32)


def read_evoskeleton_2d(path: str | Path) -> dict[tuple[str, str, str], np.ndarray]:
    """One ``twoDPose_HRN_*.npy`` -> ``{(subject 'S9', canonical sequence name, camera id): (T, 16, 2)}``."""
    path = Path(path)
    d = object_item(load_npy(path), str(path))
    out: dict[tuple[str, str, str], np.ndarray] = {}
    for key, value in d.items():
        where = f"{path}: [{key!r}]"
        if not (isinstance(key, tuple) and len(key) == 3 and isinstance(key[2], str)):
            raise DataError(f"{path}: key {key!r} is not (subject, action, '<sequence>.<camera>.h5...')")
        subject = f"S{int(key[0])}" if isinstance(key[0], (int, np.integer)) else str(key[0])
        seq_name, _, rest = key[2].partition(".")
        cam = rest.split(".")[0]
        if not subject.startswith("S") or not seq_name or not cam:
            raise DataError(f"{path}: key {key!r} is not (subject, action, '<sequence>.<camera>.h5...')")
        k = (subject, canonical_action(seq_name), cam)
        if k in out:
            raise DataError(f"{path}: sequence {subject} {seq_name!r} camera {cam} appears twice")
        out[k] = hrnet_joints(value, where)
    if not out:
        raise DataError(f"{path}: holds no sequences")
    return out


def hrnet_positions_2d(
    entries: dict, cameras: dict[str, list], names_3d: dict[str, dict[str, int]] | None, where: str
) -> tuple[dict, list[str]]:
    """``{(subject, sequence, camera id): (T, 16, 2)}`` -> ``positions_2d[subject][action]`` (one array per
    camera, in ``cameras`` order) and warnings. ``names_3d``: ``{subject: {action: frames}}`` of the 3D
    file whose spelling and lengths the 2D must follow (None: canonical names, lengths unchecked)."""
    seqs: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    for (subject, seq_name, cam), kp in entries.items():
        seqs.setdefault((subject, seq_name), {})[cam] = kp
    out: dict[str, dict[str, list[np.ndarray]]] = {}
    warnings: list[str] = []
    for (subject, seq_name), views in sorted(seqs.items()):
        if subject not in cameras:
            warnings.append(f"{subject}: no cameras for this subject; its 2D is left out")
            continue
        ids = [c.id for c in cameras[subject]]
        missing = [c for c in ids if c not in views]
        if missing:
            warnings.append(f"{subject} {seq_name!r}: no detections for camera(s) {', '.join(missing)}; left out")
            continue
        action = seq_name
        if names_3d is not None:
            spelled = {canonical_action(a): a for a in names_3d.get(subject, {})}
            if seq_name not in spelled:
                warnings.append(f"{subject} {seq_name!r}: not in the 3D file; left out")
                continue
            action = spelled[seq_name]
            need = names_3d[subject][action]
            for c in ids:
                if len(views[c]) < need:
                    raise DataError(
                        f"{where}: {subject} {seq_name!r} camera {c} has {len(views[c])} frames, fewer "
                        f"than the {need} frames of the 3D sequence"
                    )
        out.setdefault(subject, {})[action] = [views[c] for c in ids]
    return out, warnings


def prepare_hrnet(sources, out_dir: str | Path, force: bool = False) -> dict:
    """Convert EvoSkeleton's ``twoDPose_HRN_train.npy`` / ``_test.npy`` into ``out_dir/data_2d_h36m_hr.npz``."""
    sources = [sources] if isinstance(sources, (str, Path)) else list(sources)
    out_dir = Path(out_dir)
    out = output_path(out_dir, OUTPUT, force)
    entries: dict = {}
    for src in sources:
        part = read_evoskeleton_2d(src)
        clash = sorted(set(part) & set(entries))
        if clash:
            raise DataError(
                f"{src}: sequence {clash[0][0]} {clash[0][1]!r} camera {clash[0][2]} is also in another input file"
            )
        entries.update(part)
    cam_file = out_dir / "cameras.json"
    try:
        cameras = load_cameras(cam_file if cam_file.is_file() else None)
    except (KeyError, ValueError, FileNotFoundError) as e:
        raise DataError(str(e).strip('"')) from None
    names_3d = None
    if (out_dir / FILE_3D).is_file():
        names_3d = {s: {a: len(v) for a, v in acts.items()} for s, acts in load_positions_3d(out_dir / FILE_3D).items()}
    pos2d, warnings = hrnet_positions_2d(entries, cameras, names_3d, ", ".join(map(str, sources)))
    if not pos2d:
        raise DataError(
            f"{', '.join(map(str, sources))}: no sequence has detections for all its cameras"
            + (f" and a match in {out_dir / FILE_3D}" if names_3d is not None else "")
        )
    obj = np.empty((), dtype=object)
    obj[()] = pos2d
    meta = np.empty((), dtype=object)
    meta[()] = dict(METADATA)
    write_npz(out, positions_2d=obj, metadata=meta)
    n = sum(len(a) for a in pos2d.values())
    named = f"names as in {out_dir / FILE_3D}" if names_3d is not None else "canonical action names"
    return {
        "files_written": [str(out)],
        "warnings": warnings,
        "description": f"HRNet 2D: {n} sequences x 4 cameras of {', '.join(sorted(pos2d, key=lambda s: int(s[1:])))} ({named})",
    }
