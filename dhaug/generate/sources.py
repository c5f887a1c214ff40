"""Pose sources of ``dhaug generate``: random DH poses (:class:`RandomPoses`) and a trained DH-AUG generator
(:class:`GeneratorPoses`), both drawn in seeded blocks.

A source has ``cameras`` (a list of :class:`~dhaug.camera.Camera`), ``frames`` (T), ``fps``, ``min_depth``
(metres), ``device``, ``info`` (provenance for the file) and ``block(index, seed)`` -> :class:`Draws`: world
frame, Z up, metres, 16 joints in :data:`~dhaug.skeleton.H36M16` order; draw ``i`` of a block is seen by
camera ``i mod C``. Block ``b`` of the stream of ``seed`` depends on ``(seed, b)`` alone (docs/generate.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .. import checkpoint
from ..augment import CameraSet, RandomDHAugmenter, generator_from_checkpoint, scale_bones
from ..camera import Camera, camera_to_world, load_cameras
from ..config import BODY_MODELS, NAMED_LIMITS, AugmentConfig
from ..device import resolve_device
from ..errors import ConfigError
from ..kinematics import get_body_model
from ..kinematics.data_limits import limit_table
from ..skeleton import S1_BONE_LENGTHS

#: Frames drawn per seeding block (rounded down to whole draws and to a multiple of the camera count).
BLOCK_FRAMES = 4096
#: Pelvis of random poses (world frame, metres): the Human3.6M capture-area centre, as ``dhaug show-poses``.
DEFAULT_ROOT = (0.0, 0.0, 0.95)
#: Frame rate recorded for random sequences (they have no rate of their own): the paper's training
#: rate, Human3.6M's 50 Hz at every 10th frame.
RANDOM_FPS = 5.0


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

    def __init__(
        self,
        body_model: str = "paper",
        limits: str = "normal",
        frames: int = 1,
        cameras: list[Camera] | None = None,
        bones=None,
        root=DEFAULT_ROOT,
        settings=None,
        fps: float = RANDOM_FPS,
    ) -> None:
        if frames < 1:
            raise ConfigError(f"--frames must be >= 1, got {frames}")
        if body_model not in BODY_MODELS:
            raise ConfigError(f"body model must be one of {', '.join(BODY_MODELS)}, got {body_model!r}")
        if limits not in NAMED_LIMITS:
            raise ConfigError(f"limits must be one of {', '.join(NAMED_LIMITS)}, got {limits!r}")
        settings = settings or AugmentConfig()
        self.cameras, self.frames, self.fps = _default_cameras(cameras), frames, fps
        self.device = torch.device("cpu")
        self.min_depth = settings.min_depth
        roots = torch.tensor([root], dtype=torch.float32)
        if frames > 1:  # a standing pelvis: (1, T, 3)
            roots = roots[:, None].expand(1, frames, 3).contiguous()
        self.aug = RandomDHAugmenter(
            get_body_model(body_model),
            _bone_rows(bones),
            roots,
            self.cameras,
            limits=limit_table(limits, body_model),
            settings=settings,
            frames=frames,
        )
        self.info = {
            "source": "random",
            "body_model": body_model,
            "limits": limits,
            "bone_scale": settings.bone_scale,
            "sigma_deg": settings.sigma_deg,
            "root": list(root),
        } | ({"motion_deg": settings.motion_deg} if frames > 1 else {})

    def block(self, index: int, seed: int) -> Draws:
        """Block ``index`` of the stream of ``seed``; its first draw (the rest pose) is left out."""
        B, C = block_draws(self.frames, len(self.cameras)), len(self.cameras)
        g = torch.Generator().manual_seed(block_seeds(seed, index, 1)[0])
        world = self.aug.sample_world(B, g).reshape(B, self.frames, 16, 3)
        camera = torch.arange(B) % C
        return Draws(world[1:], camera[1:])


class GeneratorPoses:
    """Draws of a trained DH-AUG generator (:class:`~dhaug.augment.dhaug.Generator` or its video form),
    each placed by the generator in front of the camera that sees it, then taken to the world frame.

    Args:
        G: the generator.  cameras: default S1.  bones: (S, 15) templates (default S1), scaled per draw
        by ``1 + U[-bone_scale, bone_scale)`` per bone group.  info: provenance for the file.
    """

    def __init__(
        self,
        G,
        cameras: list[Camera] | None = None,
        bones=None,
        bone_scale: float = 0.2,
        min_depth: float = 0.5,
        fps: float = 50.0,
        device: str | torch.device = "cpu",
        info: dict | None = None,
    ) -> None:
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
        B, C = block_draws(self.frames, len(self.cameras)), len(self.cameras)
        seed_z, seed_b = block_seeds(seed, index)
        bones = scale_bones(
            self.bones[torch.arange(B) % len(self.bones)], self.bone_scale, torch.Generator().manual_seed(seed_b)
        )
        fake = self.G.draw(B, self.camset, bones, seed=seed_z)  # draw i: camera i mod C, bones row i
        T = self.frames
        cam_frame = fake["cam"].reshape(B, T, 16, 3) + fake["root_cam"].reshape(B, T, 1, 3)
        camera = torch.arange(B, device=self.device) % C
        world = camera_to_world(cam_frame, self.camset.R[camera][:, None], self.camset.T[camera][:, None])
        return Draws(world, camera)


def random_source(body_model: str = "paper", limits: str = "normal", frames: int = 1, **kw) -> RandomPoses:
    """:class:`RandomPoses` with the S1 defaults (``kw``: its other arguments)."""
    return RandomPoses(body_model, limits, frames, **kw)


def source_from_checkpoint(
    path: str | Path, frames: int | None = None, body_model: str | None = None, device: str = "auto", **kw
) -> GeneratorPoses:
    """The generator saved in a ``dhaug train --augment dhaug|dhaug-video`` checkpoint, with the run's
    ``bone_scale``, ``min_depth`` and frame rate. ``frames`` / ``body_model``, when given, must match the
    generator's (a video generator makes sequences of its own length)."""
    state = checkpoint.load(path)
    G, cfg = generator_from_checkpoint(state, str(path))
    own = int(getattr(G, "frames", 1))
    if frames is not None and frames != own:
        what = f"sequences of {own} frames" if own > 1 else "single poses"
        raise ConfigError(f"{path}: its generator makes {what}; --frames {frames} differs (leave --frames out)")
    if body_model is not None and body_model != cfg.augment.body_model:
        raise ConfigError(
            f"{path}: its generator uses body model {cfg.augment.body_model!r}, not {body_model!r} "
            "(leave --body-model out)"
        )
    info = {
        "checkpoint": str(path),
        "epoch": int(state["epoch"]),
        "augment_method": cfg.augment.method,
        "body_model": cfg.augment.body_model,
    }
    return GeneratorPoses(
        G,
        bone_scale=cfg.augment.bone_scale,
        min_depth=cfg.augment.min_depth,
        fps=50.0 / max(1, cfg.data.downsample),
        device=resolve_device(device),
        info=info,
        **kw,
    )


__all__ = [
    "BLOCK_FRAMES",
    "DEFAULT_ROOT",
    "Draws",
    "GeneratorPoses",
    "RANDOM_FPS",
    "RandomPoses",
    "block_draws",
    "block_seeds",
    "random_source",
    "source_from_checkpoint",
]
