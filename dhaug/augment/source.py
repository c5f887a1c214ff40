"""Synthetic-pair sources for the training loop, built from an experiment config.

``build_source(cfg, data, device)`` turns ``cfg.augment`` into an object with
``epoch_pairs(epoch, progress) -> (logs, pose2d, pose3d)``, ``pose_start`` (the first pose-net epoch)
and ``state_dict``/``load_state_dict``: :class:`RandomSource` (random DH poses or sequences, method.md §7),
:class:`GANSource` (one DH-AUG GAN pass per epoch, method.md §5-§6, with its pictures) or
:class:`PoseAugSource` (PoseAug's augmentor of the real pairs). A source may also have
``attach(model)`` (the training loop hands it the pose net: PoseAug's feedback loss reads its error)
and ``pose_lr(epoch, lr)`` (it may replace the pose net's LR of pose-net epoch ``epoch``).
"""
from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import numpy as np
import torch

from ..config import ExperimentConfig
from ..errors import ConfigError
from ..schedule import learning_rate
from ..timing import section
from .basis import temporal_basis
from .dhaug_gan import DHAugmenter
from .random_dh import RandomDHAugmenter


class RandomSource:
    """Random DH poses (or sequences) each epoch; no warm-up, no state."""

    pose_start = 0

    def __init__(self, aug: RandomDHAugmenter) -> None:
        self.aug = aug

    def epoch_pairs(self, epoch: int, progress: bool) -> tuple[dict, torch.Tensor, torch.Tensor]:
        x, y = self.aug.sample(epoch)
        return {}, x, y

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class GANSource:
    """One DH-AUG GAN pass over the real training set (or its windows) per epoch; its critic-step fakes
    are the epoch's synthetic pairs. The pose net starts after ``warmup`` + 1 GAN-only epochs."""

    def __init__(self, aug: DHAugmenter, real3d: torch.Tensor, root: torch.Tensor, cam_index: torch.Tensor,
                 seq: torch.Tensor | None, warmup: int, out_dir: Path, limits=None,
                 reference_world: torch.Tensor | None = None, monitor_every: int = 1) -> None:
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

    def epoch_pairs(self, epoch: int, progress: bool) -> tuple[dict, torch.Tensor, torch.Tensor]:
        t0 = time.time()
        out = self.aug.fit_epoch(self.real3d, self.root, self.cam_index, *self.extra, progress=progress,
                                 desc=f"epoch {epoch + 1} GAN")
        logs = {f"gan/{k}": out[k] for k in ("d3", "d2", "md3", "md2", "g", "accel_real_mm", "accel_fake_mm")
                if out.get(k) is not None}
        logs["gan/seconds"] = time.time() - t0  # the GAN pass alone (cost benchmark: pairs/s, share of the epoch)
        B = self.aug.batch_size
        logs["gan/valid_fraction"] = len(out["pose2d"]) / max(1, (len(self.real3d) // B) * B)
        if "accel_fake_mm" in out:
            self.smoothness.append((epoch + 1, out["accel_real_mm"], out["accel_fake_mm"]))
        if self.monitor_every > 0 and (epoch + 1) % self.monitor_every == 0:
            with section("synthetic/pictures"):
                self.monitor(epoch)
        return logs, out["pose2d"], out["pose3d"]

    @torch.no_grad()
    def monitor(self, epoch: int) -> None:
        """Pictures of this epoch's generator: poses (video: two sequences, frame by frame), DOF
        histograms against the limits and the real IK angles, and (video) the joint acceleration."""
        from ..plots import plot_dof_histograms, plot_pose_grid, plot_smoothness

        self.out_dir.mkdir(parents=True, exist_ok=True)
        g = self.aug
        frames = g.frames
        fake = g.G.draw(max(2, 2048 // frames), g.cams, g.templates, seed=epoch)
        if frames > 1:
            plot_pose_grid(fake["world"][:2].flatten(0, 1).cpu().numpy(), fake["pose2d"][:2].flatten(0, 1).cpu().numpy(),
                           self.out_dir / f"sequences_epoch{epoch + 1:03d}.png", cols=frames,
                           title=f"two generated sequences after epoch {epoch + 1} (one per row pair, frames left to right)")
            plot_smoothness(self.smoothness, self.out_dir / "smoothness.png")
        else:
            plot_pose_grid(fake["world"][:8].cpu().numpy(), fake["pose2d"][:8].cpu().numpy(),
                           self.out_dir / f"poses_epoch{epoch + 1:03d}.png", title=f"generated poses after epoch {epoch + 1}")
        if self._reference is None and self.reference_world is not None:
            from ..kinematics.ik import inverse_kinematics
            ik = inverse_kinematics(g.G.body_model, self.reference_world)
            self._reference = (ik.dofs.float(), ik.rotation.float())
        plot_dof_histograms(g.G.body_model, fake["dofs"].flatten(0, -2).cpu(), fake["rotation"].flatten(0, -2).cpu(),
                            self.out_dir / f"dofs_epoch{epoch + 1:03d}.png", data_table=self.limits,
                            reference=self._reference,
                            title=f"generated DOFs after epoch {epoch + 1} (deg, grey) vs real IK angles (orange); "
                                  f"limits: red GAN, green 'normal', blue dashed the generator's table")

    def state_dict(self) -> dict:
        return self.aug.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.aug.load_state_dict(state)


class PoseAugSource:
    """PoseAug (:mod:`.poseaug`): in its GAN epochs (:class:`~.poseaug.Schedule`) one pass of the augmentor
    and discriminators over the real training pairs — with the attached pose net's feedback in joint
    epochs, whose augmented pairs are returned for the synthetic pass —, and a picture of real vs
    augmented poses in ``OUT/poseaug``."""

    def __init__(self, aug, real3d: torch.Tensor, root: torch.Tensor, cam_index: torch.Tensor, schedule,
                 out_dir: Path, monitor_every: int = 1, harness_lr=None) -> None:
        self.aug, self.schedule = aug, schedule
        self.harness_lr = harness_lr  # pose-net epoch -> the loop's LR (needed by poseaug_lr: follow)
        self.real3d, self.root, self.cam_index = real3d, root, cam_index
        self.pose_start = schedule.pose_start
        self.out_dir, self.monitor_every = out_dir / "poseaug", monitor_every

    def attach(self, model: torch.nn.Module) -> None:
        self.aug.attach(model)

    def pose_lr(self, epoch: int, lr: float) -> float:
        return self.schedule.pose_lr(epoch + self.pose_start, lr, self.aug.s.poseaug_pose_lr)

    def gan_lr(self, epoch: int) -> float:
        """The augmentor's and discriminators' LR in loop epoch ``epoch`` (``augment.poseaug_lr``)."""
        s = self.aug.s
        if s.poseaug_lr == "decay":
            return self.schedule.decayed(epoch, s.gan_lr)

        def pose(e: int) -> float:  # the pose net's LR in loop epoch e (its first, for GAN-only epochs)
            e = max(0, e - self.pose_start)
            return self.pose_lr(e, self.harness_lr(e))
        return s.gan_lr * pose(epoch) / pose(self.schedule.gan_start)

    def epoch_pairs(self, epoch: int, progress: bool) -> tuple[dict, torch.Tensor, torch.Tensor]:
        phase = self.schedule.phase(epoch)
        none = torch.zeros(0, 16, 2), torch.zeros(0, 16, 3)
        if phase == "pretrain":
            return {}, *none
        t0 = time.time()
        out = self.aug.fit_epoch(self.real3d, self.root, self.cam_index, feedback=phase == "joint",
                                 fraction=self.schedule.fraction(epoch), lr=self.gan_lr(epoch),
                                 progress=progress, desc=f"epoch {epoch + 1} PoseAug ({phase})")
        logs = {f"gan/{k}": v for k, v in out["logs"].items()}
        logs["gan/seconds"] = time.time() - t0
        if self.monitor_every > 0 and (epoch + 1) % self.monitor_every == 0:
            with section("synthetic/pictures"):
                self.monitor(epoch, phase, out["examples"])
        return (logs, out["pose2d"], out["pose3d"]) if phase == "joint" else (logs, *none)

    def monitor(self, epoch: int, phase: str, examples: dict) -> None:
        """A picture of real vs augmented poses at every stage of the augmentor."""
        from ..plots import plot_pose_grid  # late: matplotlib is slow to import
        from .poseaug import example_grid

        self.out_dir.mkdir(parents=True, exist_ok=True)
        world, pose2d = example_grid(examples, self.aug.cams.R)
        plot_pose_grid(world.cpu().numpy(), pose2d.cpu().numpy(), self.out_dir / f"poses_epoch{epoch + 1:03d}.png",
                       cols=len(examples["cam"]),
                       title=f"PoseAug after epoch {epoch + 1} ({phase}): rows real, BA, BA+BL, BA+BL+RT (the "
                             "training pair); each 3D (world, Z up) above its 2D")

    def state_dict(self) -> dict:
        return self.aug.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.aug.load_state_dict(state)


def resolve_limits(ac, model, world: torch.Tensor):
    """The limit table named by ``augment.limits`` (``auto``: random -> ``normal``, dhaug -> ``data``)."""
    from ..kinematics.data_limits import limit_table, table_from_poses

    name = ac.limits if ac.limits != "auto" else ("normal" if ac.method == "random" else "data")
    if name == "data":
        return table_from_poses(model, world, ac.limit_margin_deg)
    return limit_table(name, ac.body_model)


def camera_offsets(data) -> dict[str, int]:
    """Index of each training subject's first camera in the concatenated camera list (each subject
    counts its own cameras)."""
    first, k = {}, 0
    for s in data.train_subjects:
        first[s] = k
        k += len(data.mocap.cameras[s])
    return first


def build_source(cfg: ExperimentConfig, data, device: torch.device):
    """The synthetic-pair source named by ``cfg.augment`` (None for ``none``) for ``data``
    (:class:`~dhaug.data.ExperimentData`)."""
    from dataclasses import replace

    from ..data.windows import window_rows
    from ..kinematics import get_body_model
    from ..skeleton import bone_lengths

    ac = cfg.augment
    if ac.method == "none":
        return None
    if data.mocap is None:
        raise ConfigError(f"augment.method = {ac.method!r} needs the world-frame 3D of the training subjects")
    cams = [c for s in data.train_subjects for c in data.mocap.cameras[s]]
    tr = data.train
    first = camera_offsets(data)
    cam_index = torch.as_tensor(np.array([first[n] for n in tr.subject_names])[tr.subject] + tr.camera)
    if ac.method == "poseaug":
        from .poseaug import PoseAugmenter, Schedule

        templates = torch.as_tensor(data.mocap.bone_template(list(data.train_subjects)), dtype=torch.float32)
        aug = PoseAugmenter(cams, templates, replace(ac, gan_batch_size=ac.gan_batch_size or cfg.train.batch_size),
                            device=device, seed=cfg.train.seed)
        return PoseAugSource(aug, torch.as_tensor(tr.pose3d), torch.as_tensor(tr.root), cam_index,
                             Schedule.from_config(ac, cfg.train), Path(cfg.out_dir), ac.monitor_every,
                             partial(learning_rate, cfg=cfg.train))
    model = get_body_model(ac.body_model)
    world = np.concatenate([p for s in data.train_subjects for p in data.mocap.positions[s].values()])
    world = torch.as_tensor(world[:: max(1, len(world) // 50_000)], dtype=torch.float32)  # plenty of samples
    limits = resolve_limits(ac, model, world)
    frames = cfg.model.frames
    if ac.method == "random":
        roots = world[:, 0]
        if frames > 1:  # sequences: pelvis trajectories of real windows at the training frame rate
            paths = [p[:: cfg.data.downsample, 0] for s in data.train_subjects for p in data.mocap.positions[s].values()]
            seq = np.concatenate([np.full(len(p), i) for i, p in enumerate(paths)])
            roots = torch.as_tensor(np.concatenate(paths), dtype=torch.float32)[torch.as_tensor(window_rows(seq, frames))]
        return RandomSource(RandomDHAugmenter(model, bone_lengths(world), roots, cams, limits=limits, settings=ac,
                                              seed=cfg.train.seed, frames=frames))
    gan_frames = frames if ac.method == "dhaug-video" else 1
    settings = replace(ac, gan_batch_size=ac.gan_batch_size or cfg.train.batch_size)
    templates = torch.as_tensor(data.mocap.bone_template(list(data.train_subjects)), dtype=torch.float32)
    aug = DHAugmenter(cams, templates, model, limits, settings, device=device, seed=cfg.train.seed, frames=gan_frames)
    real3d, root, seq = torch.as_tensor(tr.pose3d), torch.as_tensor(tr.root), None
    if gan_frames > 1:  # real windows: one camera and one sequence id per window
        rows = torch.as_tensor(window_rows(tr.seq, gan_frames, 1, name=tr.name))
        real3d, root, seq = real3d[rows], root[rows], torch.as_tensor(tr.seq)
    return GANSource(aug, real3d, root, cam_index, seq, ac.warmup, Path(cfg.out_dir), limits,
                     world[:: max(1, len(world) // 10_000)], ac.monitor_every)


def generator_from_checkpoint(state: dict, name: str = "checkpoint"):
    """The DH-AUG generator (single-frame or video) saved in a ``dhaug train`` checkpoint ``state``
    (as returned by :func:`dhaug.checkpoint.load`) and the run's config; ``name`` labels errors."""
    from ..config import load_config
    from ..kinematics import get_body_model
    from ..kinematics.limits import paper_table
    from .gan import Generator
    from .video_gan import VideoGenerator

    method = state.get("config", {}).get("augment", {}).get("method")
    if "augmenter" not in state or "G" not in state["augmenter"] or method not in ("dhaug", "dhaug-video"):
        raise ConfigError(f"{name} holds no DH-AUG generator (trained with augment.method={method!r}, "
                          "not 'dhaug' or 'dhaug-video')")
    cfg = load_config(state["config"])
    body = get_body_model(cfg.augment.body_model)
    weights = state["augmenter"]["G"]
    if cfg.augment.method == "dhaug-video":
        K = len(weights["basis"]) if "basis" in weights else 0  # the cosines are in the weights
        G = VideoGenerator(body, paper_table("gan"), cfg.model.frames, cfg.augment.gen_width, temporal_basis=K)
    else:
        G = Generator(body, paper_table("gan"), cfg.augment.gen_width)
    G.load_state_dict(weights)  # the limit table travels with the weights (buffers lo, hi)
    return G.eval(), cfg


__all__ = ["GANSource", "PoseAugSource", "RandomSource", "build_source", "camera_offsets", "generator_from_checkpoint",
           "resolve_limits", "temporal_basis"]
