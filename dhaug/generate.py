"""Generated datasets for other toolkits (``dhaug generate``) and for training (``data.train_file``).

    source = random_source(frames=1)                         # or source_from_checkpoint("RUN/checkpoint.pt")
    generate_dataset(source, 1_000_000, "dh_random.npz", seed=0, fmt="cross")
    train = load_generated("dh_random.npz")                  # a PoseSet, as data.train_file reads it

**Sources.** Every draw is one world-frame pose (or sequence of ``frames`` poses) seen by *one*
camera: draw ``i`` of a block by camera ``i mod C`` of the source's cameras (default: the four
Human3.6M S1 cameras with their own calibration, no zoom). :class:`RandomPoses` — random DH poses or
smooth random sequences (:class:`~dhaug.augment.RandomDHAugmenter`, the paper's "normal" mode);
:class:`GeneratorPoses` — the DH-AUG generator of a training checkpoint (single frames, or sequences of
the video generator's own length), which places each person in front of the camera that sees it.
Bone lengths: the S1 template (:data:`dhaug.skeleton.S1_BONE_LENGTHS`) scaled by ``1 + U[-s, s)`` per
bone group (``s`` = ``augment.bone_scale``, 0.2), as in training. Random poses stand with the pelvis
at the capture-area centre, 0.95 m up (sequences keep it there). A draw with a joint closer to its
camera than ``min_depth`` or outside the image, in any frame, is dropped, and so is the rest pose that
:meth:`~dhaug.augment.RandomDHAugmenter.sample_world` puts first in every call.

**Seeding.** Draws come in blocks of a fixed size (:func:`block_draws`) and block ``b`` is seeded from
``(seed, b)`` alone; the file holds the first ``n`` valid draws of that stream. So the same seed gives
the same file byte for byte whatever ``chunk`` (chunks only decide how much is held before a write),
an ``n``-draw file is a prefix of a larger one; only the float rounding of the generator's matrix
products (CPU or CUDA, perhaps the CPU thread count) can change it.

**Layouts** (16 joints, :data:`~dhaug.skeleton.H36M16` order, both):

* ``videopose3d`` — a folder in the VideoPose3D layout, exactly what our H36M readers read
  (:func:`dhaug.data.load_h36m`, ``--data-dir DIR``): ``data_3d_h36m.npz`` with
  ``positions_3d[subject][action]`` (T, 16, 3) world metres; ``data_2d_h36m_gt.npz`` with
  ``positions_2d[subject][action]``, a one-camera list of (T, 16, 2) pixels (the exact projection of the
  3D: VideoPose3D's ``gt`` source), and ``metadata`` (``layout_name`` ``h36m16``, ``num_joints`` 16,
  ``keypoints_symmetry``); ``cameras.json`` (T in mm). Subject ``view<c>`` holds the draws seen by camera
  ``c``; its actions are ``Poses <k>`` (groups of :data:`ACTION_POSES` independent poses) or, for
  sequences, one ``Sequence <k>`` per draw (``k`` = the draw's index in the dataset). Our 3D reader takes
  32, 17 or 16 joints; DH poses have no nose, so 16 are written (VideoPose3D's own Human36mDataset
  expects 32-joint 3D and hard-codes the Human3.6M subjects: other toolkits read the dicts themselves).
  The 3D and 2D are two files because our readers (and VideoPose3D) read them so: the 3D reader takes
  no ``metadata`` key.
* ``cross`` — one npz in the ``cmu_test.npz`` format of :func:`dhaug.data.crossdata.load_cross_set`,
  one row per frame: ``pose3d`` (N, 16, 3) camera frame, **millimetres**; ``pose2d`` normalised screen
  coordinates; ``pose2d_px`` and ``res`` (N, 2: width, height); ``camera`` (N,); ``seq``, ``frame``,
  ``seq_names`` (JSON with ``clip``, ``action``, ``camera``): single poses are one sequence per camera
  with ``frame`` = the draw's index in the file, sequences one sequence per draw; ``joint_names``,
  ``joint_parents``.

The cross npz and the 3D npz also hold ``cameras`` (the ``cameras.json`` text, subjects ``view<c>``),
``frames``, ``fps`` and ``generated`` (a JSON string: source, seed, counts, valid fraction).

**Streaming.** Each chunk is appended to raw column files in a temporary folder beside ``out``; then
each npz (an uncompressed zip, zip64 entries) is assembled entry by entry into a staged file
(:func:`dhaug.files.atomic_write`) and renamed to ``out``: a new videopose3d folder appears by one
rename; with ``force``, an existing one has each of its three files replaced by one rename. Plain
arrays are copied with a 256 KiB buffer. The VideoPose3D dicts must be pickled: they are built from
memory-mapped views of the column files and pickled with protocol 5, which writes each array's bytes
straight from the map into the zip (numpy's savez pickles with protocol 4, which copies every array
and keeps the copies until the end). So writing holds O(chunk) in memory (the mapped pages are file
cache the kernel can drop), plus, for videopose3d sequences, the dict itself (a few hundred bytes per
sequence). Reading unpickles a videopose3d file whole, as VideoPose3D does; a cross file is plain
arrays, which ``np.load`` reads one key at a time. The temporary folder needs about the size of the
output.
"""
from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .camera import Camera, camera_to_world, load_cameras, project, world_to_camera
from .data.h36m import FILE_3D
from .errors import ConfigError, DataError
from .files import atomic_write, check_npz, check_writable
from .skeleton import H36M16, S1_BONE_LENGTHS

