"""2D detector output for in-the-wild lifting: file readers (COCO / MMPose JSON, OpenPose BODY_25, npz),
the mapping to our 16 joints, gap filling and smoothing. Pure functions on numpy arrays; ``T`` = frames,
``J`` = the input layout's joints. One person per frame is kept (the highest-scoring one, no tracking).

Details (file layouts, mapping rules and their known offsets from Human3.6M's joints):
docs/lifting.md#keypoints
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..progress import progress_bar
from ..skeleton import H36M16

FORMATS = ("auto", "coco", "openpose", "npz")

COCO17_NAMES = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
BODY25_NAMES = (
    "Nose",
    "Neck",
    "RShoulder",
    "RElbow",
    "RWrist",
    "LShoulder",
    "LElbow",
    "LWrist",
    "MidHip",
    "RHip",
    "RKnee",
    "RAnkle",
    "LHip",
    "LKnee",
    "LAnkle",
    "REye",
    "LEye",
    "REar",
    "LEar",
    "LBigToe",
    "LSmallToe",
    "LHeel",
    "RBigToe",
    "RSmallToe",
    "RHeel",
)
#: Indices into BODY_25 of the 17 COCO points, in COCO order.
BODY25_TO_COCO17 = (0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11)
#: Our joints taken directly from a COCO point: H36M16 index -> COCO-17 index.
COCO17_DIRECT = {1: 12, 2: 14, 3: 16, 4: 11, 5: 13, 6: 15, 10: 5, 11: 7, 12: 9, 13: 6, 14: 8, 15: 10}
#: Where the spine joint lies on the pelvis -> thorax (shoulder midpoint) line (docs/lifting.md#joint-mapping).
SPINE_FRACTION = 0.54
_HIPS, _SHOULDERS, _NOSE, _FACE = (11, 12), (5, 6), 0, (1, 2, 3, 4)
#: Layouts by number of joints of an array input.
LAYOUTS = {17: "coco17", 25: "body25", 16: "h36m16"}
#: JSON layouts that begin with the 17 COCO points (COCO-17, Halpe-26, COCO-WholeBody-133, Halpe-136).
_COCO_PREFIXED = (17, 26, 133, 136)


@dataclass
class Keypoints2D:
    """One person per frame, as read from a file.

    Attributes:
        xy: (T, J, 2) float64 pixels (0 where there is no person).
        score: (T, J) float64 confidences (0 where missing).
        layout: ``coco17``, ``body25`` or ``h36m16``.
        source: the file or folder read.
        people: (T,) int number of people found in each frame.
        image_size: (width, height) in pixels if the input carries it, else None.
        notes: what the reader did (person selection, frame numbering).
    """

    xy: np.ndarray
    score: np.ndarray
    layout: str
    source: str
    people: np.ndarray
    image_size: tuple[float, float] | None = None
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.xy)


# ----------------------------------------------------------------------------------------------
# mapping


def to_h36m16(xy: np.ndarray, score: np.ndarray, layout: str, min_score: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Map a detector layout onto :data:`H36M16` (rules and offsets: docs/lifting.md#joint-mapping).

    Args:
        xy: (..., J, 2) pixels; score: (..., J); layout: ``coco17`` (J=17), ``body25`` (25) or ``h36m16`` (16).
        min_score: face points below it are not used for the head.
    Returns:
        (..., 16, 2) float64 pixels and (..., 16) scores; a joint scored below ``min_score`` is not trustworthy.
    """
    xy, score = np.asarray(xy, np.float64), np.asarray(score, np.float64)
    if layout == "h36m16":
        return xy.copy(), score.copy()
    if layout == "body25":
        xy, score = xy[..., BODY25_TO_COCO17, :], score[..., BODY25_TO_COCO17]
    elif layout != "coco17":
        raise ValueError(f"unknown keypoint layout {layout!r}; expected one of {sorted(LAYOUTS.values())}")
    out = np.zeros(xy.shape[:-2] + (16, 2))
    s = np.zeros(score.shape[:-1] + (16,))
    for ours, theirs in COCO17_DIRECT.items():
        out[..., ours, :], s[..., ours] = xy[..., theirs, :], score[..., theirs]
    pelvis, thorax, spine, head = (H36M16.index(n) for n in ("Pelvis", "Thorax", "Spine", "Head"))
    for joint, pair in ((pelvis, _HIPS), (thorax, _SHOULDERS)):
        out[..., joint, :] = xy[..., pair, :].mean(-2)
        s[..., joint] = score[..., pair].min(-1)
    out[..., spine, :] = out[..., pelvis, :] + SPINE_FRACTION * (out[..., thorax, :] - out[..., pelvis, :])
    s[..., spine] = np.minimum(s[..., pelvis], s[..., thorax])
    face_s = score[..., _FACE]
    used = face_s >= min_score
    n = used.sum(-1)
    face_mean = (xy[..., _FACE, :] * used[..., None]).sum(-2) / np.maximum(n, 1)[..., None]
    face_score = (face_s * used).sum(-1) / np.maximum(n, 1)
    nose_ok = score[..., _NOSE] >= min_score
    out[..., head, :] = np.where(
        (n > 0)[..., None],
        face_mean,
        np.where(nose_ok[..., None], xy[..., _NOSE, :], xy[..., (_NOSE,) + _FACE, :].mean(-2)),
    )
    s[..., head] = np.where(
        n > 0, face_score, np.where(nose_ok, score[..., _NOSE], score[..., (_NOSE,) + _FACE].max(-1))
    )
    return out, s


