"""Import the Human3.6M ``h36m.zip`` archive layout (``cameras.h5``, ``S<n>/MyPoses/3D_positions/*.h5``,
``S<n>/StackedHourglass/*.h5``) into VideoPose3D-style npz files: ``data_3d_h36m.npz`` (T, 32, 3) float32
metres, world; ``data_2d_h36m_sh_pt_mpii.npz`` 4 x (T, 16, 2) float32 pixels; ``cameras.json`` (T in mm).

Details (archive and output layouts, action names, trimming, joint order): docs/data.md#prepare-h36m
"""

from __future__ import annotations

import io
import json
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..camera import load_cameras
from ..errors import DataError
from ..files import atomic_write
from ..progress import progress_bar

FILE_3D = "data_3d_h36m.npz"
FILE_2D_SH = "data_2d_h36m_sh_pt_mpii.npz"
FILE_CAMERAS = "cameras.json"

#: ``h36m16[i] = sh[SH_TO_H36M16[i]]``, the hourglass (MPII) joint order of the ``poses`` datasets being
#: RFoot, RKnee, RHip, LHip, LKnee, LFoot, Hip, Thorax, Neck, HeadTop, RWrist, RElbow, RShoulder,
#: LShoulder, LElbow, LWrist; the 16-joint order is Hip, RHip, RKnee, RFoot, LHip, LKnee,
#: LFoot, Spine, Thorax, Head, LShoulder, LElbow, LWrist, RShoulder, RElbow, RWrist. The hourglass
#: Thorax / Neck / HeadTop fill Spine / Thorax / Head.
SH_TO_H36M16 = (6, 2, 1, 0, 3, 4, 5, 7, 8, 9, 13, 14, 15, 12, 11, 10)
SH_METADATA = {
    "layout_name": "h36m16",
    "num_joints": 16,
    "keypoints_symmetry": [[10, 11, 12, 4, 5, 6], [13, 14, 15, 1, 2, 3]],
}
#: (subject, action) pairs left out of the import, with the reason.
DROPPED = {("S11", "Directions"): "corrupted video; dropped as is customary"}

_RE_3D = re.compile(r"^(?:(?P<prefix>.*)/)?(?P<subject>[^/]+)/MyPoses/3D_positions/(?P<name>[^/]+)\.h5$")
_RE_SH = re.compile(r"^(?:(?P<prefix>.*)/)?(?P<subject>[^/]+)/StackedHourglass/(?P<name>[^/]+)\.h5$")
_RE_SUBJECT = re.compile(r"^S(\d+)$")
_RE_CAM_SUBJECT = re.compile(r"^subject(\d+)$")
_CAMERA_KEYS = {"R": 9, "T": 3, "f": 2, "c": 2, "k": 3, "p": 2}


# ----------------------------------------------------------------------------------------------
# reading a zip file or a folder through one interface