FORMATS = ("videopose3d", "cross")
#: The files of a videopose3d folder: our H36M readers' names (``--data-dir DIR``; the 2D is the exact
#: projection of the 3D, VideoPose3D's ``gt`` source) and the cameras of its subjects.
FILE_2D, CAMERAS_FILE = "data_2d_h36m_gt.npz", "cameras.json"
#: The name a cross file is staged under before its rename to ``out``.
CROSS_FILE = "generated.npz"
#: Frames drawn per seeding block (rounded down to whole draws and to a multiple of the camera count).
BLOCK_FRAMES = 4096
#: Independent poses per ``Poses <k>`` action of the videopose3d layout.
ACTION_POSES = 10_000
#: Frames held in memory before they are written (``--chunk``).
DEFAULT_CHUNK = 100_000
#: Pelvis of random poses (world frame, metres): the Human3.6M capture-area centre, as ``dhaug show-poses``.
DEFAULT_ROOT = (0.0, 0.0, 0.95)
#: Frame rate recorded for random sequences (they have no rate of their own): the paper's training
#: rate, Human3.6M's 50 Hz at every 10th frame.
RANDOM_FPS = 5.0
#: A source whose valid fraction is below this after :data:`MIN_BLOCKS` blocks stops with an error.
MIN_VALID_FRACTION = 0.01
MIN_BLOCKS = 8
#: Bumped when the files change meaning.
FILE_VERSION = 1


