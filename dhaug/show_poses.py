"""What ``dhaug show-poses`` draws: a grid of random DH poses, or of a trained DH-AUG generator's poses or
sequences (a PNG of 3D world poses, Z up, beside their 2D in one camera; a video generator also writes a
GIF). Random poses use the S1 bones, a pelvis 0.95 m up and the first S1 camera, or a Human3.6M subject's
bones, pelvis positions and first camera (``data_dir``); a generator uses the S1 bones and cameras.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .augment import CameraSet, RandomDHAugmenter, generator_from_checkpoint, project_to_cameras
from .camera import load_cameras
from .checkpoint import load as load_checkpoint
from .data import load_h36m
from .errors import ConfigError
from .files import claim_output_file
from .kinematics import get_body_model
from .kinematics.data_limits import limit_table
from .plots import plot_pose_grid, save_sequence_gif
from .skeleton import S1_BONE_LENGTHS, bone_lengths


def show_poses(
    out: str | Path,
    n: int | None = None,
    body_model: str = "paper",
    limits: str = "normal",
    seed: int = 0,
    data_dir: str | Path | None = None,
    subject: str = "S1",
    checkpoint: str | Path | None = None,
    force: bool = False,
) -> list[str]:
    """Draw ``n`` poses (default 12; a video generator: 4 sequences) to the PNG ``out``: random DH poses of
    ``body_model`` within ``limits``, or, with ``checkpoint``, its generator's. ``out`` (and a video
    generator's GIF beside it) are replaced only with ``force``. Returns the files written, in order."""
    if n is not None and n < 1:
        raise ConfigError(f"--n {n}: give the number of poses to draw (1 or more)")
    claim_output_file(out, force, suffixes=(".png",))
    if checkpoint:
        return _generator_poses(checkpoint, out, n, seed, force)
    if data_dir:
        data = load_h36m(data_dir, "gt")
        if subject not in data.positions:
            raise ConfigError(f"--subject {subject}: {data_dir} has {', '.join(sorted(data.positions))}")
        world = torch.as_tensor(np.concatenate(list(data.positions[subject].values()))[::50])
        bones, roots, cams = bone_lengths(world), world[:, 0], data.cameras[subject]
    else:  # no data: the S1 bone template of method.md §1 and a pelvis 1 m up in the H36M capture area
        bones = torch.tensor([S1_BONE_LENGTHS])
        roots, cams = torch.tensor([[0.0, 0.0, 0.95]]), load_cameras()["S1"]
    aug = RandomDHAugmenter(
        get_body_model(body_model), bones, roots, cams[:1], limits=limit_table(limits, body_model), seed=seed
    )
    g = torch.Generator().manual_seed(seed)
    n = n or 12
    world = aug.sample_world(n, g)
    uv, _, ok = project_to_cameras(world, aug.cams, aug.min_depth)
    plot_pose_grid(
        world.numpy(),
        uv[:, 0].numpy(),
        out,
        title=f"random DH poses: body model {body_model}, limits {limits!r}, seed {seed} "
        f"({int(ok.sum())}/{n} valid in camera {cams[0].id})",
    )
    return [str(out)]


def _generator_poses(checkpoint: str | Path, out: str | Path, n: int | None, seed: int, force: bool) -> list[str]:
    """Poses drawn by the DH-AUG generator saved in a training checkpoint (S1 bones, S1 cameras)."""
    state = load_checkpoint(checkpoint)
    G, cfg = generator_from_checkpoint(state, checkpoint)
    frames = getattr(G, "frames", 1)
    n = n or (12 if frames == 1 else 4)
    fake = G.draw(n, CameraSet.from_cameras(load_cameras()["S1"]), torch.tensor([S1_BONE_LENGTHS]), seed=seed)
    what = f"DH-AUG generator of {checkpoint} (epoch {state['epoch']}), seed {seed}; S1 bones and cameras"
    if frames > 1:
        plot_pose_grid(
            fake["world"].flatten(0, 1).numpy(),
            fake["pose2d"].flatten(0, 1).numpy(),
            out,
            cols=frames,
            title=f"{n} generated sequences (one per row pair, frames left to right, z = the first {n} draws); {what}",
        )
        gif = Path(out).with_suffix(".gif")
        claim_output_file(gif, force)
        fps = 50.0 / max(1, cfg.data.downsample)
        save_sequence_gif(
            fake["world"].numpy(), fake["pose2d"].numpy(), gif, fps, title=f"{n} generated sequences, {fps:g} fps"
        )
        return [str(gif), str(out)]
    plot_pose_grid(fake["world"].numpy(), fake["pose2d"].numpy(), out, title=what)
    return [str(out)]
