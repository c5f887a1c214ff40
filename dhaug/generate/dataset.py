"""The ``dhaug generate`` pipeline: draw blocks from a source (:mod:`.sources`), project each draw into the
camera that sees it, keep the valid ones (:func:`valid_chunks`), and stream them into a layout
(:mod:`.writers`) that is staged and renamed into place (:func:`generate_dataset`).

Projection is in float64 with the cameras' distortion; a draw is valid when every joint of every frame is
at least ``min_depth`` metres in front of its camera and inside the image. Arrays handed out are numpy,
float32 / int64: ``world`` world metres, ``pose3d_mm`` camera-frame millimetres (B, T, 16, 3); ``uv``
normalised screen coordinates, ``px`` pixels (B, T, 16, 2); ``camera`` (B,).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..camera import Camera, project, world_to_camera
from ..errors import ConfigError, DataError
from ..files import atomic_write, check_writable
from ..progress import progress_bar
from ..skeleton import H36M16
from .sources import block_draws, random_source
from .writers import CAMERAS_FILE, CROSS_FILE, FILE_2D, FILE_3D, LAYOUTS, Spool, array_writer, cameras_json, write_npz

#: The layouts of ``--format``: ``videopose3d`` (a folder) and ``cross`` (one npz).
FORMATS = tuple(LAYOUTS)
#: Frames held in memory before they are written (``--chunk``).
DEFAULT_CHUNK = 100_000
#: A source whose valid fraction is below this after :data:`MIN_BLOCKS` blocks stops with an error.
MIN_VALID_FRACTION = 0.01
MIN_BLOCKS = 8
#: Bumped when the files change meaning.
FILE_VERSION = 1


@dataclass
class Rig:
    """Cameras as float64 tensors: R (C,3,3), T (C,3) metres, pixel intrinsics K (C,9), size (C,2) w, h."""

    R: torch.Tensor
    T: torch.Tensor
    K: torch.Tensor
    size: torch.Tensor

    @staticmethod
    def of(cams: list[Camera], device) -> Rig:
        def t(rows):
            return torch.as_tensor(np.stack(rows), dtype=torch.float64, device=device)

        return Rig(
            t([c.R for c in cams]),
            t([c.T for c in cams]),
            t([c.intrinsics() for c in cams]),
            t([[c.res_w, c.res_h] for c in cams]),
        )


def project_views(world: torch.Tensor, camera: torch.Tensor, rig: Rig, min_depth: float) -> dict[str, torch.Tensor]:
    """World poses (B, T, 16, 3), each seen by its camera (B,) of ``rig`` (with distortion, float64):
    ``cam`` (B,T,16,3) camera-frame metres, ``px`` (B,T,16,2) pixels, ``uv`` (B,T,16,2) normalised screen,
    ``ok`` (B,) — every joint of every frame at depth >= ``min_depth`` and inside the image."""
    X = world.to(rig.R.device, torch.float64)
    Xc = world_to_camera(X, rig.R[camera][:, None], rig.T[camera][:, None])
    px = project(Xc, rig.K[camera][:, None], clamp=False)
    size = rig.size[camera][:, None, None]  # (B,1,1,2)
    w = size[..., :1]
    uv = px / w * 2 - torch.cat([torch.ones_like(w), size[..., 1:] / w], -1)
    a = size[..., 1] / size[..., 0]  # (B,1,1) aspect h / w
    ok = (
        (Xc[..., 2] >= min_depth).flatten(1).all(1)
        & (uv[..., 0].abs() <= 1).flatten(1).all(1)
        & (uv[..., 1].abs() <= a).flatten(1).all(1)
    )
    return {"cam": Xc, "px": px, "uv": uv, "ok": ok}


def valid_chunks(
    source,
    n: int,
    seed: int,
    per_chunk: int,
    fields=("world", "camera", "pose3d_mm", "uv", "px"),
    counts: dict | None = None,
):
    """The first ``n`` valid draws of ``source`` for ``seed``, as ``(first, part)``: ``part`` holds the
    draws ``first, first + 1, ...`` (at most ``per_chunk`` of them) as float32 / int64 numpy arrays
    ``world``, ``pose3d_mm`` (b, T, 16, 3: world metres; camera frame, mm), ``uv`` (normalised screen),
    ``px`` (pixels, b, T, 16, 2) and ``camera`` (b,), those named in ``fields``. Holds at most one chunk
    plus one block. ``counts`` (a dict) receives ``drawn``, ``valid`` and ``blocks``."""
    rig = Rig.of(source.cameras, source.device)
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
            raise DataError(
                f"{source.info.get('checkpoint', 'the source')}: only {counts['valid']} of {counts['drawn']} "
                f"draws ({counts['valid'] / counts['drawn']:.2%}) are in front of their camera and inside "
                "the image"
            )
        keep = torch.nonzero(v["ok"])[:, 0][: n - done - held].to(world.device)
        if len(keep):
            piece = {"world": world, "camera": d.camera, "pose3d_mm": v["cam"] * 1000.0, "uv": v["uv"], "px": v["px"]}
            pending.append(
                {
                    k: (x[keep].float() if x.is_floating_point() else x[keep]).cpu().numpy()
                    for k, x in piece.items()
                    if k in fields
                }
            )
            held += len(keep)
        if held >= per_chunk or (held and done + held == n):  # whole chunks (and the last part)
            rows = {
                k: np.concatenate([p[k] for p in pending]) if len(pending) > 1 else pending[0][k] for k in pending[0]
            }
            cut = held if done + held == n else held - held % per_chunk
            for i in range(0, cut, per_chunk):
                part = {k: a[i : min(i + per_chunk, cut)] for k, a in rows.items()}
                yield done, part
                done += len(part["camera"])
            pending = [{k: a[cut:] for k, a in rows.items()}] if cut < held else []
            held -= cut


def sample_poses(
    n: int, seed: int = 0, body_model: str = "paper", limits: str = "normal", frames: int = 1
) -> dict[str, torch.Tensor]:
    """Random DH poses in one call, for library users: the first ``n`` valid draws of
    :func:`~dhaug.generate.random_source` (its S1 defaults), float32.

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
    return {
        "world": torch.from_numpy(squeeze(cat["world"])).float(),
        "camera3d": torch.from_numpy(squeeze(cat["pose3d_mm"]) / 1000.0).float(),
        "pose2d": torch.from_numpy(squeeze(cat["uv"])).float(),
        "camera": torch.from_numpy(cat["camera"]).long(),
    }


