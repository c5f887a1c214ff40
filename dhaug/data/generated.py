"""Reading ``dhaug generate`` output back as a training :class:`~dhaug.data.PoseSet` (``data.train_file``).

Two layouts, both 16 joints in :data:`~dhaug.skeleton.H36M16` order (docs/generate.md has the details):

* a ``videopose3d`` folder — :data:`~dhaug.data.h36m.FILE_3D` (world metres), :data:`FILE_2D` (pixels) and
  :data:`CAMERAS_FILE` (T in mm), subjects ``view<c>``: read through the Human3.6M readers;
* a ``cross`` npz in the ``cmu_test.npz`` format (camera frame, millimetres): read through
  :func:`~dhaug.data.crossdata.load_cross_set`, which also takes any cross-dataset test file.

Both files carry the scalars ``frames`` (poses per sequence) and ``fps``. The file names are defined here,
where they are read; :mod:`dhaug.generate` writes them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..camera import load_cameras
from ..errors import DataError
from ..files import check_npz
from .crossdata import load_cross_set
from .h36m import FILE_3D, build_split, load_keypoints_2d, load_positions_3d
from .poseset import PoseSet

#: The files of a videopose3d folder besides :data:`FILE_3D`: our H36M readers' name for the 2D (the exact
#: projection of the 3D, VideoPose3D's ``gt`` source) and the cameras of its subjects.
FILE_2D, CAMERAS_FILE = "data_2d_h36m_gt.npz", "cameras.json"


def _file_scalars(path: Path) -> tuple[set[str], int | None, float]:
    """The keys, ``frames`` (None when absent) and ``fps`` (default 50) of an npz, without reading its arrays."""
    check_npz(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            keys = set(f.files)
            return (keys, int(f["frames"]) if "frames" in keys else None, float(f["fps"]) if "fps" in keys else 50.0)
    except Exception as e:  # numpy raises OSError, ValueError, BadZipFile...
        raise DataError(f"{path}: not a readable npz file ({type(e).__name__}: {e})") from None


def load_generated(path: str | Path, windows: bool = False) -> PoseSet:
    """A training :class:`~dhaug.data.PoseSet` from ``dhaug generate`` output: a videopose3d folder (through
    the H36M readers and its ``cameras.json``, every subject) or a cross-format npz (through
    :func:`~dhaug.data.crossdata.load_cross_set`, which also takes any cross-dataset test file).
    ``windows``: the caller cuts multi-frame windows, which a file of single poses cannot give."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: not found (a --format cross npz or a --format videopose3d folder of dhaug generate)")
    keys, frames, fps = _file_scalars(path / FILE_3D if path.is_dir() else path)
    if windows and frames == 1:
        raise DataError(
            f"{path}: holds single poses (frames = 1), and a multi-frame model needs sequences: "
            "generate it with --frames T"
        )
    if not path.is_dir():
        if "positions_3d" in keys:
            raise DataError(
                f"{path}: a VideoPose3D-layout 3D file; a videopose3d dataset is read as its folder "
                f"({FILE_3D}, {FILE_2D}, {CAMERAS_FILE}): give {path.parent}"
            )
        return load_cross_set(path)
    positions = load_positions_3d(path / FILE_3D)
    keypoints = load_keypoints_2d(path / FILE_2D, positions)
    if not (path / CAMERAS_FILE).is_file():
        raise DataError(f"{path}: no {CAMERAS_FILE} (the cameras of the generated subjects)")
    try:
        cameras = load_cameras(path / CAMERAS_FILE)
    except (KeyError, ValueError, FileNotFoundError) as e:
        raise DataError(str(e).strip('"')) from None
    missing = sorted(set(positions) - set(cameras))
    if missing:
        raise DataError(f"{path / CAMERAS_FILE}: no cameras for subject(s) {', '.join(missing)}")
    return build_split(positions, cameras, keypoints, list(positions), name=f"generated {path.name}", fps=fps)


__all__ = ["CAMERAS_FILE", "FILE_2D", "load_generated"]