# ----------------------------------------------------------------------------------------------
# gaps and smoothing


def fill_gaps(
    xy: np.ndarray, valid: np.ndarray, where: str = "keypoints", names: tuple[str, ...] = H36M16.joint_names
) -> tuple[np.ndarray, np.ndarray]:
    """Replace invalid joints by linear interpolation in time from the same joint's valid frames
    (before the first / after the last valid frame the nearest valid value is held).

    Args:
        xy: (T, J, 2); valid: (T, J) bool; ``where`` and ``names`` name things in error messages.
    Returns:
        (T, J, 2) filled copy and the (T, J) bool mask of the filled entries (``~valid``).
    Raises:
        DataError: no valid joint in any frame, or a joint that is valid in no frame.
    """
    xy, valid = np.asarray(xy, np.float64), np.asarray(valid, bool)
    if not valid.any():
        raise DataError(f"{where}: no person in any frame (no joint is detected with enough confidence)")
    never = np.flatnonzero(~valid.any(0))
    if len(never):
        raise DataError(
            f"{where}: joint(s) {', '.join(names[j] for j in never)} are not detected with enough "
            f"confidence in any of the {len(xy)} frames; lower --min-score, or give a clip where they are seen"
        )
    out = xy.copy()
    t = np.arange(len(xy))
    for j in np.flatnonzero(~valid.all(0)):
        ok = valid[:, j]
        for c in range(xy.shape[-1]):
            out[:, j, c] = np.interp(t, t[ok], xy[ok, j, c])
    return out, ~valid


def smoothing_window(fps: float, frames: int, seconds: float = 0.2, polyorder: int = 2) -> int | None:
    """Odd Savitzky-Golay window of about ``seconds`` at ``fps`` (at least ``polyorder + 3``, at most
    ``frames``); None when the sequence is too short to smooth.

    0.2 s with a quadratic: the filter's -3 dB frequency is about ``(p + 1) / (3.2 W - 4.6)`` cycles per
    frame (Schafer, IEEE Signal Processing Magazine 2011), ~5 Hz at any frame rate for W = 0.2 s x fps —
    above most of human motion's energy, below the frame-to-frame jitter of detectors.
    """
    w = max(int(round(fps * seconds)), polyorder + 3)
    w += 1 - w % 2
    if w > frames:
        w = frames - 1 + frames % 2
    return w if w >= polyorder + 3 else None