def block_draws(frames: int, cameras: int) -> int:
    """Draws per seeding block: about :data:`BLOCK_FRAMES` frames, a whole number of camera rounds."""
    return max(1, BLOCK_FRAMES // frames // cameras) * cameras


def block_seeds(seed: int, index: int, count: int = 2) -> list[int]:
    """``count`` independent 32-bit seeds for block ``index`` of the stream of ``seed``."""
    return [int(s) for s in np.random.SeedSequence([seed, index]).generate_state(count)]


@dataclass
class Draws:
    """One block of draws: ``world`` (B, T, 16, 3) world-frame joints in metres; ``camera`` (B,) the index
    of the camera that sees each draw."""

    world: torch.Tensor
    camera: torch.Tensor


def _default_cameras(cameras: list[Camera] | None) -> list[Camera]:
    cams = list(cameras) if cameras is not None else load_cameras()["S1"]
    if not cams:
        raise ConfigError("a generated dataset needs at least one camera")
    return cams


def _bone_rows(bones) -> torch.Tensor:
    b = torch.as_tensor(S1_BONE_LENGTHS if bones is None else bones, dtype=torch.float32)
    b = b.reshape(-1, 15) if b.ndim == 1 else b
    if b.ndim != 2 or b.shape[1] != 15:
        raise ConfigError(f"bone templates must have shape (S, 15), got {tuple(b.shape)}")
    return b


class RandomPoses:
    """Random DH poses (``frames`` = 1) or smooth random sequences (method.md §7), on the CPU.

    Args:
        body_model: ``paper`` or ``clavicle``.  limits: ``normal`` (the paper's random-mode column),
        ``gan`` or ``h36m``.  cameras: default the S1 cameras.  bones: (S, 15) templates, default S1.
        root: the pelvis (3,), world metres.  settings: an :class:`~dhaug.config.AugmentConfig`
        (``bone_scale``, ``sigma_deg``, ``motion_deg``, ``temporal_basis``, ``min_depth``).
    """

    def __init__(self, body_model: str = "paper", limits: str = "normal", frames: int = 1,
                 cameras: list[Camera] | None = None, bones=None, root=DEFAULT_ROOT, settings=None,
                 fps: float = RANDOM_FPS) -> None:
        from .augment import RandomDHAugmenter
        from .config import AugmentConfig
        from .kinematics import get_body_model
        from .kinematics.data_limits import limit_table

        if frames < 1:
            raise ConfigError(f"--frames must be >= 1, got {frames}")
        if body_model not in ("paper", "clavicle"):
            raise ConfigError(f"body model must be 'paper' or 'clavicle', got {body_model!r}")
        if limits not in ("normal", "gan", "h36m"):
            raise ConfigError(f"limits must be 'normal', 'gan' or 'h36m', got {limits!r}")
        settings = settings or AugmentConfig()
        self.cameras, self.frames, self.fps = _default_cameras(cameras), frames, fps
        self.device = torch.device("cpu")
        self.min_depth = settings.min_depth
        roots = torch.tensor([root], dtype=torch.float32)
        if frames > 1:  # a standing pelvis: (1, T, 3)
            roots = roots[:, None].expand(1, frames, 3).contiguous()
        self.aug = RandomDHAugmenter(get_body_model(body_model), _bone_rows(bones), roots, self.cameras,
                                     limits=limit_table(limits, body_model), settings=settings, frames=frames)
        self.info = {"source": "random", "body_model": body_model, "limits": limits,
                     "bone_scale": settings.bone_scale, "sigma_deg": settings.sigma_deg,
                     "root": list(root)} | ({"motion_deg": settings.motion_deg} if frames > 1 else {})

    def block(self, index: int, seed: int) -> Draws:
        """Block ``index`` of the stream of ``seed``; its first draw (the rest pose) is left out."""
        B, C = block_draws(self.frames, len(self.cameras)), len(self.cameras)
        g = torch.Generator().manual_seed(block_seeds(seed, index, 1)[0])
        world = self.aug.sample_world(B, g).reshape(B, self.frames, 16, 3)
        camera = torch.arange(B) % C
        return Draws(world[1:], camera[1:])


class GeneratorPoses:
    """Draws of a trained DH-AUG generator (:class:`~dhaug.augment.gan.Generator` or its video form),
    each placed by the generator in front of the camera that sees it, then taken to the world frame.

    Args:
        G: the generator.  cameras: default S1.  bones: (S, 15) templates (default S1), scaled per draw
        by ``1 + U[-bone_scale, bone_scale)`` per bone group.  info: provenance for the file.
    """

    def __init__(self, G, cameras: list[Camera] | None = None, bones=None, bone_scale: float = 0.2,
                 min_depth: float = 0.5, fps: float = 50.0, device: str | torch.device = "cpu",
                 info: dict | None = None) -> None:
        from .augment import CameraSet

        self.device = torch.device(device)
        self.G = G.to(self.device).eval()
        self.frames = int(getattr(G, "frames", 1))
        self.cameras, self.fps, self.min_depth = _default_cameras(cameras), fps, min_depth
        cs = CameraSet.from_cameras(self.cameras)
        self.camset = CameraSet(*(t.to(self.device) for t in (cs.R, cs.T, cs.K, cs.aspect)))
        self.bones, self.bone_scale = _bone_rows(bones), bone_scale
        self.info = {"source": "generator", "bone_scale": bone_scale, **(info or {})}

    @torch.no_grad()
    def block(self, index: int, seed: int) -> Draws:
        from .augment import scale_bones

        B, C = block_draws(self.frames, len(self.cameras)), len(self.cameras)
        seed_z, seed_b = block_seeds(seed, index)
        bones = scale_bones(self.bones[torch.arange(B) % len(self.bones)], self.bone_scale,
                            torch.Generator().manual_seed(seed_b))
        fake = self.G.draw(B, self.camset, bones, seed=seed_z)  # draw i: camera i mod C, bones row i
        T = self.frames
        cam_frame = (fake["cam"].reshape(B, T, 16, 3) + fake["root_cam"].reshape(B, T, 1, 3))
        camera = torch.arange(B, device=self.device) % C
        world = camera_to_world(cam_frame, self.camset.R[camera][:, None], self.camset.T[camera][:, None])
        return Draws(world, camera)


def random_source(body_model: str = "paper", limits: str = "normal", frames: int = 1, **kw) -> RandomPoses:
    """:class:`RandomPoses` with the S1 defaults (``kw``: its other arguments)."""
    return RandomPoses(body_model, limits, frames, **kw)


def sample_poses(n: int, seed: int = 0, body_model: str = "paper", limits: str = "normal",
                 frames: int = 1) -> dict[str, torch.Tensor]:
    """Random DH poses in one call, for library users: the first ``n`` valid draws of
    :func:`random_source` (its S1 defaults), float32.

    Args:
        n: poses (sequences, with ``frames`` > 1) to draw.  seed: the same seed gives the same poses.
        body_model: ``paper`` or ``clavicle``.  limits: ``normal``, ``gan`` or ``h36m`` angle ranges.
        frames: 1 for single poses, T for smooth random sequences of T frames.
    Returns:
        ``world`` (n, 16, 3) world metres, Z up; ``camera3d`` (n, 16, 3) the camera frame, metres (x right,
        y down, z forward); ``pose2d`` (n, 16, 2) normalised screen coordinates (the network input);
        ``camera`` (n,) int64, the index of the camera in ``random_source(...).cameras``. With ``frames``
        > 1 the pose arrays are (n, frames, 16, ...).
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    source = random_source(body_model, limits, frames)
    parts = [p for _, p in valid_chunks(source, n, seed, n, ("world", "camera", "pose3d_mm", "uv"))]
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    squeeze = (lambda a: a[:, 0]) if frames == 1 else (lambda a: a)
    return {"world": torch.from_numpy(squeeze(cat["world"])).float(),
            "camera3d": torch.from_numpy(squeeze(cat["pose3d_mm"]) / 1000.0).float(),
            "pose2d": torch.from_numpy(squeeze(cat["uv"])).float(),
            "camera": torch.from_numpy(cat["camera"]).long()}


def source_from_checkpoint(path: str | Path, frames: int | None = None, body_model: str | None = None,
                           device: str = "auto", **kw) -> GeneratorPoses:
    """The generator saved in a ``dhaug train --augment dhaug|dhaug-video`` checkpoint, with the run's
    ``bone_scale``, ``min_depth`` and frame rate. ``frames`` / ``body_model``, when given, must match the
    generator's (a video generator makes sequences of its own length)."""
    from . import checkpoint
    from .augment.source import generator_from_checkpoint
    from .device import resolve_device

    state = checkpoint.load(path)
    G, cfg = generator_from_checkpoint(state, str(path))
    own = int(getattr(G, "frames", 1))
    if frames is not None and frames != own:
        what = f"sequences of {own} frames" if own > 1 else "single poses"
        raise ConfigError(f"{path}: its generator makes {what}; --frames {frames} differs (leave --frames out)")
    if body_model is not None and body_model != cfg.augment.body_model:
        raise ConfigError(f"{path}: its generator uses body model {cfg.augment.body_model!r}, not {body_model!r} "
                          "(leave --body-model out)")
    info = {"checkpoint": str(path), "epoch": int(state["epoch"]), "augment_method": cfg.augment.method,
            "body_model": cfg.augment.body_model}
    return GeneratorPoses(G, bone_scale=cfg.augment.bone_scale, min_depth=cfg.augment.min_depth,
                          fps=50.0 / max(1, cfg.data.downsample), device=resolve_device(device), info=info, **kw)


# ---------------------------------------------------------------------------------------------------
# projection


@dataclass
class _Rig:
    """Cameras as float64 tensors: R (C,3,3), T (C,3) metres, pixel intrinsics K (C,9), size (C,2) w, h."""

    R: torch.Tensor
    T: torch.Tensor
    K: torch.Tensor
    size: torch.Tensor

    @staticmethod
    def of(cams: list[Camera], device) -> "_Rig":
        def t(rows):
            return torch.as_tensor(np.stack(rows), dtype=torch.float64, device=device)
        return _Rig(t([c.R for c in cams]), t([c.T for c in cams]), t([c.intrinsics() for c in cams]),
                    t([[c.res_w, c.res_h] for c in cams]))


def project_views(world: torch.Tensor, camera: torch.Tensor, rig: _Rig, min_depth: float) -> dict[str, torch.Tensor]:
    """World poses (B, T, 16, 3), each seen by its camera (B,) of ``rig`` (with distortion, float64):
    ``cam`` (B,T,16,3) camera-frame metres, ``px`` (B,T,16,2) pixels, ``uv`` (B,T,16,2) normalised screen,
    ``ok`` (B,) — every joint of every frame at depth >= ``min_depth`` and inside the image."""
    X = world.to(rig.R.device, torch.float64)
    Xc = world_to_camera(X, rig.R[camera][:, None], rig.T[camera][:, None])
    px = project(Xc, rig.K[camera][:, None], clamp=False)
    size = rig.size[camera][:, None, None]  # (B,1,1,2)
    w = size[..., :1]
    uv = px / w * 2 - torch.cat([torch.ones_like(w), size[..., 1:] / w], -1)
    a = (size[..., 1] / size[..., 0])  # (B,1,1) aspect h / w
    ok = ((Xc[..., 2] >= min_depth).flatten(1).all(1) & (uv[..., 0].abs() <= 1).flatten(1).all(1)
          & (uv[..., 1].abs() <= a).flatten(1).all(1))
    return {"cam": Xc, "px": px, "uv": uv, "ok": ok}


# ---------------------------------------------------------------------------------------------------
# writing


class _Spool:
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
            np.lib.format.write_array_header_1_0(fp, {"descr": np.lib.format.dtype_to_descr(dtype),
                                                      "fortran_order": False, "shape": (rows, *shape)})
            with open(self.folder / name, "rb") as src:
                shutil.copyfileobj(src, fp, 1 << 18)
        return write


def _array_writer(a) -> Callable:
    a = np.asarray(a)
    return lambda fp: np.lib.format.write_array(fp, a, allow_pickle=False)


def _pickle_writer(obj) -> Callable:
    """A 0-d object array holding ``obj`` as .npy; protocol 5 streams arrays (base-class, contiguous)
    from their memory without a copy."""
    def write(fp) -> None:
        holder = np.empty((), dtype=object)
        holder[()] = obj
        np.lib.format.write_array_header_1_0(fp, {"descr": "|O", "fortran_order": False, "shape": ()})
        pickle.dump(holder, fp, protocol=5)
    return write


def _write_npz(fh, entries: dict[str, Callable]) -> None:
    """An uncompressed npz on the open file ``fh``, one zip64 entry per key, written one after another."""
    with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as zf:
        for key, write in entries.items():
            with zf.open(f"{key}.npy", "w", force_zip64=True) as entry:
                write(entry)


def _cameras_json(cameras: list[Camera]) -> str:
    """``{"view<c>": [camera c]}`` in the ``cameras.json`` format (T in millimetres)."""
    def one(c: Camera) -> dict:
        return {"id": c.id, "R": c.R.tolist(), "T": (c.T * 1000.0).tolist(), "f": c.f.tolist(), "c": c.c.tolist(),
                "k": c.k.tolist(), "p": c.p.tolist(), "res_w": c.res_w, "res_h": c.res_h}
    return json.dumps({f"view{i}": [one(c)] for i, c in enumerate(cameras)})


class _CrossLayout:
    """Rows of the ``cmu_test.npz`` format, one per frame."""

    fields = ("camera", "pose3d_mm", "uv", "px")

    def __init__(self, spool: _Spool, n: int, frames: int, cameras: list[Camera]) -> None:
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
            out["seq_names"] = _array_writer(np.array(names))
        else:
            out["seq_names"] = self.spool.writer("seq_names")
        return {CROSS_FILE: {**out, **common}}


class _VideoPose3DLayout:
    """``positions_3d`` / ``positions_2d`` dicts; subject ``view<c>`` = the draws seen by camera ``c``."""

    fields = ("camera", "world", "px")

    def __init__(self, spool: _Spool, n: int, frames: int, cameras: list[Camera]) -> None:
        self.spool, self.frames, self.cameras = spool, frames, cameras

    def add(self, first: int, part: dict[str, np.ndarray]) -> None:
        """As :meth:`_CrossLayout.add`; each camera's draws go to their own columns."""
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
                cuts = {f"Poses {k}": slice(k * ACTION_POSES, (k + 1) * ACTION_POSES)
                        for k in range(-(-rows // ACTION_POSES))}
            else:
                cuts = {f"Sequence {int(k)}": slice(j * T, (j + 1) * T)
                        for j, k in enumerate(self.spool.mapped(f"index{c}"))}
            pos3d[f"view{c}"] = {a: W[s] for a, s in cuts.items()}
            pos2d[f"view{c}"] = {a: [P[s]] for a, s in cuts.items()}
        meta = {"layout_name": H36M16.name, "num_joints": H36M16.num_joints,
                "keypoints_symmetry": [list(H36M16.left), list(H36M16.right)]}
        return {FILE_3D: {"positions_3d": _pickle_writer(pos3d), **common},
                FILE_2D: {"positions_2d": _pickle_writer(pos2d), "metadata": _pickle_writer(meta)}}


def _progress(total: int, unit: str, desc: str, progress: bool):
    """The shared progress display (:func:`dhaug.progress.progress_bar`): a bar on a terminal, plain quarter
    lines in a log for long runs, nothing when ``progress`` is off — as every other command."""
    from .progress import progress_bar

    return progress_bar(total=total, desc=desc, unit=unit, enabled=progress)


def valid_chunks(source, n: int, seed: int, per_chunk: int, fields=("world", "camera", "pose3d_mm", "uv", "px"),
                 counts: dict | None = None):
    """The first ``n`` valid draws of ``source`` for ``seed``, as ``(first, part)``: ``part`` holds the
    draws ``first, first + 1, ...`` (at most ``per_chunk`` of them) as float32 / int64 numpy arrays
    ``world``, ``pose3d_mm`` (b, T, 16, 3: world metres; camera frame, mm), ``uv`` (normalised screen),
    ``px`` (pixels, b, T, 16, 2) and ``camera`` (b,), those named in ``fields``. Holds at most one chunk
    plus one block. ``counts`` (a dict) receives ``drawn``, ``valid`` and ``blocks``."""
    rig = _Rig.of(source.cameras, source.device)
    counts = {} if counts is None else counts
    counts.update(drawn=0, valid=0, blocks=0)
    done, held, block = 0, 0, 0
    pending: list[dict[str, np.ndarray]] = []  # valid draws not yet handed out
    while done < n:
        d = source.block(block, seed)
        block += 1
        world = d.world.float()  # what is stored; the 2D is the projection of exactly this
        v = project_views(world, d.camera, rig, source.min_depth)
        counts.update(drawn=counts["drawn"] + len(v["ok"]), valid=counts["valid"] + int(v["ok"].sum()), blocks=block)
        if block >= MIN_BLOCKS and counts["valid"] < MIN_VALID_FRACTION * counts["drawn"]:
            raise DataError(f"{source.info.get('checkpoint', 'the source')}: only {counts['valid']} of {counts['drawn']} "
                            f"draws ({counts['valid'] / counts['drawn']:.2%}) are in front of their camera and inside "
                            "the image")
        keep = torch.nonzero(v["ok"])[:, 0][: n - done - held].to(world.device)
        if len(keep):
            piece = {"world": world, "camera": d.camera, "pose3d_mm": v["cam"] * 1000.0, "uv": v["uv"], "px": v["px"]}
            pending.append({k: (x[keep].float() if x.is_floating_point() else x[keep]).cpu().numpy()
                            for k, x in piece.items() if k in fields})
            held += len(keep)
        if held >= per_chunk or (held and done + held == n):  # whole chunks (and the last part)
            rows = {k: np.concatenate([p[k] for p in pending]) if len(pending) > 1 else pending[0][k] for k in pending[0]}
            cut = held if done + held == n else held - held % per_chunk
            for i in range(0, cut, per_chunk):
                part = {k: a[i:min(i + per_chunk, cut)] for k, a in rows.items()}
                yield done, part
                done += len(part["camera"])
            pending = [{k: a[cut:] for k, a in rows.items()}] if cut < held else []
            held -= cut


def _check_output(out: Path, folder: bool, force: bool) -> None:
    if folder and out.is_file():
        raise ConfigError(f"--out {out} is a file; --format videopose3d writes a folder ({FILE_3D}, {FILE_2D}, "
                          f"{CAMERAS_FILE})")
    if not folder and out.is_dir():
        raise ConfigError(f"--out {out} is a folder; --format cross writes one file, e.g. {out / 'generated.npz'}")
    if out.exists() and not force and not (folder and not any(out.iterdir())):
        raise ConfigError(f"{out} exists; pass --force to replace it")
    check_writable(out.parent, "--out", out)


def generate_dataset(source, n: int, out: str | Path, seed: int = 0, fmt: str = "videopose3d",
                     chunk: int = DEFAULT_CHUNK, force: bool = False, progress: bool = True) -> dict:
    """Write the first ``n`` valid draws (poses, or sequences of ``source.frames`` frames) of ``source``
    (:class:`RandomPoses` / :class:`GeneratorPoses`) for ``seed`` to ``out`` in layout ``fmt``
    (``videopose3d``: a folder; ``cross``: an npz; see the module docstring), ``chunk`` frames at a time,
    atomically; an existing ``out`` is replaced only with ``force``. Returns a summary (also stored in
    the files as ``generated``, with ``seconds`` added)."""
    if n <= 0:
        raise ConfigError(f"--n must be > 0, got {n}")
    if chunk <= 0:
        raise ConfigError(f"--chunk must be > 0, got {chunk}")
    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    out, folder = Path(out), fmt == "videopose3d"
    _check_output(out, folder, force)
    T = source.frames
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.", dir=out.parent) as tmp:
        layout = (_VideoPose3DLayout if folder else _CrossLayout)(_Spool(Path(tmp)), n, T, source.cameras)
        counts: dict = {}
        bar = _progress(n, "pose" if T == 1 else "sequence", f"generate {out.name}", progress)
        try:
            for first, part in valid_chunks(source, n, seed, max(1, chunk // T), layout.fields, counts):
                layout.add(first, part)
                bar.update(len(part["camera"]))
        finally:
            bar.close()
        summary = {"version": FILE_VERSION, **source.info, "format": fmt, "n": n, "frames": T, "seed": seed,
                   "fps": source.fps, "cameras": [c.id for c in source.cameras], "draws": counts["drawn"],
                   "valid_fraction": counts["valid"] / counts["drawn"],
                   "block_draws": block_draws(T, len(source.cameras))}
        cams_json = _cameras_json(source.cameras)
        common = {"cameras": _array_writer(np.array(cams_json)), "frames": _array_writer(np.array(T, np.int64)),
                  "fps": _array_writer(np.array(source.fps, np.float32)),
                  "joint_names": _array_writer(np.array(H36M16.joint_names)),
                  "joint_parents": _array_writer(np.array(H36M16.parents, np.int64)),
                  "generated": _array_writer(np.array(json.dumps(summary)))}
        stage = Path(tmp) / "stage"
        stage.mkdir()
        for name, entries in layout.files(common).items():
            atomic_write(stage / name, lambda fh, e=entries: _write_npz(fh, e))
        if folder:
            atomic_write(stage / CAMERAS_FILE, lambda fh: fh.write(cams_json), binary=False)
            if out.exists():  # each file replaced by one rename
                for f in stage.iterdir():
                    os.replace(f, out / f.name)
            else:  # the whole folder appears at once
                os.replace(stage, out)
        else:
            os.replace(stage / CROSS_FILE, out)
    summary["seconds"] = time.time() - t0
    return summary


# ---------------------------------------------------------------------------------------------------
# reading


def _file_scalars(path: Path) -> tuple[set[str], int | None, float]:
    """The keys, ``frames`` (None when absent) and ``fps`` (default 50) of an npz, without reading its arrays."""
    check_npz(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            keys = set(f.files)
            return (keys, int(f["frames"]) if "frames" in keys else None,
                    float(f["fps"]) if "fps" in keys else 50.0)
    except Exception as e:  # numpy raises OSError, ValueError, BadZipFile...
        raise DataError(f"{path}: not a readable npz file ({type(e).__name__}: {e})") from None


def load_generated(path: str | Path, windows: bool = False):
    """A training :class:`~dhaug.data.PoseSet` from ``dhaug generate`` output: a videopose3d folder (through
    the H36M readers and its ``cameras.json``, every subject) or a cross-format npz (through
    :func:`~dhaug.data.crossdata.load_cross_set`, which also takes any cross-dataset test file).
    ``windows``: the caller cuts multi-frame windows, which a file of single poses cannot give."""
    from .data.crossdata import load_cross_set
    from .data.h36m import build_split, load_keypoints_2d, load_positions_3d

    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: not found (a --format cross npz or a --format videopose3d folder of dhaug generate)")
    keys, frames, fps = _file_scalars(path / FILE_3D if path.is_dir() else path)
    if windows and frames == 1:
        raise DataError(f"{path}: holds single poses (frames = 1), and a multi-frame model needs sequences: "
                        "generate it with --frames T")
    if not path.is_dir():
        if "positions_3d" in keys:
            raise DataError(f"{path}: a VideoPose3D-layout 3D file; a videopose3d dataset is read as its folder "
                            f"({FILE_3D}, {FILE_2D}, {CAMERAS_FILE}): give {path.parent}")
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


__all__ = ["ACTION_POSES", "BLOCK_FRAMES", "DEFAULT_CHUNK", "Draws", "FORMATS", "GeneratorPoses", "RandomPoses",
           "block_draws", "block_seeds", "generate_dataset", "load_generated", "project_views",
           "random_source", "source_from_checkpoint", "valid_chunks"]