class _Source:
    """An archive: a zip file or an extracted folder, addressed by posix paths relative to it."""

    def __init__(self, path: Path):
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        if path.is_dir():
            try:
                real = [p.relative_to(path).as_posix() for p in sorted(path.rglob("*")) if p.is_file()]
            except OSError as e:
                raise DataError(f"{path}: cannot list the folder ({e.strerror or e})") from None
        else:
            try:
                self._zip = zipfile.ZipFile(path)
                real = [n for n in self._zip.namelist() if not n.endswith(("/", "\\"))]
            except zipfile.BadZipFile:
                raise DataError(
                    f"{path}: not a zip file (or a corrupt one); expected the h36m.zip "
                    "archive or the folder it was extracted to"
                ) from None
            except OSError as e:
                raise DataError(f"{path}: cannot read archive ({e.strerror or e})") from None
        # posix-style name -> name in the archive (zips made on Windows may use backslashes)
        self._real: dict[str, str] = {}
        for n in real:
            self._real.setdefault(n.replace("\\", "/"), n)
        # skip macOS resource forks and similar debris
        self.names = [
            n for n in self._real if not n.startswith("__MACOSX/") and not posixpath.basename(n).startswith("._")
        ]

    def where(self, name: str) -> str:
        """Human-readable location of a member, for messages."""
        if self._zip is not None:
            return f"{self.path}:{name}"
        return str(self.path / name)

    def open_h5(self, name: str):
        import h5py  # late: HDF5 only for the archive's .h5 poses

        where = self.where(name)
        try:
            if self._zip is not None:
                data = self._zip.read(self._real.get(name, name))
                return h5py.File(io.BytesIO(data), "r")
            return h5py.File(self.path / self._real.get(name, name), "r")
        except (zipfile.BadZipFile, zlib.error, EOFError) as e:
            raise DataError(f"{where}: corrupt entry in the zip archive ({e})") from None
        except (NotImplementedError, RuntimeError) as e:  # unsupported compression, encrypted
            raise DataError(f"{where}: cannot be read from the zip archive ({e})") from None
        except OSError as e:
            raise DataError(f"{where}: not a readable HDF5 file ({e})") from None

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _read_dataset(src: _Source, name: str, key: str) -> np.ndarray:
    """Read dataset ``key`` of the h5 file ``name`` as float64, or fail naming the file."""
    import h5py  # late: HDF5 only for the archive's .h5 poses

    where = src.where(name)
    with src.open_h5(name) as f:
        if key not in f:
            found = ", ".join(sorted(f.keys())) or "nothing"
            raise DataError(f"{where}: no dataset {key!r} (the file holds: {found})")
        ds = f[key]
        if not isinstance(ds, h5py.Dataset):
            raise DataError(f"{where}: {key!r} is a group, expected a dataset")
        try:
            arr = np.asarray(ds[()], dtype=np.float64)
        except (TypeError, ValueError, OSError) as e:
            raise DataError(f"{where}: dataset {key!r} (dtype {ds.dtype}) is not numeric ({e})") from None
    return arr


# ----------------------------------------------------------------------------------------------
# names


def canonical_action(name: str) -> str:
    """Action name as used in the npz files: ``_`` read as a space, ``Photo`` -> ``TakingPhoto``,
    ``WalkDog`` -> ``WalkingDog`` (``'Photo_1'`` -> ``'TakingPhoto 1'``)."""
    a = " ".join(name.replace("_", " ").split())
    a = re.sub(r"^Photo(?= |$)", "TakingPhoto", a)
    a = re.sub(r"^WalkDog(?= |$)", "WalkingDog", a)
    return a


def _subject_name(folder: str, src: _Source, member: str) -> str:
    m = _RE_SUBJECT.match(folder)
    if m is None:
        raise DataError(
            f"{src.where(member)}: folder {folder!r} is not a subject folder name; expected S<number> (e.g. S1, S11)"
        )
    return f"S{int(m.group(1))}"


def _subject_key(subject: str) -> int:
    return int(subject[1:])


# ----------------------------------------------------------------------------------------------
# cameras


def _decode_name(arr: Any) -> str:
    a = np.asarray(arr)
    if a.dtype.kind in "SUO":
        vals = [v.decode() if isinstance(v, bytes) else str(v) for v in a.ravel()]
        return "".join(vals).strip()
    return "".join(chr(int(v)) for v in a.ravel() if int(v) != 0).strip()


