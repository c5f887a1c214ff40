"""``augment.method: dhaug`` / ``dhaug-video`` in training: one GAN pass over the real training pairs
(or windows) per epoch, whose critic-step fakes are the epoch's synthetic pairs, with pictures of the
generator in ``OUT/gan``; and the generator read back from a training checkpoint."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import torch

from ...config import ExperimentConfig, load_config
from ...data.windows import window_rows
from ...errors import ConfigError
from ...kinematics import get_body_model
from ...kinematics.ik import inverse_kinematics
from ...kinematics.limits import paper_table
from ...timing import section
from ..adversarial import AdversarialSource
from ..common import bone_templates, resolve_limits, training_cameras, training_world
from ..protocol import EpochPairs
from .networks import Generator
from .trainer import DHAugmenter
from .video import VideoGenerator


class GANSource(AdversarialSource):
    """One DH-AUG GAN pass over the real training set (or its windows) per epoch; its critic-step fakes
    are the epoch's synthetic pairs. The pose net starts after ``warmup`` + 1 GAN-only epochs."""

    def __init__(
        self,
        aug: DHAugmenter,
        real3d: torch.Tensor,
        root: torch.Tensor,
        cam_index: torch.Tensor,
        seq: torch.Tensor | None,
        warmup: int,
        out_dir: Path,
        limits=None,
        reference_world: torch.Tensor | None = None,
        monitor_every: int = 1,
    ) -> None:
        self.aug = aug
        self.limits = limits
        self.reference_world = reference_world  # real world-frame poses: their IK angles are drawn for comparison
        self._reference = None
        self.real3d, self.root, self.cam_index = real3d, root, cam_index
        self.extra = () if seq is None else (seq,)
        self.smoothness: list[tuple[int, float, float]] = []
        self.monitor_every = monitor_every
        self.pose_start = warmup + 1
        self.out_dir = out_dir / "gan"

    def epoch_pairs(self, epoch: int, progress: bool) -> EpochPairs:
        t0 = time.time()
        out = self.aug.fit_epoch(
            self.real3d, self.root, self.cam_index, *self.extra, progress=progress, desc=f"epoch {epoch + 1} GAN"
        )
        logs = {
            f"gan/{k}": out[k]
            for k in ("d3", "d2", "md3", "md2", "g", "accel_real_mm", "accel_fake_mm")
            if out.get(k) is not None
        }
        logs["gan/seconds"] = time.time() - t0  # the GAN pass alone (cost benchmark: pairs/s, share of the epoch)
        B = self.aug.batch_size
        logs["gan/valid_fraction"] = len(out["pose2d"]) / max(1, (len(self.real3d) // B) * B)
        if "accel_fake_mm" in out:
            self.smoothness.append((epoch + 1, out["accel_real_mm"], out["accel_fake_mm"]))
        if self.monitor_every > 0 and (epoch + 1) % self.monitor_every == 0:
            with section("synthetic/pictures"):
                self.monitor(epoch)
        return EpochPairs(logs, out["pose2d"], out["pose3d"])

    @torch.no_grad()
    def monitor(self, epoch: int) -> None:
        """Pictures of this epoch's generator: poses (video: two sequences, frame by frame), DOF
        histograms against the limits and the real IK angles, and (video) the joint acceleration."""
        from ...plots import plot_dof_histograms, plot_pose_grid, plot_smoothness  # late: matplotlib is slow to import

        self.out_dir.mkdir(parents=True, exist_ok=True)
        g = self.aug
        frames = g.frames
        fake = g.G.draw(max(2, 2048 // frames), g.cams, g.templates, seed=epoch)
        if frames > 1:
            plot_pose_grid(
                fake["world"][:2].flatten(0, 1).cpu().numpy(),
                fake["pose2d"][:2].flatten(0, 1).cpu().numpy(),
                self.out_dir / f"sequences_epoch{epoch + 1:03d}.png",
                cols=frames,
                title=f"two generated sequences after epoch {epoch + 1} (one per row pair, frames left to right)",
            )
            plot_smoothness(self.smoothness, self.out_dir / "smoothness.png")
        else:
            plot_pose_grid(
                fake["world"][:8].cpu().numpy(),
                fake["pose2d"][:8].cpu().numpy(),
                self.out_dir / f"poses_epoch{epoch + 1:03d}.png",
                title=f"generated poses after epoch {epoch + 1}",
            )
        if self._reference is None and self.reference_world is not None:
            ik = inverse_kinematics(g.G.body_model, self.reference_world)
            self._reference = (ik.dofs.float(), ik.rotation.float())
        plot_dof_histograms(
            g.G.body_model,
            fake["dofs"].flatten(0, -2).cpu(),
            fake["rotation"].flatten(0, -2).cpu(),
            self.out_dir / f"dofs_epoch{epoch + 1:03d}.png",
            data_table=self.limits,
            reference=self._reference,
            title=f"generated DOFs after epoch {epoch + 1} (deg, grey) vs real IK angles (orange); "
            f"limits: red GAN, green 'normal', blue dashed the generator's table",
        )


def build(cfg: ExperimentConfig, data, device: torch.device) -> GANSource:
    """The source for ``data`` (:class:`~dhaug.data.ExperimentData`): a GAN over its training cameras and
    subjects' bones; windows of ``model.frames`` for ``dhaug-video``."""
    ac = cfg.augment
    cams, cam_index = training_cameras(data, ac.method)
    model, world = get_body_model(ac.body_model), training_world(data)
    limits = resolve_limits(ac, model, world)
    gan_frames = cfg.model.frames if ac.method == "dhaug-video" else 1
    settings = replace(ac, gan=replace(ac.gan, batch_size=ac.gan.batch_size or cfg.train.batch_size))
    aug = DHAugmenter(
        cams, bone_templates(data), model, limits, settings, device=device, seed=cfg.train.seed, frames=gan_frames
    )
    tr = data.train
    real3d, root, seq = torch.as_tensor(tr.pose3d), torch.as_tensor(tr.root), None
    if gan_frames > 1:  # real windows: one camera and one sequence id per window
        rows = torch.as_tensor(window_rows(tr.seq, gan_frames, 1, name=tr.name))
        real3d, root, seq = real3d[rows], root[rows], torch.as_tensor(tr.seq)
    return GANSource(
        aug,
        real3d,
        root,
        cam_index,
        seq,
        ac.gan.warmup,
        Path(cfg.out_dir),
        limits,
        world[:: max(1, len(world) // 10_000)],
        ac.monitor_every,
    )


def generator_from_checkpoint(state: dict, name: str = "checkpoint"):
    """The DH-AUG generator (single-frame or video) saved in a ``dhaug train`` checkpoint ``state``
    (as returned by :func:`dhaug.checkpoint.load`) and the run's config; ``name`` labels errors."""
    method = state.get("config", {}).get("augment", {}).get("method")
    if "augmenter" not in state or "G" not in state["augmenter"] or method not in ("dhaug", "dhaug-video"):
        raise ConfigError(
            f"{name} holds no DH-AUG generator (trained with augment.method={method!r}, not 'dhaug' or 'dhaug-video')"
        )
    cfg = load_config(state["config"])
    body = get_body_model(cfg.augment.body_model)
    weights = state["augmenter"]["G"]
    if cfg.augment.method == "dhaug-video":
        K = len(weights["basis"]) if "basis" in weights else 0  # the cosines are in the weights
        G = VideoGenerator(body, paper_table("gan"), cfg.model.frames, cfg.augment.gan.gen_width, temporal_basis=K)
    else:
        G = Generator(body, paper_table("gan"), cfg.augment.gan.gen_width)
    G.load_state_dict(weights)  # the limit table travels with the weights (buffers lo, hi)
    return G.eval(), cfg


__all__ = ["GANSource", "build", "generator_from_checkpoint"]