def _check_output(out: Path, folder: bool, force: bool) -> None:
    if folder and out.is_file():
        raise ConfigError(
            f"--out {out} is a file; --format videopose3d writes a folder ({FILE_3D}, {FILE_2D}, {CAMERAS_FILE})"
        )
    if not folder and out.is_dir():
        raise ConfigError(f"--out {out} is a folder; --format cross writes one file, e.g. {out / 'generated.npz'}")
    if out.exists() and not force and not (folder and not any(out.iterdir())):
        raise ConfigError(f"{out} exists; pass --force to replace it")
    check_writable(out.parent, "--out", out)


def generate_dataset(
    source,
    n: int,
    out: str | Path,
    seed: int = 0,
    fmt: str = "videopose3d",
    chunk: int = DEFAULT_CHUNK,
    force: bool = False,
    progress: bool = True,
) -> dict:
    """Write the first ``n`` valid draws (poses, or sequences of ``source.frames`` frames) of ``source``
    (:class:`~dhaug.generate.RandomPoses` / :class:`~dhaug.generate.GeneratorPoses`) for ``seed`` to ``out``
    in layout ``fmt`` (``videopose3d``: a folder; ``cross``: an npz; see docs/generate.md), ``chunk`` frames
    at a time, atomically; an existing ``out`` is replaced only with ``force``. Returns a summary (also
    stored in the files as ``generated``, with ``seconds`` added)."""
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
        layout = LAYOUTS[fmt](Spool(Path(tmp)), n, T, source.cameras)
        counts: dict = {}
        bar = progress_bar(
            total=n, desc=f"generate {out.name}", unit="pose" if T == 1 else "sequence", enabled=progress
        )
        try:
            for first, part in valid_chunks(source, n, seed, max(1, chunk // T), layout.fields, counts):
                layout.add(first, part)
                bar.update(len(part["camera"]))
        finally:
            bar.close()
        summary = {
            "version": FILE_VERSION,
            **source.info,
            "format": fmt,
            "n": n,
            "frames": T,
            "seed": seed,
            "fps": source.fps,
            "cameras": [c.id for c in source.cameras],
            "draws": counts["drawn"],
            "valid_fraction": counts["valid"] / counts["drawn"],
            "block_draws": block_draws(T, len(source.cameras)),
        }
        cams_json = cameras_json(source.cameras)
        common = {
            "cameras": array_writer(np.array(cams_json)),
            "frames": array_writer(np.array(T, np.int64)),
            "fps": array_writer(np.array(source.fps, np.float32)),
            "joint_names": array_writer(np.array(H36M16.joint_names)),
            "joint_parents": array_writer(np.array(H36M16.parents, np.int64)),
            "generated": array_writer(np.array(json.dumps(summary))),
        }
        stage = Path(tmp) / "stage"
        stage.mkdir()
        for name, entries in layout.files(common).items():
            atomic_write(stage / name, lambda fh, e=entries: write_npz(fh, e))
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


__all__ = [
    "DEFAULT_CHUNK",
    "FILE_VERSION",
    "FORMATS",
    "MIN_BLOCKS",
    "MIN_VALID_FRACTION",
    "Rig",
    "generate_dataset",
    "project_views",
    "sample_poses",
    "valid_chunks",
]