def savgol_smooth(x: np.ndarray, window: int, polyorder: int = 2) -> np.ndarray:
    """Savitzky-Golay filter along axis 0 (``scipy.signal.savgol_filter``, ``mode="interp"``: the first and
    last ``window // 2`` samples take the polynomial fitted to the first / last window).

    Args:
        x: (T, ...) array, T >= window; window: odd, > polyorder.
    Returns:
        (T, ...) float64.
    """
    from scipy.signal import savgol_filter  # late: SciPy only for smoothing

    x = np.asarray(x, np.float64)
    if window % 2 != 1 or window <= polyorder or window > len(x):
        raise ValueError(
            f"Savitzky-Golay window must be odd, > polyorder ({polyorder}) and <= the {len(x)} frames; got {window}"
        )
    return savgol_filter(x, window, polyorder, axis=0, mode="interp")


# ----------------------------------------------------------------------------------------------
# readers


def guess_format(path: str | Path) -> str:
    """``coco``, ``openpose`` or ``npz`` from a path: a folder with ``*_keypoints.json`` (or one such file) is
    OpenPose, another folder of ``*.json`` MMPose per-frame files (``coco``); other ``.json`` -> ``coco``;
    ``.npz``/``.npy`` -> ``npz``."""
    p = Path(path)
    if p.is_dir():
        if any(p.glob("*_keypoints.json")):
            return "openpose"
        if any(p.glob("*.json")):
            return "coco"
        raise DataError(f"{p}: folder holds no *_keypoints.json (OpenPose) or *.json (MMPose) files")
    if not p.exists():
        raise DataError(f"keypoint file {p} not found")
    suffix = p.suffix.lower()
    if p.name.endswith("_keypoints.json"):
        return "openpose"
    if suffix == ".json":
        return "coco"
    if suffix in (".npz", ".npy"):
        return "npz"
    raise DataError(
        f"{p}: cannot tell the format from the name (expected .json, .npz, .npy or a folder); "
        "give --format coco|openpose|npz"
    )


def read_keypoints(path: str | Path, fmt: str = "auto", progress: bool = False) -> Keypoints2D:
    """Read a keypoint file or folder in format ``fmt`` (``auto`` = :func:`guess_format`)."""
    if fmt not in FORMATS:
        raise DataError(f"unknown keypoint format {fmt!r}; choose one of {', '.join(FORMATS)}")
    p = Path(path)
    if not p.exists():
        raise DataError(f"keypoint file {p} not found")
    fmt = guess_format(p) if fmt == "auto" else fmt
    if fmt == "openpose":
        return read_openpose_dir(p, progress)
    if fmt == "coco":
        return read_mmpose_dir(p, progress) if p.is_dir() else read_coco_json(p)
    if p.is_dir():
        raise DataError(f"{p}: format npz needs a .npz or .npy file, not a folder")
    return read_array_file(p)


def _natural_key(name: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _load_json(path: Path):
    try:
        return json.loads(path.read_text())
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: not valid JSON ({e})") from None


def _person(points, scores, where: str) -> tuple[np.ndarray, np.ndarray]:
    """(17, 2) pixels and (17,) scores of one person given as N x [x, y(, s)] points (+ N scores)."""
    try:
        a = np.asarray(points, dtype=np.float64)
        s = None if scores is None else np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{where}: keypoints must be numbers") from None
    if a.ndim == 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 1:  # COCO results: flat [x, y, s] * N
        if len(a) % 3 or len(a) // 3 not in _COCO_PREFIXED:
            raise DataError(f"{where}: 'keypoints' has {len(a)} numbers; expected 17 x 3 = 51 (x, y, score)")
        a = a.reshape(-1, 3)
    if a.ndim != 2 or a.shape[0] not in _COCO_PREFIXED or a.shape[1] not in (2, 3):
        raise DataError(f"{where}: 'keypoints' has shape {a.shape}; expected (17, 2) or (17, 3)")
    if s is None:
        if a.shape[1] == 2:
            raise DataError(f"{where}: 'keypoints' holds x, y only and there are no 'keypoint_scores'")
        s = a[:, 2]
    if s.ndim == 2 and s.shape[0] == 1:
        s = s[0]
    if s.shape != (a.shape[0],):
        raise DataError(f"{where}: 'keypoint_scores' has shape {s.shape}; expected ({a.shape[0]},)")
    a, s = a[:17, :2], s[:17]
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(s))):
        raise DataError(f"{where}: keypoints contain NaN or inf")
    return a, s


