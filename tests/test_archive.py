"""Tests for dhaug.data.archive: importing the h36m.zip archive layout."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from dhaug.data.archive import SH_TO_H36M16, canonical_action, prepare_h36m_archive
from dhaug.errors import DataError

SHARED = Path(__file__).resolve().parents[2] / "shared/data/h36m"
USED17 = [0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27]
CAM_IDS = ["54138969", "55011271", "58860488", "60457274"]
BUILTIN_CAMS = json.loads((Path(__file__).resolve().parents[1] / "dhaug/data/h36m_cameras.json").read_text())


def _shared(name: str) -> Path:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"shared Human3.6M data not available: {path} is missing")
    return path


def _load(path: Path, key: str):
    with np.load(path, allow_pickle=True) as f:
        return f[key].item()


# ----------------------------------------------------------------------------------------------
# the shared sample archive against the shared reference files


@pytest.fixture(scope="module")
def sample_import(tmp_path_factory):
    archive = _shared("h36m_sample.zip")
    out = tmp_path_factory.mktemp("sample_out")
    summary = prepare_h36m_archive(archive, out, progress=False)
    return out, summary


def test_sample_summary(sample_import):
    out, summary = sample_import
    assert summary["subjects"] == ["S1", "S9"]
    assert summary["num_sequences"] == 2
    assert summary["warnings"] == []
    names = sorted(Path(p).name for p in summary["files_written"])
    assert names == ["cameras.json", "data_2d_h36m_sh_pt_mpii.npz", "data_3d_h36m.npz"]
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]  # no temporary leftovers


def test_sample_3d_matches_reference(sample_import):
    out, summary = sample_import
    ref = _load(_shared("data_3d_h36m.npz"), "positions_3d")
    got = _load(out / "data_3d_h36m.npz", "positions_3d")
    assert sorted(got) == ["S1", "S9"]
    for subject in ("S1", "S9"):
        assert list(got[subject]) == ["Directions"]
        a, b = got[subject]["Directions"], ref[subject]["Directions"]
        assert a.dtype == np.float32 and a.shape == b.shape and a.shape[1:] == (32, 3)
        assert np.all(np.isfinite(a))  # all 32 joints come from the archive
        np.testing.assert_allclose(a[:, USED17], b[:, USED17], rtol=0, atol=1e-6)
        assert summary["frames_per_subject"][subject] == a.shape[0]


def test_sample_2d_matches_reference(sample_import):
    out, _ = sample_import
    ref_path = _shared("data_2d_h36m_sh_pt_mpii.npz")
    ref = _load(ref_path, "positions_2d")
    got = _load(out / "data_2d_h36m_sh_pt_mpii.npz", "positions_2d")
    meta = _load(out / "data_2d_h36m_sh_pt_mpii.npz", "metadata")
    assert meta == _load(ref_path, "metadata")
    for subject in ("S1", "S9"):
        views, ref_views = got[subject]["Directions"], ref[subject]["Directions"]
        assert len(views) == 4
        for a, b in zip(views, ref_views):
            assert a.dtype == np.float32 and a.shape == b.shape
            np.testing.assert_array_equal(a, b)


def test_sample_cameras_match_reference(sample_import):
    out, _ = sample_import
    ref = json.loads(_shared("cameras.json").read_text())
    got = json.loads((out / "cameras.json").read_text())
    assert list(got) == list(ref)
    for subject in ref:
        assert [c["id"] for c in got[subject]] == [c["id"] for c in ref[subject]]
        for g, r in zip(got[subject], ref[subject]):
            for key in ("R", "T", "f", "c", "k", "p"):
                np.testing.assert_allclose(g[key], r[key], rtol=0, atol=1e-9, err_msg=f"{subject} {key}")
            assert (g["res_w"], g["res_h"]) == (r["res_w"], r["res_h"])


def test_sample_extracted_folder(tmp_path):
    archive = _shared("h36m_sample.zip")
    with zipfile.ZipFile(archive) as z:
        z.extractall(tmp_path / "extracted")
    out = tmp_path / "out"
    summary = prepare_h36m_archive(tmp_path / "extracted", out, progress=False)
    assert summary["num_sequences"] == 2 and summary["num_sequences_2d"] == 2
    ref = _load(_shared("data_3d_h36m.npz"), "positions_3d")
    got = _load(out / "data_3d_h36m.npz", "positions_3d")
    np.testing.assert_allclose(
        got["S9"]["Directions"][:, USED17], ref["S9"]["Directions"][:, USED17], rtol=0, atol=1e-6
    )


# ----------------------------------------------------------------------------------------------
# tiny synthetic archives


def _h5_bytes(datasets: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        for key, value in datasets.items():
            f.create_dataset(key, data=value)
    return buf.getvalue()


def _cameras_h5(subjects=(1, 9, 11)) -> bytes:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.create_dataset("3dtest", data=np.zeros((96, 1)))
        for n in subjects:
            for m, cam in enumerate(BUILTIN_CAMS[f"S{n}"], start=1):
                g = f.create_group(f"subject{n}/camera{m}")
                g["R"] = np.asarray(cam["R"]).T  # stored transposed in cameras.h5
                g["T"] = np.asarray(cam["T"]).reshape(3, 1)
                for key in ("f", "c", "k", "p"):
                    g[key] = np.asarray(cam[key]).reshape(-1, 1)
                g["Name"] = np.array([float(ord(ch)) for ch in cam["id"]]).reshape(-1, 1)
    return buf.getvalue()


def _pose3d(n_frames: int, seed: int = 0) -> np.ndarray:
    """(96, T) in mm, as stored in the archive."""
    return np.random.default_rng(seed).uniform(-1000, 1000, size=(96, n_frames))


def _poses2d(n_frames: int) -> np.ndarray:
    """(T, 16, 2) where every coordinate equals its hourglass joint index (+ frame / 1000)."""
    p = np.broadcast_to(np.arange(16, dtype=np.float64)[None, :, None], (n_frames, 16, 2)).copy()
    return p + np.arange(n_frames)[:, None, None] / 1000.0


def _base_files(prefix: str = "data/h36m/", n_frames: int = 5) -> dict[str, bytes]:
    files = {
        f"{prefix}cameras.h5": _cameras_h5(),
        f"{prefix}S1/MyPoses/3D_positions/Directions.h5": _h5_bytes({"3D_positions": _pose3d(n_frames)}),
    }
    for cam in CAM_IDS:
        files[f"{prefix}S1/StackedHourglass/Directions.{cam}.h5"] = _h5_bytes({"poses": _poses2d(n_frames)})
    return files


def _zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return path


def test_canonical_action():
    assert canonical_action("Directions_1") == "Directions 1"
    assert canonical_action("Photo") == "TakingPhoto"
    assert canonical_action("Photo_1") == "TakingPhoto 1"
    assert canonical_action("TakingPhoto 1") == "TakingPhoto 1"
    assert canonical_action("WalkDog") == "WalkingDog"
    assert canonical_action("WalkingDog 1") == "WalkingDog 1"
    assert canonical_action("WalkTogether") == "WalkTogether"


def test_synthetic_archive_conventions(tmp_path):
    prefix = "some/other/prefix/"
    files = _base_files(prefix, n_frames=5)
    # 3D "Photo 1" + hourglass spelled "TakingPhoto_1", 2D longer than 3D (trimmed)
    files[f"{prefix}S9/MyPoses/3D_positions/Photo 1.h5"] = _h5_bytes({"3D_positions": _pose3d(6, 1)})
    for cam in CAM_IDS:
        files[f"{prefix}S9/StackedHourglass/TakingPhoto_1.{cam}.h5"] = _h5_bytes({"poses": _poses2d(9)})
    # hourglass files for only 3 cameras: skipped for 2D with a warning
    files[f"{prefix}S9/MyPoses/3D_positions/Waiting.h5"] = _h5_bytes({"3D_positions": _pose3d(4, 2)})
    for cam in CAM_IDS[:3]:
        files[f"{prefix}S9/StackedHourglass/Waiting.{cam}.h5"] = _h5_bytes({"poses": _poses2d(4)})
    # S11 Directions is dropped as customary
    files[f"{prefix}S11/MyPoses/3D_positions/Directions.h5"] = _h5_bytes({"3D_positions": _pose3d(3, 3)})
    archive = _zip(tmp_path / "h36m.zip", files)

    out = tmp_path / "out" / "nested"
    summary = prepare_h36m_archive(archive, out, progress=False)
    assert summary["subjects"] == ["S1", "S9"]
    assert summary["num_sequences"] == 3 and summary["num_sequences_2d"] == 2
    assert summary["frames_per_subject"] == {"S1": 5, "S9": 10}
    assert any("Waiting" in w and "60457274" in w for w in summary["warnings"])
    assert any("S11" in w and "Directions" in w for w in summary["warnings"])

    pos3d = _load(out / "data_3d_h36m.npz", "positions_3d")
    assert sorted(pos3d["S9"]) == ["TakingPhoto 1", "Waiting"]
    raw = _pose3d(6, 1)
    a = pos3d["S9"]["TakingPhoto 1"]
    assert a.shape == (6, 32, 3) and a.dtype == np.float32
    # joint j, axis x/y/z of frame t is row 3j + axis, column t, in mm
    np.testing.assert_allclose(a[4, 7], raw[21:24, 4] / 1000.0, rtol=1e-6)

    pos2d = _load(out / "data_2d_h36m_sh_pt_mpii.npz", "positions_2d")
    assert sorted(pos2d["S9"]) == ["TakingPhoto 1"]
    views = pos2d["S9"]["TakingPhoto 1"]
    assert len(views) == 4 and all(v.shape == (6, 16, 2) and v.dtype == np.float32 for v in views)
    np.testing.assert_array_equal(views[0][0, :, 0], np.array(SH_TO_H36M16, dtype=np.float32))
    # hip (16-joint 0) is the hourglass 'Hip' (6), left wrist (12) the hourglass 'LWrist' (15)
    assert views[2][3, 0, 1] == np.float32(6.003) and views[2][3, 12, 0] == np.float32(15.003)

    cams = json.loads((out / "cameras.json").read_text())
    assert list(cams) == ["S1", "S9", "S11"]
    assert [c["id"] for c in cams["S9"]] == CAM_IDS
    assert (cams["S1"][0]["res_w"], cams["S1"][0]["res_h"]) == (1000, 1002)


def test_no_2d_file_without_hourglass(tmp_path):
    files = {k: v for k, v in _base_files().items() if "StackedHourglass" not in k}
    out = tmp_path / "out"
    summary = prepare_h36m_archive(_zip(tmp_path / "a.zip", files), out, progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["cameras.json", "data_3d_h36m.npz"]
    assert summary["num_sequences_2d"] == 0


# ----------------------------------------------------------------------------------------------
# errors: each names the file at fault


def _expect(tmp_path, files, match):
    archive = _zip(tmp_path / "bad.zip", files)
    with pytest.raises(DataError, match=match):
        prepare_h36m_archive(archive, tmp_path / "out", progress=False)
    assert not (tmp_path / "out" / "data_3d_h36m.npz").exists()


F3D = "data/h36m/S1/MyPoses/3D_positions/Directions.h5"
F2D = "data/h36m/S1/StackedHourglass/Directions.58860488.h5"


def test_error_missing_archive(tmp_path):
    path = tmp_path / "nope.zip"
    with pytest.raises(DataError, match=re.escape(str(path)) + ".*not found"):
        prepare_h36m_archive(path, tmp_path / "out", progress=False)


def test_error_not_a_zip(tmp_path):
    path = tmp_path / "h36m.zip"
    path.write_text("this is not a zip archive")
    with pytest.raises(DataError, match=re.escape(str(path)) + ".*not a zip"):
        prepare_h36m_archive(path, tmp_path / "out", progress=False)


def test_error_corrupt_zip_entry(tmp_path):
    files = _base_files()
    path = tmp_path / "h36m.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    raw = bytearray(path.read_bytes())
    # flip bytes inside the stored 3D file's data (its CRC no longer matches)
    start = raw.index(F3D.encode()) + len(F3D) + 2000
    raw[start : start + 16] = bytes(16)
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=re.escape(F3D)):
        prepare_h36m_archive(path, tmp_path / "out", progress=False)


def test_error_no_cameras(tmp_path):
    files = {k: v for k, v in _base_files().items() if not k.endswith("cameras.h5")}
    _expect(tmp_path, files, r"bad\.zip.*no cameras\.h5")


def test_error_no_3d_files(tmp_path):
    files = {k: v for k, v in _base_files().items() if "MyPoses" not in k}
    _expect(tmp_path, files, r"bad\.zip.*no 3D pose files")


def test_error_3d_missing_dataset(tmp_path):
    files = _base_files()
    files[F3D] = _h5_bytes({"positions": _pose3d(5)})
    _expect(tmp_path, files, re.escape(F3D) + ".*no dataset '3D_positions'")


def test_error_3d_wrong_shape(tmp_path):
    files = _base_files()
    files[F3D] = _h5_bytes({"3D_positions": np.zeros((90, 5))})
    _expect(tmp_path, files, re.escape(F3D) + r".*shape \(90, 5\).*expected \(96, T\)")


def test_error_3d_nan(tmp_path):
    files = _base_files()
    raw = _pose3d(5)
    raw[10, 3] = np.nan
    files[F3D] = _h5_bytes({"3D_positions": raw})
    _expect(tmp_path, files, re.escape(F3D) + ".*NaN")


def test_error_3d_not_hdf5(tmp_path):
    files = _base_files()
    files[F3D] = b"definitely not HDF5"
    _expect(tmp_path, files, re.escape(F3D) + ".*not a readable HDF5")


def test_error_2d_missing_dataset(tmp_path):
    files = _base_files()
    files[F2D] = _h5_bytes({"keypoints": _poses2d(5)})
    _expect(tmp_path, files, re.escape(F2D) + ".*no dataset 'poses'")


def test_error_2d_wrong_shape(tmp_path):
    files = _base_files()
    files[F2D] = _h5_bytes({"poses": np.zeros((5, 17, 2))})
    _expect(tmp_path, files, re.escape(F2D) + r".*shape \(5, 17, 2\).*expected \(T, 16, 2\)")


def test_error_2d_shorter_than_3d(tmp_path):
    files = _base_files(n_frames=5)
    files[F2D] = _h5_bytes({"poses": _poses2d(4)})
    _expect(tmp_path, files, re.escape(F2D) + ".*4 frames, fewer than the 5")


def test_error_bad_subject_folder(tmp_path):
    files = _base_files()
    bad = "data/h36m/Subject1/MyPoses/3D_positions/Eating.h5"
    files[bad] = _h5_bytes({"3D_positions": _pose3d(5)})
    _expect(tmp_path, files, re.escape(bad) + ".*'Subject1'.*S<number>")
