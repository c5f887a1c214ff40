"""Data layer: Human3.6M npz files, cross-dataset test sets, the built-in synthetic demo data, ``dhaug
generate`` output (:mod:`.generated`), and :func:`load_experiment_data` which turns a
:class:`~dhaug.config.DataConfig` into pose sets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from .crossdata import cmu_from_arrays, load_cmu_test, load_cross_set, load_test_3dhp
from .generated import load_generated
from .h36m import H36MData, build_split, load_h36m, project_ground_truth_2d
from .poseset import PoseSet, concat
from .synthetic import SYNTHETIC_NOTE, make_synthetic_cross_set, make_synthetic_mocap


@dataclass
class ExperimentData:
    train: PoseSet
    #: Test sets by name; the first is the in-domain test set (H36M S9+S11 or synthetic).
    tests: dict[str, PoseSet]
    #: Names of the cross-dataset sets among ``tests``.
    cross: list[str]
    description: str
    #: The world-frame 3D and cameras the sets were cut from (for augmentation); None if not available.
    mocap: H36MData | None = None
    train_subjects: tuple[str, ...] = ()
    #: Per test set: evaluate every k-th frame. Set when the in-domain test set is kept at the full
    #: frame rate (for multi-frame windows) instead of being cut to every k-th frame.
    test_every: dict[str, int] | None = None


def load_cross_sets(paths, taken=()) -> dict[str, PoseSet]:
    """Cross-dataset files by name (the file stem); a name given twice, or already in ``taken``, is an error."""
    out: dict[str, PoseSet] = {}
    for path in paths:
        name = Path(path).stem
        if name in out or name in taken:
            raise DataError(f"two test sets are both named {name!r}; rename one of the files")
        out[name] = load_cross_set(path)
    return out


def load_experiment_data(cfg, full_rate_tests: bool = False) -> ExperimentData:
    """Build the training set and every test set named by a :class:`~dhaug.config.DataConfig`.

    ``full_rate_tests``: keep the in-domain test sequences whole (multi-frame windows need the
    neighbouring frames) and record ``test_downsample`` in ``test_every`` instead of cutting frames."""
    if cfg.dataset == "synthetic":
        mocap = make_synthetic_mocap()
        data = H36MData(
            mocap.positions,
            mocap.cameras,
            project_ground_truth_2d(mocap.positions, mocap.cameras),
            source="synthetic-gt",
        )
        desc = SYNTHETIC_NOTE
        domain = "synthetic"
    else:
        if not cfg.data_dir:
            raise DataError("data.data_dir is not set: pass --data-dir pointing at the folder with data_3d_h36m.npz")
        data = load_h36m(cfg.data_dir, cfg.keypoints)
        desc = f"Human3.6M from {cfg.data_dir}, 2D source {cfg.keypoints!r}"
        domain = "h36m"
    if cfg.train_file:  # generated data (dhaug generate) instead of the training subjects
        train = load_generated(cfg.train_file, windows=full_rate_tests)
        desc += f"; trained on generated data from {cfg.train_file}"
    else:
        train = data.split(
            cfg.train_subjects, cfg.downsample, cfg.actions, name=f"{domain} train {','.join(cfg.train_subjects)}"
        )
    test = data.split(
        cfg.test_subjects,
        1 if full_rate_tests else cfg.test_downsample,
        cfg.actions,
        name=f"{domain} {','.join(cfg.test_subjects)}",
    )
    tests = {domain: test}
    cross = []
    if cfg.dataset == "synthetic":
        tests["synthetic_other"] = cmu_from_arrays(make_synthetic_cross_set(), "synthetic_other")
        cross.append("synthetic_other")
    extra = load_cross_sets(cfg.cross_sets, taken=tests)
    tests.update(extra)
    cross += list(extra)
    every = {domain: cfg.test_downsample} if full_rate_tests else None
    return ExperimentData(
        train, tests, cross, desc, mocap=data, train_subjects=tuple(cfg.train_subjects), test_every=every
    )


__all__ = [
    "ExperimentData",
    "H36MData",
    "PoseSet",
    "build_split",
    "concat",
    "cmu_from_arrays",
    "load_cmu_test",
    "load_cross_set",
    "load_cross_sets",
    "load_experiment_data",
    "load_generated",
    "load_h36m",
    "load_test_3dhp",
    "project_ground_truth_2d",
]