def _read_cameras(src: _Source, name: str) -> dict[str, list[dict]]:
    """cameras.h5 -> ``{subject: [camera dict in cameras.json format]}`` ordered like the built-in
    calibration; resolution from the built-in calibration matched by camera id."""
    import h5py  # late: HDF5 only for the archive's .h5 poses

    builtin = load_cameras()
    res_by_id: dict[str, tuple[int, int]] = {}
    res_by_subject_id: dict[tuple[str, str], tuple[int, int]] = {}
    order: dict[str, list[str]] = {}
    for subj, cams in builtin.items():
        order[subj] = [c.id for c in cams]
        for c in cams:
            res_by_subject_id[(subj, c.id)] = (c.res_w, c.res_h)
            res_by_id.setdefault(c.id, (c.res_w, c.res_h))

    where = src.where(name)
    out: dict[str, list[dict]] = {}
    with src.open_h5(name) as f:
        for skey in f.keys():
            m = _RE_CAM_SUBJECT.match(skey)
            if m is None or not isinstance(f[skey], h5py.Group):
                continue  # e.g. the '3dtest' dataset
            subject = f"S{int(m.group(1))}"
            cams = []
            for ckey in f[skey].keys():
                g = f[skey][ckey]
                gpath = f"{skey}/{ckey}"
                if not isinstance(g, h5py.Group):
                    continue
                vals = {}
                for k, n in _CAMERA_KEYS.items():
                    if k not in g:
                        raise DataError(f"{where}: camera group {gpath!r} has no {k!r}")
                    try:
                        a = np.asarray(g[k][()], dtype=np.float64)
                    except (TypeError, ValueError) as e:
                        raise DataError(f"{where}: {gpath}/{k} is not numeric ({e})") from None
                    if a.size != n:
                        raise DataError(f"{where}: {gpath}/{k} has shape {a.shape}, expected {n} values")
                    if not np.all(np.isfinite(a)):
                        raise DataError(f"{where}: {gpath}/{k} contains NaN or inf")
                    vals[k] = a
                if "Name" not in g:
                    raise DataError(f"{where}: camera group {gpath!r} has no 'Name' (the camera id)")
                cam_id = _decode_name(g["Name"][()])
                res = res_by_subject_id.get((subject, cam_id), res_by_id.get(cam_id))
                if res is None:
                    raise DataError(
                        f"{where}: {gpath} has camera id {cam_id!r}, which is not a "
                        "Human3.6M camera (cannot tell its resolution)"
                    )
                cams.append(
                    {
                        "id": cam_id,
                        # stored transposed in cameras.h5; cameras.json holds world->camera
                        "R": vals["R"].reshape(3, 3).T.tolist(),
                        "T": vals["T"].ravel().tolist(),
                        "f": vals["f"].ravel().tolist(),
                        "c": vals["c"].ravel().tolist(),
                        "k": vals["k"].ravel().tolist(),
                        "p": vals["p"].ravel().tolist(),
                        "res_w": int(res[0]),
                        "res_h": int(res[1]),
                    }
                )
            ref = order.get(subject) or next(iter(order.values()), [])
            cams.sort(key=lambda c: (ref.index(c["id"]) if c["id"] in ref else len(ref), c["id"]))
            ids = [c["id"] for c in cams]
            if len(set(ids)) != len(ids):
                raise DataError(f"{where}: {skey} lists a camera id twice ({ids})")
            out[subject] = cams
    if not out:
        raise DataError(f"{where}: no 'subject<N>/camera<M>' groups found")
    return dict(sorted(out.items(), key=lambda kv: _subject_key(kv[0])))


# ----------------------------------------------------------------------------------------------
# public entry point


@dataclass
class _Seq:
    subject: str
    action: str
    member: str
    sh: dict[str, str] = field(default_factory=dict)  # camera id -> member


def prepare_h36m_archive(archive: str | Path, out_dir: str | Path, progress: bool = True) -> dict:
    """Read the archive (a .zip file, or an already-extracted folder) and write into ``out_dir``:

    * ``data_3d_h36m.npz``: ``positions_3d[subject][action]`` (T, 32, 3) float32 metres, world frame;
    * ``data_2d_h36m_sh_pt_mpii.npz``: ``positions_2d[subject][action]`` = 4 arrays (T, 16, 2)
      float32 pixels in cameras.json camera order, and ``metadata`` (only if hourglass files exist);
    * ``cameras.json``: the calibration from ``cameras.h5`` (T in mm, R world->camera), with the
      official resolutions.

    Every write is atomic (temporary file in ``out_dir``, then ``os.replace``).

    Returns:
        ``{"subjects": [...], "num_sequences": n, "num_sequences_2d": m,
        "frames_per_subject": {subject: frames}, "files_written": [paths], "warnings": [...]}``.

    Raises:
        DataError: on a missing / unreadable archive or any malformed file, naming it.
    """
    archive = Path(archive)
    out_dir = Path(out_dir)
    if not archive.exists():
        raise DataError(f"{archive}: archive not found (expected h36m.zip or the folder it was extracted to)")
    src = _Source(archive)
    try:
        return _prepare(src, out_dir, progress)
    finally:
        src.close()


