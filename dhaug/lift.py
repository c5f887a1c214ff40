"""In-the-wild lifting (``dhaug lift``): a 2D detector's keypoints -> dhaug's 16 joints -> 3D with a trained
checkpoint, without camera calibration. The steps (read, map, fill, smooth, normalise, predict, write), one
function each, are strung together by :func:`run_lift` (the command) and :func:`lift_keypoints` (the same
from Python, arrays in, 3D out).

The 3D is root-relative (pelvis = 0), in metres, in the camera's axes (x right, y down, z forward).

Details (the steps one by one): docs/lifting.md#dhaug-lift
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import checkpoint
from .camera import camera_to_upright, normalize_screen_np
from .config import load_config
from .data.keypoints import (
    Keypoints2D,
    fill_gaps,
    keypoints_from_array,
    read_keypoints,
    savgol_smooth,
    smoothing_window,
    to_h36m16,
)
from .data.windows import window_rows
from .device import resolve_device
from .errors import DataError
from .evaluate import predict
from .files import atomic_write, claim_output_dir
from .kinematics.bvh import motion_to_bvh
from .models import build_model
from .progress import progress_bar
from .skeleton import H36M16

#: Frame rate assumed for the smoothing window (and the GIF's pace) when none is given.
DEFAULT_FPS = 30.0
#: Animations show at most this many frames (sampled evenly) and play at most 25 frames per second.
MAX_ANIMATION_FRAMES = 100
#: Frames shown in the PNG strip.
STRIP_FRAMES = 6
#: What ``dhaug lift`` writes into its ``--out`` folder (none is replaced without ``--force``).
LIFT_OUTPUTS = ("lifted.npz", "lifted.json", "lifted.png", "lifted.gif", "lifted.mp4", "lifted.bvh")
#: File name of the bundled lifter in ``dhaug/weights``.
BUNDLED_LIFTER = "lifter.pt"


@dataclass
class Lifter:
    """A lifting network ready to predict, with what the prediction needs to know about its training."""

    model: nn.Module
    device: torch.device
    #: Input frames per prediction (1 = single-frame).
    frames: int = 1
    #: Frame rate of the training windows (None: unknown, e.g. a bare module).
    train_fps: float | None = None
    flip_test: bool = False
    checkpoint: str | None = None
    description: str = "a torch module"


@dataclass
class Prepared2D:
    """The network input and how it was made. (T, 16, ...) in :data:`H36M16` order."""

    pixels: np.ndarray  # (T, 16, 2) float64: mapped, filled and (optionally) smoothed pixels
    normalised: np.ndarray  # (T, 16, 2) float64 normalised screen coordinates
    scores: np.ndarray  # (T, 16) float64 detector confidence of each mapped joint
    filled: np.ndarray  # (T, 16) bool: interpolated in time (score below min_score or no person)
    image_size: tuple[float, float]
    smoothing: dict | None = None
    notes: list[str] = field(default_factory=list)


def check_image_size(size, where: str = "--image-size") -> tuple[float, float]:
    """(width, height) as two positive finite numbers, else a :class:`DataError` naming ``where``."""
    try:
        w, h = (float(v) for v in size)
    except (TypeError, ValueError):
        raise DataError(f"{where}: image size must be two numbers, width and height; got {size!r}") from None
    if not (math.isfinite(w) and math.isfinite(h) and w > 0 and h > 0):
        raise DataError(f"{where}: image size must be positive, got width {w:g}, height {h:g}")
    return w, h


def prepare_2d(
    kp: Keypoints2D, image_size, min_score: float = 0.3, smooth: bool = False, fps: float | None = None
) -> Prepared2D:
    """Map -> fill -> smooth -> normalise (steps 2-5 of docs/lifting.md#dhaug-lift).

    Args:
        kp: one person per frame (:class:`~dhaug.data.keypoints.Keypoints2D`, T frames).
        image_size: (width, height) in pixels.
    """
    w, h = check_image_size(image_size, f"{kp.source}: image size")
    if not (math.isfinite(min_score) and min_score >= 0):
        raise DataError(f"--min-score must be a number >= 0, got {min_score}")
    xy, scores = to_h36m16(kp.xy, kp.score, kp.layout, min_score)
    valid = scores >= min_score
    if not valid.any():
        raise DataError(
            f"{kp.source}: no person in any of the {len(kp)} frames (no joint with a score >= {min_score:g})"
        )
    pixels, filled = fill_gaps(xy, valid, kp.source)
    notes = list(kp.notes)
    if filled.any():
        notes.append(
            f"{int(filled.sum())} of {filled.size} joint positions (score < {min_score:g} or no person) "
            "filled by linear interpolation in time"
        )
    outside = ~(
        (pixels[..., 0] >= -0.25 * w)
        & (pixels[..., 0] <= 1.25 * w)
        & (pixels[..., 1] >= -0.25 * h)
        & (pixels[..., 1] <= 1.25 * h)
    )
    if outside.mean() > 0.05:
        notes.append(
            f"warning: {100 * outside.mean():.0f} % of the joints lie well outside the {w:g} x {h:g} "
            "image: is the image size right?"
        )
    smoothing = None
    if smooth:
        rate = fps or DEFAULT_FPS
        window = smoothing_window(rate, len(pixels))
        if window is None:
            notes.append(f"not smoothed: {len(pixels)} frames are too few for a Savitzky-Golay window")
        else:
            pixels = savgol_smooth(pixels, window, 2)
            smoothing = {
                "method": "savitzky-golay",
                "window": window,
                "polyorder": 2,
                "fps": rate,
                "fps_assumed": fps is None,
            }
    normalised = normalize_screen_np(pixels, w, h)
    return Prepared2D(pixels, normalised, scores, filled, (w, h), smoothing, notes)


def bundled_lifter_path() -> Path:
    """The lifter shipped with the package (``dhaug/weights/lifter.pt``, see its MODEL_CARD.md)."""
    return Path(__file__).resolve().parent / "weights" / BUNDLED_LIFTER


def load_lifter(checkpoint_path: str | Path | None = None, device: str | torch.device | None = None) -> Lifter:
    """The network of a dhaug checkpoint, built as ``dhaug evaluate`` builds it (the checkpoint's config,
    :func:`dhaug.models.build_model`), on ``device`` (default ``auto``: CUDA when present).
    ``checkpoint_path`` None: the bundled lifter (:func:`bundled_lifter_path`)."""

    if checkpoint_path is None:
        checkpoint_path = bundled_lifter_path()
        if not checkpoint_path.is_file():
            raise DataError(
                f"{checkpoint_path}: this installation has no bundled lifter; give --checkpoint "
                "(a trained run's checkpoint.pt)"
            )
    state = checkpoint.load(checkpoint_path)
    cfg = load_config(state["config"])
    dev = torch.device(device) if isinstance(device, torch.device) else resolve_device(device or "auto")
    model = build_model(cfg.model).to(dev)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as e:
        raise DataError(
            f"checkpoint {checkpoint_path}: its weights do not fit its own model config ({str(e).splitlines()[0]})"
        ) from None
    return Lifter(
        model,
        dev,
        cfg.model.frames,
        50.0 / max(1, cfg.data.downsample),
        cfg.data.cross_flip_test,
        str(checkpoint_path),
        f"{cfg.model.name}, {cfg.model.frames} frame(s), epoch {state.get('epoch', '?')}",
    )


def as_lifter(model_or_checkpoint, device=None) -> Lifter:
    """A :class:`Lifter` from a checkpoint path, a :class:`Lifter` or a bare module (its ``frames``
    attribute, default 1)."""
    if isinstance(model_or_checkpoint, Lifter):
        return model_or_checkpoint
    if isinstance(model_or_checkpoint, nn.Module):
        try:
            dev = next(model_or_checkpoint.parameters()).device
        except StopIteration:
            dev = torch.device("cpu")
        return Lifter(
            model_or_checkpoint, torch.device(device) if device else dev, int(getattr(model_or_checkpoint, "frames", 1))
        )
    return load_lifter(model_or_checkpoint, device)


def window_step(lifter: Lifter, fps: float | None) -> int:
    """Frames between a multi-frame window's slots: ``fps`` / the training rate (>= 1), or 1 when either is unknown."""
    if lifter.frames <= 1 or not fps or not lifter.train_fps:
        return 1
    return max(1, int(round(fps / lifter.train_fps)))


def predict_3d(
    lifter: Lifter,
    pose2d: np.ndarray,
    step: int = 1,
    flip_test: bool | None = None,
    batch_size: int = 4096,
    progress: bool = False,
) -> np.ndarray:
    """Root-relative 3D (metres) of every frame of one sequence.

    Args:
        pose2d: (T, 16, 2) normalised screen coordinates, in time order.
        step: frames between the slots of a multi-frame window (windows are centred on every frame, the
            first / last frame repeated past the ends).
        flip_test: average with the mirrored input's prediction (None: the lifter's own setting).
    Returns:
        (T, 16, 3) float32, pelvis at 0.
    """

    flip = lifter.flip_test if flip_test is None else flip_test
    x = torch.as_tensor(np.asarray(pose2d), dtype=torch.float32, device=lifter.device)
    T = len(x)
    windows = None
    if lifter.frames > 1:
        windows = torch.as_tensor(window_rows(np.zeros(T, np.int64), lifter.frames, step), device=lifter.device)
    outs = []
    for i in progress_bar(range(0, T, batch_size), desc="lifting", unit="batch", enabled=progress):
        if windows is None:
            outs.append(predict(lifter.model, x[i : i + batch_size], batch_size, flip))
        else:
            outs.append(predict(lifter.model, x, batch_size, flip, windows[i : i + batch_size]))
    y = torch.cat(outs) if outs else torch.zeros(0, 16, 3)
    return (y - y[:, :1]).float().cpu().numpy()


def lift_keypoints(
    model_or_checkpoint,
    keypoints_2d,
    image_size,
    scores=None,
    min_score: float = 0.3,
    smooth: bool = False,
    fps: float | None = None,
    step: int | None = None,
    flip_test: bool | None = None,
    device=None,
    batch_size: int = 4096,
    progress: bool = False,
) -> np.ndarray:
    """Lift one person's 2D keypoints to 3D (steps 2-6 of docs/lifting.md#dhaug-lift).

    Args:
        model_or_checkpoint: a checkpoint path, a :class:`Lifter` or a module ((B, 16, 2) -> (B, 16, 3), or
            (B, frames, 16, 2) windows when it has a ``frames`` attribute > 1).
        keypoints_2d: (T, J, 2|3) pixels, J = 17 (COCO order), 25 (BODY_25) or 16 (:data:`H36M16`);
            the third channel is the score.
        image_size: (width, height) in pixels.
        scores: (T, J) confidences (override the third channel; none at all: every joint counts as seen).
        step: multi-frame window step (None: from ``fps`` and the training rate, see :func:`window_step`).
    Returns:
        (T, 16, 3) float32 root-relative 3D in metres (camera axes).
    """
    lifter = as_lifter(model_or_checkpoint, device)
    kp = keypoints_from_array(keypoints_2d, scores, "keypoints_2d")
    prep = prepare_2d(kp, image_size, min_score, smooth, fps)
    return predict_3d(lifter, prep.normalised, step or window_step(lifter, fps), flip_test, batch_size, progress)


# ----------------------------------------------------------------------------------------------
# the command


def run_lift(
    checkpoint: str | Path | None,
    keypoints: str | Path,
    out: str | Path,
    fmt: str = "auto",
    image_size=None,
    fps: float | None = None,
    smooth: bool = False,
    min_score: float = 0.3,
    force: bool = False,
    progress: bool = True,
    device: str | None = None,
    bvh: bool = False,
) -> dict:
    """``dhaug lift``: read ``keypoints``, lift them with ``checkpoint`` (None: the bundled lifter), write the
    outputs into ``out``.

    ``image_size`` (width, height) is needed unless the input carries it (an npz ``image_size``).
    Returns the summary written to ``lifted.json`` (without the per-frame arrays). ``bvh``: also
    ``lifted.bvh`` (:func:`dhaug.kinematics.bvh.motion_to_bvh` of the upright 3D).
    """
    out = claim_output_dir(out, force, LIFT_OUTPUTS)
    if fps is not None and not (math.isfinite(fps) and fps > 0):
        raise DataError(f"--fps must be a positive number, got {fps:g}")
    kp = read_keypoints(keypoints, fmt, progress)
    notes: list[str] = []
    if image_size is None:
        if kp.image_size is None:
            raise DataError(f"{keypoints}: the input does not carry the image size; give --image-size W H (pixels)")
        image_size = check_image_size(kp.image_size, f"{keypoints}: 'image_size'")
    else:
        image_size = check_image_size(image_size, f"{keypoints}: --image-size")
        if kp.image_size is not None and image_size != tuple(kp.image_size):
            notes.append(
                f"--image-size {image_size[0]:g} {image_size[1]:g} used instead of the file's "
                f"{kp.image_size[0]:g} x {kp.image_size[1]:g}"
            )
    prep = prepare_2d(kp, image_size, min_score, smooth, fps)
    lifter = load_lifter(checkpoint, device)
    step = window_step(lifter, fps)
    pose3d = predict_3d(lifter, prep.normalised, step, progress=progress)
    summary = {
        "source": str(keypoints),
        "format": fmt,
        "layout": kp.layout,
        "frames": len(kp),
        "image_size": list(prep.image_size),
        "fps": fps,
        "min_score": min_score,
        "smoothing": prep.smoothing,
        "checkpoint": lifter.checkpoint,
        "model": lifter.description,
        "window": {"frames": lifter.frames, "step": step} if lifter.frames > 1 else None,
        "flip_test": lifter.flip_test,
        "person_selection": {
            "frames_with_several_people": int((kp.people > 1).sum()),
            "frames_without_person": int((kp.people == 0).sum()),
            "rule": "highest-scoring person of each frame, no tracking",
        },
        "filled_joints": int(prep.filled.sum()),
        "notes": prep.notes + notes,
        "units": "pose3d: metres, root-relative (pelvis = 0), camera axes x right, y down, z forward; "
        "pose2d_input: pixels; pose2d: normalised screen x / w * 2 - [1, h / w]",
    }
    write_outputs(out, summary, pose3d, prep, fps, bvh)
    return summary


def animation_frames(n_frames: int, fps: float | None) -> tuple[np.ndarray, float]:
    """Frames shown by the animations (evenly spaced, at most :data:`MAX_ANIMATION_FRAMES`, at most 25 per
    second of video) and their playback rate, so that the animation plays in real time."""
    rate = fps or DEFAULT_FPS
    every = max(1, math.ceil(n_frames / MAX_ANIMATION_FRAMES), math.ceil(rate / 25.0))
    return np.arange(0, n_frames, every), rate / every


def write_outputs(
    out: Path, summary: dict, pose3d: np.ndarray, prep: Prepared2D, fps: float | None, bvh: bool = False
) -> None:
    """``lifted.npz``, ``lifted.json``, ``lifted.png``, ``lifted.gif`` (and ``lifted.mp4`` with ffmpeg,
    ``lifted.bvh`` with ``bvh``) in ``out``."""
    from .plots import plot_pose_grid, save_sequence_gif, save_sequence_video  # late: matplotlib is slow to import

    out.mkdir(parents=True, exist_ok=True)
    arrays = {
        "pose3d": pose3d.astype(np.float32),
        "pose2d_input": prep.pixels.astype(np.float32),
        "pose2d": prep.normalised.astype(np.float32),
        "scores": prep.scores.astype(np.float32),
        "filled": prep.filled,
        "joint_names": np.array(H36M16.joint_names),
        "image_size": np.array(prep.image_size),
        "fps": np.array(fps if fps else np.nan, np.float32),
    }
    payload = dict(
        summary,
        joint_names=list(H36M16.joint_names),
        pose3d=np.round(pose3d, 5).tolist(),
        pose2d_input=np.round(prep.pixels, 2).tolist(),
        scores=np.round(prep.scores, 4).tolist(),
        filled=prep.filled.astype(int).tolist(),
    )
    T = len(pose3d)
    upright = camera_to_upright(pose3d)
    strip = np.unique(np.linspace(0, T - 1, min(STRIP_FRAMES, T)).round().astype(int))
    plot_pose_grid(
        upright[strip],
        prep.normalised[strip],
        out / "lifted.png",
        cols=len(strip),
        labels=[f"frame {t}: 3D (camera axes, upright)" for t in strip],
        fit_2d=True,
        title=f"{Path(summary['source']).name}: 2D input (bottom, normalised) and lifted 3D (top)",
    )
    shown, rate = animation_frames(T, fps)
    labels = [f"frame {t} / {T}" for t in shown]
    title = f"{Path(summary['source']).name}, {rate:.3g} fps"
    save_sequence_gif(upright[shown], prep.normalised[shown], out / "lifted.gif", rate, title, frame_labels=labels)
    files = ["lifted.npz", "lifted.json", "lifted.png", "lifted.gif"]
    if shutil.which("ffmpeg"):
        save_sequence_video(
            upright[shown], prep.normalised[shown], out / "lifted.mp4", rate, title, frame_labels=labels
        )
        files.append("lifted.mp4")
    if bvh:
        motion = motion_to_bvh(upright.astype(np.float64), fps or DEFAULT_FPS)
        atomic_write(out / "lifted.bvh", lambda fh: fh.write(motion.text), binary=False)
        files.append("lifted.bvh")
        summary["bvh_residual_mm"] = {
            "mean": round(float(motion.residual_mm.mean()), 2),
            "max": round(float(motion.residual_mm.max()), 2),
        }
        payload["bvh_residual_mm"] = summary["bvh_residual_mm"]
    payload["files"] = files
    summary["files"] = files
    atomic_write(out / "lifted.json", lambda fh: fh.write(json.dumps(payload).encode()))
    atomic_write(out / "lifted.npz", lambda fh: np.savez(fh, **arrays))  # last: its presence means a complete run