def _select(
    frames: list[list[tuple[np.ndarray, np.ndarray, float]]],
    layout: str,
    source: str,
    J: int,
    notes: list[str],
    score_rule: str,
) -> Keypoints2D:
    """Keep the highest-scoring person of every frame; count frames with several / no people."""
    T = len(frames)
    xy, sc = np.zeros((T, J, 2)), np.zeros((T, J))
    people = np.array([len(f) for f in frames], dtype=np.int64)
    for t, persons in enumerate(frames):
        if persons:
            best = max(range(len(persons)), key=lambda i: persons[i][2])
            xy[t], sc[t] = persons[best][0], persons[best][1]
    several, empty = int((people > 1).sum()), int((people == 0).sum())
    notes.append(
        f"{several} of {T} frames had several people: the highest-scoring one was kept ({score_rule}; no tracking)"
        if several
        else f"no frame had more than one person ({T} frames)"
    )
    if empty:
        notes.append(f"{empty} of {T} frames had no person: their joints are filled in time")
    return Keypoints2D(xy, sc, layout, source, people, None, notes)


def _frames_by_number(ids: list, where: str, notes: list[str]) -> tuple[list[int], int]:
    """Frame index of each id and the number of frames: integer ids are frame numbers (gaps = frames
    without a person) unless they are too sparse; other ids are sorted in natural order."""
    uniq = sorted(set(ids), key=lambda v: (0, v, "") if isinstance(v, int) else (1, 0, _natural_key(str(v))))
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in uniq)
    if ints and uniq[-1] - uniq[0] + 1 <= 4 * len(uniq):
        notes.append(f"{where} numbers frames {uniq[0]}..{uniq[-1]}")
        return [v - uniq[0] for v in ids], uniq[-1] - uniq[0] + 1
    notes.append(f"{where} values taken as labels in natural sort order ({len(uniq)} frames)")
    rank = {v: i for i, v in enumerate(uniq)}
    return [rank[v] for v in ids], len(uniq)


def read_coco_json(path: str | Path) -> Keypoints2D:
    """A COCO-results or MMPose JSON file (layouts: docs/lifting.md#keypoint-readers) -> COCO-17 keypoints."""
    path = Path(path)
    obj = _load_json(path)
    notes: list[str] = []
    if isinstance(obj, dict) and "instance_info" in obj:
        info = obj["instance_info"]
        if not isinstance(info, list) or not all(isinstance(f, dict) and "instances" in f for f in info):
            raise DataError(f"{path}: 'instance_info' must be a list of {{'frame_id', 'instances'}} entries")
        ids = [f.get("frame_id", i) for i, f in enumerate(info)]
        index, T = _frames_by_number(ids, "'frame_id'", notes) if info else ([], 0)
        frames: list[list] = [[] for _ in range(T)]
        for i, (t, f) in enumerate(zip(index, info)):
            frames[t] += _mmpose_instances(f["instances"], f"{path}: instance_info[{i}]")
        return _select(frames, "coco17", str(path), 17, notes, "mean keypoint score")
    if not isinstance(obj, list):
        raise DataError(
            f"{path}: expected a JSON list (COCO results or MMPose per-frame predictions) or a dict "
            f"with 'instance_info' (MMPose); got {type(obj).__name__}"
        )
    if obj and all(isinstance(e, list) for e in obj):  # MMPose: a list of instances per frame
        frames = [_mmpose_instances(f, f"{path}: frame {t}") for t, f in enumerate(obj)]
        return _select(frames, "coco17", str(path), 17, notes, "mean keypoint score")
    if obj and all(isinstance(e, dict) and "image_id" not in e and "keypoints" in e for e in obj):
        frames = [_mmpose_instances(obj, f"{path}")]  # one frame of MMPose instances
        return _select(frames, "coco17", str(path), 17, notes, "mean keypoint score")
    for i, e in enumerate(obj):
        if not isinstance(e, dict):
            raise DataError(
                f"{path}: entry {i} is a {type(e).__name__}; COCO results entries are objects with "
                "'image_id' and 'keypoints'"
            )
        for key in ("image_id", "keypoints"):
            if key not in e:
                raise DataError(f"{path}: entry {i} has no {key!r} (COCO results need 'image_id' and 'keypoints')")
    index, T = _frames_by_number([e["image_id"] for e in obj], "'image_id'", notes) if obj else ([], 0)
    frames = [[] for _ in range(T)]
    for i, (t, e) in enumerate(zip(index, obj)):
        where = f"{path}: entry {i} (image_id {e['image_id']!r})"
        xy, s = _person(e["keypoints"], None, where)
        try:
            person_score = float(e.get("score", s.mean()))
        except (TypeError, ValueError):
            raise DataError(f"{where}: 'score' must be a number, got {e['score']!r}") from None
        frames[t].append((xy, s, person_score))
    return _select(frames, "coco17", str(path), 17, notes, "the entry's 'score'")


