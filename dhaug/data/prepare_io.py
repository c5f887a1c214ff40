"""What every ``dhaug prepare`` converter shares: where its output goes (never over an existing file
unless asked), how it is written (atomically), and a check that converted 3D poses have the bone
lengths of people (which catches a wrong joint order or wrong units before anything is written)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from ..files import atomic_write
from ..skeleton import H36M16, S1_BONE_LENGTHS, bone_lengths

#: A converted bone whose median length is outside this factor range of Human3.6M S1's is an error.
BONE_RATIO_RANGE = (0.3, 3.0)


def output_path(out_dir: str | Path, name: str, force: bool) -> Path:
    """``out_dir / name``, refused when it exists and ``force`` is off (checked before any work is done)."""
    path = Path(out_dir) / name
    if path.exists() and not force:
        raise DataError(f"{path} already exists; pass --force to replace it")
    if Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise DataError(f"{out_dir}: not a folder")
    return path


def write_npz(path: Path, **arrays: Any) -> None:
    """``numpy.savez_compressed(path, **arrays)``, atomically (a kill leaves the old file or the new one)."""
    try:
        atomic_write(path, lambda fh: np.savez_compressed(fh, **arrays))
    except OSError as e:
        raise DataError(f"{path}: cannot write ({e.strerror or e})") from None


def check_bone_lengths(pose3d_m: np.ndarray, where: str) -> None:
    """Refuse (N, 16, 3) poses in metres whose median bone lengths are not those of a person.

    Every bone of :data:`~dhaug.skeleton.H36M16` must have a median length within
    :data:`BONE_RATIO_RANGE` times Human3.6M S1's; a joint order that does not match, or 3D in other
    units, fails here with the bone named."""
    if not len(pose3d_m):
        return
    med = np.median(bone_lengths(pose3d_m[:: max(1, len(pose3d_m) // 5000)]), axis=0)
    lo, hi = BONE_RATIO_RANGE
    for (p, c), m, ref in zip(H36M16.bones, med, S1_BONE_LENGTHS):
        if not lo * ref <= m <= hi * ref:
            raise DataError(
                f"{where}: the {H36M16.joint_names[p]}-{H36M16.joint_names[c]} bone has median length "
                f"{m * 1000:.0f} mm after conversion (a person's is about {ref * 1000:.0f} mm): the joints "
                "are not in the documented order, or the 3D is not in the documented units"
            )
