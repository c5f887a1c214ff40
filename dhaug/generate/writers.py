"""Streaming npz writing for ``dhaug generate``, and its two output layouts.

:class:`Spool` grows columns chunk by chunk in raw files; :func:`write_npz` then assembles an uncompressed
zip64 npz entry by entry from *entry writers* (functions that write one ``.npy`` to an open zip entry:
:meth:`Spool.writer`, :func:`array_writer`, :func:`pickle_writer`), so memory stays O(chunk).

A layout takes the valid draws chunk by chunk (``add(first, part)``: draws ``first, first + 1, ...``,
numpy arrays as :func:`dhaug.generate.valid_chunks` gives them; it asks only for its ``fields``) and
then names its files and their entries (``files(common)``). 16 joints in :data:`~dhaug.skeleton.H36M16`
order; :class:`CrossLayout` writes camera-frame millimetres, :class:`VideoPose3DLayout` world metres and
pixels (docs/generate.md).
"""

from __future__ import annotations

import json
import pickle
import shutil
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

from ..camera import Camera
from ..data.generated import CAMERAS_FILE, FILE_2D
from ..data.h36m import FILE_3D
from ..skeleton import H36M16

#: The name a cross file is staged under before its rename to ``out``.
CROSS_FILE = "generated.npz"
#: Independent poses per ``Poses <k>`` action of the videopose3d layout.
ACTION_POSES = 10_000


class Spool:
    """Columns grown chunk by chunk in raw files of a folder (nothing but the current chunk in memory)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.meta: dict[str, tuple[np.dtype, tuple[int, ...], int]] = {}

    def append(self, name: str, a: np.ndarray) -> None:
        a = np.ascontiguousarray(a)
        dtype, shape, rows = self.meta.get(name, (a.dtype, a.shape[1:], 0))
        if (a.dtype, a.shape[1:]) != (dtype, shape):
            raise ValueError(f"column {name}: {a.dtype} {a.shape[1:]} appended to {dtype} {shape}")
        with open(self.folder / name, "ab") as fh:
            fh.write(a.data)
        self.meta[name] = (dtype, shape, rows + len(a))

    def rows(self, name: str) -> int:
        return self.meta[name][2] if name in self.meta else 0

    def mapped(self, name: str) -> np.ndarray:
        """The column as a base-class array over a copy-on-write memory map (writable, the file untouched)."""
        dtype, shape, rows = self.meta[name]
        return np.asarray(np.memmap(self.folder / name, dtype=dtype, mode="c", shape=(rows, *shape)))

    def writer(self, name: str) -> Callable:
        """A function writing the column as one .npy (header, then the file's bytes) to an open entry."""
        dtype, shape, rows = self.meta[name]

        def write(fp) -> None:
            np.lib.format.write_array_header_1_0(
                fp, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (rows, *shape)}
            )
            with open(self.folder / name, "rb") as src:
                shutil.copyfileobj(src, fp, 1 << 18)

        return write


def array_writer(a) -> Callable:
    """An entry writer for an array held in memory (no pickles)."""
    a = np.asarray(a)
    return lambda fp: np.lib.format.write_array(fp, a, allow_pickle=False)


def pickle_writer(obj) -> Callable:
    """A 0-d object array holding ``obj`` as .npy; protocol 5 streams arrays (base-class, contiguous)
    from their memory without a copy."""

    def write(fp) -> None:
        holder = np.empty((), dtype=object)
        holder[()] = obj
        np.lib.format.write_array_header_1_0(fp, {"descr": "|O", "fortran_order": False, "shape": ()})
        pickle.dump(holder, fp, protocol=5)

    return write


def write_npz(fh, entries: dict[str, Callable]) -> None:
    """An uncompressed npz on the open file ``fh``, one zip64 entry per key, written one after another."""
    with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as zf:
        for key, write in entries.items():
            with zf.open(f"{key}.npy", "w", force_zip64=True) as entry:
                write(entry)


def cameras_json(cameras: list[Camera]) -> str:
    """``{"view<c>": [camera c]}`` in the ``cameras.json`` format (T in millimetres)."""

    def one(c: Camera) -> dict:
        return {
            "id": c.id,
            "R": c.R.tolist(),
            "T": (c.T * 1000.0).tolist(),
            "f": c.f.tolist(),
            "c": c.c.tolist(),
            "k": c.k.tolist(),
            "p": c.p.tolist(),
            "res_w": c.res_w,
            "res_h": c.res_h,
        }

    return json.dumps({f"view{i}": [one(c)] for i, c in enumerate(cameras)})