def _find_cameras(src: _Source) -> str:
    found = [n for n in src.names if posixpath.basename(n) == "cameras.h5"]
    if not found:
        raise DataError(f"{src.path}: no cameras.h5 found in the archive")
    found.sort(key=lambda n: (n.count("/"), n))
    return found[0]


def _prepare(src: _Source, out_dir: Path, progress: bool) -> dict:
    warnings: list[str] = []
    cam_member = _find_cameras(src)
    seqs, n_sh = _index(src, warnings)
    cameras = _read_cameras(src, cam_member)
    pos3d, pos2d = _read(src, seqs, cameras, cam_member, warnings, progress)
    written = _write(out_dir, pos3d, pos2d, cameras, n_sh, warnings)
    subjects = sorted(pos3d, key=_subject_key)
    return {
        "subjects": subjects,
        "num_sequences": sum(len(v) for v in pos3d.values()),
        "num_sequences_2d": sum(len(v) for v in pos2d.values()),
        "frames_per_subject": {s: int(sum(a.shape[0] for a in pos3d[s].values())) for s in subjects},
        "files_written": written,
        "warnings": warnings,
    }


def _index(src: _Source, warnings: list[str]) -> tuple[dict[tuple[str, str], _Seq], int]:
    """The 3D sequences of the archive with their hourglass files, and the number of those files."""
    seqs: dict[tuple[str, str], _Seq] = {}
    for n in src.names:
        m = _RE_3D.match(n)
        if m is None:
            continue
        subject = _subject_name(m.group("subject"), src, n)
        action = canonical_action(m.group("name"))
        key = (subject, action)
        if key in seqs:
            raise DataError(f"{src.where(n)}: {subject} {action!r} is also given by {src.where(seqs[key].member)}")
        seqs[key] = _Seq(subject, action, n)
    if not seqs:
        raise DataError(
            f"{src.path}: no 3D pose files found (expected "
            "S<n>/MyPoses/3D_positions/<Action>.h5 somewhere in the archive)"
        )

    n_sh = 0
    for n in src.names:
        m = _RE_SH.match(n)
        if m is None:
            continue
        subject = _subject_name(m.group("subject"), src, n)
        stem, dot, cam_id = m.group("name").rpartition(".")
        if not dot or not cam_id.isdigit():
            raise DataError(f"{src.where(n)}: hourglass file name must be <Action>.<camera id>.h5")
        action = canonical_action(stem)
        seq = seqs.get((subject, action))
        if seq is None:
            if (subject, action) not in DROPPED:
                warnings.append(f"{src.where(n)}: no 3D sequence {subject} {action!r}; hourglass file ignored")
            continue
        if cam_id in seq.sh:
            raise DataError(
                f"{src.where(n)}: {subject} {action!r} camera {cam_id} is also given by {src.where(seq.sh[cam_id])}"
            )
        seq.sh[cam_id] = n
        n_sh += 1

    for key, why in DROPPED.items():
        if key in seqs:
            warnings.append(f"{key[0]} {key[1]!r} skipped ({why})")
            del seqs[key]
    return seqs, n_sh