def _mmpose_instances(instances, where: str) -> list[tuple[np.ndarray, np.ndarray, float]]:
    if not isinstance(instances, list):
        raise DataError(f"{where}: instances must be a list, got {type(instances).__name__}")
    out = []
    for k, inst in enumerate(instances):
        if not isinstance(inst, dict) or "keypoints" not in inst:
            raise DataError(f"{where}, instance {k}: needs 'keypoints' (and 'keypoint_scores')")
        xy, s = _person(inst["keypoints"], inst.get("keypoint_scores"), f"{where}, instance {k}")
        out.append((xy, s, float(s.mean())))
    return out


def _json_files(folder: Path, pattern: str) -> list[Path]:
    files = sorted(folder.glob(pattern), key=lambda f: _natural_key(f.name))
    if not files:
        raise DataError(f"{folder}: no {pattern} files")
    return files


def read_mmpose_dir(folder: str | Path, progress: bool = False) -> Keypoints2D:
    """A folder of per-frame MMPose JSON files (each a list of instances, or a dict with 'instances')."""
    folder = Path(folder)
    frames = []
    for f in progress_bar(_json_files(folder, "*.json"), desc="reading MMPose files", unit="file", enabled=progress):
        obj = _load_json(f)
        frames.append(_mmpose_instances(obj.get("instances") if isinstance(obj, dict) else obj, str(f)))
    return _select(
        frames, "coco17", str(folder), 17, [f"{len(frames)} MMPose files in natural name order"], "mean keypoint score"
    )


def read_openpose_dir(folder: str | Path, progress: bool = False) -> Keypoints2D:
    """A folder of OpenPose BODY_25 ``*_keypoints.json`` files (or one file) -> BODY_25 keypoints, one file per frame."""
    folder = Path(folder)
    frames = []
    files = _json_files(folder, "*_keypoints.json") if folder.is_dir() else [folder]
    for f in progress_bar(files, desc="reading OpenPose files", unit="file", enabled=progress):
        obj = _load_json(f)
        if not isinstance(obj, dict) or not isinstance(obj.get("people"), list):
            raise DataError(f"{f}: no 'people' list (OpenPose *_keypoints.json)")
        persons = []
        for i, person in enumerate(obj["people"]):
            where = f"{f}: people[{i}]"
            if not isinstance(person, dict) or "pose_keypoints_2d" not in person:
                raise DataError(f"{where} has no 'pose_keypoints_2d'")
            try:
                a = np.asarray(person["pose_keypoints_2d"], dtype=np.float64)
            except (TypeError, ValueError):
                raise DataError(f"{where}: 'pose_keypoints_2d' must be numbers") from None
            if a.shape != (75,):
                raise DataError(f"{where}: 'pose_keypoints_2d' has {a.size} numbers; BODY_25 needs 75 (25 x x, y, c)")
            if not np.all(np.isfinite(a)):
                raise DataError(f"{where}: 'pose_keypoints_2d' contains NaN or inf")
            a = a.reshape(25, 3)
            persons.append((a[:, :2], a[:, 2], float(a[:, 2].mean())))
        frames.append(persons)
    return _select(
        frames, "body25", str(folder), 25, [f"{len(frames)} OpenPose files in natural name order"], "mean confidence"
    )