class CrossLayout:
    """Rows of the ``cmu_test.npz`` format, one per frame."""

    fields = ("camera", "pose3d_mm", "uv", "px")

    def __init__(self, spool: Spool, n: int, frames: int, cameras: list[Camera]) -> None:
        self.spool, self.frames, self.cameras = spool, frames, cameras
        self.name_width = len(self._seq_name(n - 1, len(cameras) - 1))

    @staticmethod
    def _seq_name(k: int, c: int) -> str:
        return json.dumps({"clip": f"sequence {k}", "action": "Sequence", "camera": c})

    def add(self, first: int, part: dict[str, np.ndarray]) -> None:
        """Draws ``first``, ``first + 1``, ... : ``world``, ``pose3d_mm`` (b,T,16,3), ``uv``, ``px`` (b,T,16,2), ``camera`` (b,)."""
        sp, T, camera = self.spool, self.frames, part["camera"]
        b = len(camera)
        sp.append("pose3d", part["pose3d_mm"].reshape(-1, 16, 3))
        sp.append("pose2d", part["uv"].reshape(-1, 16, 2))
        sp.append("pose2d_px", part["px"].reshape(-1, 16, 2))
        res = np.array([[c.res_w, c.res_h] for c in self.cameras], np.float32)[camera]
        sp.append("res", np.repeat(res, T, 0))
        sp.append("camera", np.repeat(camera, T).astype(np.int64))
        index = first + np.arange(b, dtype=np.int64)
        if T == 1:  # one sequence per camera; frame = the draw's index in the file
            sp.append("seq", camera.astype(np.int64))
            sp.append("frame", index)
        else:
            sp.append("seq", np.repeat(index, T))
            sp.append("frame", np.tile(np.arange(T, dtype=np.int64), b))
            names = [self._seq_name(int(k), int(c)) for k, c in zip(index, camera)]
            sp.append("seq_names", np.array(names, dtype=f"<U{self.name_width}"))

    def files(self, common: dict[str, Callable]) -> dict[str, dict[str, Callable]]:
        keys = ["pose3d", "pose2d", "pose2d_px", "res", "camera", "seq", "frame"]
        out = {k: self.spool.writer(k) for k in keys}
        if self.frames == 1:
            names = [json.dumps({"clip": f"view{c}", "action": "Poses", "camera": c}) for c in range(len(self.cameras))]
            out["seq_names"] = array_writer(np.array(names))
        else:
            out["seq_names"] = self.spool.writer("seq_names")
        return {CROSS_FILE: {**out, **common}}


class VideoPose3DLayout:
    """``positions_3d`` / ``positions_2d`` dicts; subject ``view<c>`` = the draws seen by camera ``c``."""

    fields = ("camera", "world", "px")

    def __init__(self, spool: Spool, n: int, frames: int, cameras: list[Camera]) -> None:
        self.spool, self.frames, self.cameras = spool, frames, cameras

    def add(self, first: int, part: dict[str, np.ndarray]) -> None:
        """As :meth:`CrossLayout.add`; each camera's draws go to their own columns."""
        camera = part["camera"]
        for c in np.unique(camera):
            m = camera == c
            self.spool.append(f"world{c}", part["world"][m].reshape(-1, 16, 3))
            self.spool.append(f"px{c}", part["px"][m].reshape(-1, 16, 2))
            if self.frames > 1:
                self.spool.append(f"index{c}", first + np.flatnonzero(m).astype(np.int64))

    def files(self, common: dict[str, Callable]) -> dict[str, dict[str, Callable]]:
        T = self.frames
        pos3d: dict[str, dict[str, np.ndarray]] = {}
        pos2d: dict[str, dict[str, list[np.ndarray]]] = {}
        for c in range(len(self.cameras)):
            rows = self.spool.rows(f"world{c}")
            if rows == 0:
                continue
            W, P = self.spool.mapped(f"world{c}"), self.spool.mapped(f"px{c}")
            if T == 1:
                cuts = {
                    f"Poses {k}": slice(k * ACTION_POSES, (k + 1) * ACTION_POSES)
                    for k in range(-(-rows // ACTION_POSES))
                }
            else:
                cuts = {
                    f"Sequence {int(k)}": slice(j * T, (j + 1) * T)
                    for j, k in enumerate(self.spool.mapped(f"index{c}"))
                }
            pos3d[f"view{c}"] = {a: W[s] for a, s in cuts.items()}
            pos2d[f"view{c}"] = {a: [P[s]] for a, s in cuts.items()}
        meta = {
            "layout_name": H36M16.name,
            "num_joints": H36M16.num_joints,
            "keypoints_symmetry": [list(H36M16.left), list(H36M16.right)],
        }
        return {
            FILE_3D: {"positions_3d": pickle_writer(pos3d), **common},
            FILE_2D: {"positions_2d": pickle_writer(pos2d), "metadata": pickle_writer(meta)},
        }


#: The layout class of each ``--format``.
LAYOUTS = {"videopose3d": VideoPose3DLayout, "cross": CrossLayout}

__all__ = [
    "ACTION_POSES",
    "CAMERAS_FILE",
    "CROSS_FILE",
    "CrossLayout",
    "FILE_2D",
    "FILE_3D",
    "LAYOUTS",
    "Spool",
    "VideoPose3DLayout",
    "array_writer",
    "cameras_json",
    "pickle_writer",
    "write_npz",
]