def _read(
    src: _Source, seqs: dict[tuple[str, str], _Seq], cameras: dict, cam_member: str, warnings: list[str], progress: bool
) -> tuple[dict, dict]:
    """Every sequence's 3D (T, 32, 3) metres and, where all its cameras have one, its hourglass 2D."""

    order = sorted(seqs.values(), key=lambda s: (_subject_key(s.subject), s.action))
    total = len(order) + sum(len(s.sh) for s in order)
    bar = progress_bar(total=total, desc="h36m archive", unit="file", enabled=progress, leave=True)
    pos3d: dict[str, dict[str, np.ndarray]] = {}
    pos2d: dict[str, dict[str, list[np.ndarray]]] = {}
    try:
        for seq in order:
            where3d = src.where(seq.member)
            raw = _read_dataset(src, seq.member, "3D_positions")
            if raw.ndim != 2 or raw.shape[0] != 96:
                raise DataError(
                    f"{where3d}: dataset '3D_positions' has shape {raw.shape}, "
                    "expected (96, T) = 32 joints x xyz per frame"
                )
            if raw.shape[1] == 0:
                raise DataError(f"{where3d}: dataset '3D_positions' has no frames (shape {raw.shape})")
            bad = ~np.isfinite(raw)
            if bad.any():
                row, frame = np.argwhere(bad)[0]
                raise DataError(
                    f"{where3d}: dataset '3D_positions' contains NaN or inf "
                    f"({int(bad.sum())} value(s); first at joint {row // 3}, frame {frame})"
                )
            n_frames = raw.shape[1]
            pos = (raw.T.reshape(n_frames, 32, 3) / 1000.0).astype(np.float32)
            pos3d.setdefault(seq.subject, {})[seq.action] = pos
            bar.update(1)

            if not seq.sh:
                continue
            cam_ids = [c["id"] for c in cameras.get(seq.subject, [])]
            if not cam_ids:
                warnings.append(
                    f"{seq.subject} {seq.action!r}: {seq.subject} has no cameras in {src.where(cam_member)}; 2D skipped"
                )
                bar.update(len(seq.sh))
                continue
            unknown = sorted(set(seq.sh) - set(cam_ids))
            for cid in unknown:
                warnings.append(
                    f"{src.where(seq.sh[cid])}: camera {cid} is not a camera of "
                    f"{seq.subject} in cameras.h5 ({', '.join(cam_ids)}); ignored"
                )
            missing = [cid for cid in cam_ids if cid not in seq.sh]
            if missing:
                warnings.append(
                    f"{seq.subject} {seq.action!r}: hourglass files for cameras "
                    f"{', '.join(missing)} missing ({len(cam_ids) - len(missing)} of "
                    f"{len(cam_ids)} present); sequence skipped for 2D"
                )
                bar.update(len(seq.sh))
                continue
            views = []
            for cid in cam_ids:
                member = seq.sh[cid]
                where2d = src.where(member)
                kp = _read_dataset(src, member, "poses")
                if kp.ndim != 3 or kp.shape[1:] != (16, 2):
                    raise DataError(f"{where2d}: dataset 'poses' has shape {kp.shape}, expected (T, 16, 2)")
                if not np.all(np.isfinite(kp)):
                    raise DataError(f"{where2d}: dataset 'poses' contains NaN or inf")
                if kp.shape[0] < n_frames:
                    raise DataError(
                        f"{where2d}: {kp.shape[0]} frames, fewer than the {n_frames} "
                        f"frames of the 3D sequence {where3d}"
                    )
                views.append(kp[:n_frames][:, list(SH_TO_H36M16)].astype(np.float32))
                bar.update(1)
            pos2d.setdefault(seq.subject, {})[seq.action] = views
            bar.update(len(unknown))
    finally:
        bar.close()
    return pos3d, pos2d


def _write(out_dir: Path, pos3d: dict, pos2d: dict, cameras: dict, n_sh: int, warnings: list[str]) -> list[str]:
    """The npz files and cameras.json, each atomically; returns the paths written."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"{out_dir}: cannot create output folder ({e.strerror or e})") from None
    written: list[str] = []

    def save(name: str, write: Callable[[Any], None], binary: bool = True) -> None:
        path = out_dir / name
        try:
            atomic_write(path, write, binary)
        except OSError as e:
            raise DataError(f"{path}: cannot write ({e.strerror or e})") from None
        written.append(str(path))

    def obj(x: Any) -> np.ndarray:
        a = np.empty((), dtype=object)
        a[()] = x
        return a

    save(FILE_3D, lambda fh: np.savez_compressed(fh, positions_3d=obj(pos3d)))
    if n_sh:
        if pos2d:
            save(
                FILE_2D_SH, lambda fh: np.savez_compressed(fh, positions_2d=obj(pos2d), metadata=obj(dict(SH_METADATA)))
            )
        else:
            warnings.append(f"hourglass files found, but no sequence had all cameras; {FILE_2D_SH} not written")
    save(FILE_CAMERAS, lambda fh: json.dump(cameras, fh, indent=1), binary=False)
    return written