def keypoints_from_array(keypoints, scores=None, source: str = "array", image_size=None) -> Keypoints2D:
    """Wrap a (T, J, 2|3) pixel array, J = 17 (COCO), 25 (BODY_25) or 16 (ours), third channel = score;
    ``scores`` (T, J) overrides it (no score at all: every joint counts as seen)."""
    try:
        a = np.asarray(keypoints, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{source}: keypoints must be a numeric array") from None
    if a.ndim != 3 or a.shape[1] not in LAYOUTS or a.shape[2] not in (2, 3):
        raise DataError(
            f"{source}: keypoints have shape {a.shape}; expected (T, 17|25|16, 2|3) "
            "(COCO-17, BODY_25 or dhaug's 16 joints; x, y and an optional score)"
        )
    if len(a) == 0:
        raise DataError(f"{source}: keypoints have no frames")
    if not np.all(np.isfinite(a[..., :2])):
        t, j = np.argwhere(~np.isfinite(a[..., :2]))[0][:2]
        raise DataError(
            f"{source}: NaN or inf in the coordinates (first at frame {t}, joint {j}); give missing "
            "joints a score of 0 instead"
        )
    if scores is not None:
        s = np.asarray(scores, dtype=np.float64)
        if s.shape != a.shape[:2]:
            raise DataError(f"{source}: scores have shape {s.shape}; expected {a.shape[:2]}")
    else:
        s = a[..., 2] if a.shape[2] == 3 else np.ones(a.shape[:2])
    if not np.all(np.isfinite(s)):
        raise DataError(f"{source}: scores contain NaN or inf")
    people = (s > 0).any(-1).astype(np.int64)
    return Keypoints2D(
        a[..., :2].copy(),
        s.copy(),
        LAYOUTS[a.shape[1]],
        source,
        people,
        None if image_size is None else tuple(image_size),
        [],
    )


def read_array_file(path: str | Path) -> Keypoints2D:
    """A ``.npy`` array or an ``.npz`` with ``keypoints`` (or one array), optional ``scores``, ``image_size``."""
    path = Path(path)
    try:
        loaded = np.load(path, allow_pickle=False)
    except Exception as e:  # numpy raises OSError, ValueError, BadZipFile, EOFError...
        raise DataError(f"{path}: not a readable .npz/.npy file ({type(e).__name__}: {e})") from None
    if isinstance(loaded, np.ndarray):
        return keypoints_from_array(loaded, source=str(path))
    with loaded as f:
        files = list(f.files)
        if "keypoints" in files:
            key = "keypoints"
        elif len(files) == 1:
            key = files[0]
        else:
            raise DataError(f"{path}: no 'keypoints' array (found keys: {', '.join(files) or 'none'})")
        scores = f["scores"] if "scores" in files else None
        size = None
        if "image_size" in files:
            size = np.asarray(f["image_size"], dtype=np.float64).reshape(-1)
            if size.shape != (2,):
                raise DataError(
                    f"{path}: 'image_size' has shape {f['image_size'].shape}; expected (2,) = width, height"
                )
            size = (float(size[0]), float(size[1]))
        return keypoints_from_array(f[key], scores, f"{path}: {key!r}" if key != "keypoints" else str(path), size)
