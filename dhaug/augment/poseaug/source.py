"""``augment.method: poseaug`` in training: in its GAN epochs (:class:`~.schedule.Schedule`) one pass of
the augmentor and discriminators over the real training pairs — with the pose net's feedback in joint
epochs, whose augmented pairs are returned —, and pictures of real vs augmented poses in ``OUT/poseaug``."""

from __future__ import annotations

import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import torch

from ...config import ExperimentConfig
from ...errors import ConfigError
from ...schedule import learning_rate
from ...timing import section
from ..adversarial import AdversarialSource
from ..common import bone_templates, training_cameras
from ..protocol import EpochPairs, no_pairs
from .schedule import Schedule
from .trainer import PoseAugmenter, example_grid


class PoseAugSource(AdversarialSource):
    """PoseAug (:mod:`.poseaug`): in its GAN epochs (:class:`~.poseaug.Schedule`) one pass of the augmentor
    and discriminators over the real training pairs — with the attached pose net's feedback in joint
    epochs, whose augmented pairs are returned for the synthetic pass —, and a picture of real vs
    augmented poses in ``OUT/poseaug``."""

    def __init__(
        self,
        aug,
        real3d: torch.Tensor,
        root: torch.Tensor,
        cam_index: torch.Tensor,
        schedule,
        out_dir: Path,
        monitor_every: int = 1,
        harness_lr=None,
    ) -> None:
        self.aug, self.schedule = aug, schedule
        self.harness_lr = harness_lr  # pose-net epoch -> the loop's LR (needed by lr_policy: follow)
        self.real3d, self.root, self.cam_index = real3d, root, cam_index
        self.pose_start = schedule.pose_start
        self.out_dir, self.monitor_every = out_dir / "poseaug", monitor_every

    def attach(self, model: torch.nn.Module) -> None:
        self.aug.attach(model)

    def pose_lr(self, epoch: int, lr: float) -> float:
        return self.schedule.pose_lr(epoch + self.pose_start, lr, self.aug.s.poseaug.pose_lr)

    def gan_lr(self, epoch: int) -> float:
        """The augmentor's and discriminators' LR in loop epoch ``epoch`` (``augment.poseaug.lr_policy``)."""
        p = self.aug.s.poseaug
        if p.lr_policy == "decay":
            return self.schedule.decayed(epoch, p.lr)

        if self.harness_lr is None:
            raise ConfigError("augment.poseaug.lr_policy = 'follow' needs the loop's LR schedule: pass harness_lr")

        def pose(e: int) -> float:  # the pose net's LR in loop epoch e (its first, for GAN-only epochs)
            e = max(0, e - self.pose_start)
            return self.pose_lr(e, self.harness_lr(e))

        return p.lr * pose(epoch) / pose(self.schedule.gan_start)

    def epoch_pairs(self, epoch: int, progress: bool) -> EpochPairs:
        phase = self.schedule.phase(epoch)
        if phase == "pretrain":
            return no_pairs()
        t0 = time.time()
        out = self.aug.fit_epoch(
            self.real3d,
            self.root,
            self.cam_index,
            feedback=phase == "joint",
            fraction=self.schedule.fraction(epoch),
            lr=self.gan_lr(epoch),
            progress=progress,
            desc=f"epoch {epoch + 1} PoseAug ({phase})",
        )
        logs = {f"gan/{k}": v for k, v in out["logs"].items()}
        logs["gan/seconds"] = time.time() - t0
        if self.monitor_every > 0 and (epoch + 1) % self.monitor_every == 0:
            with section("synthetic/pictures"):
                self.monitor(epoch, phase, out["examples"])
        return EpochPairs(logs, out["pose2d"], out["pose3d"]) if phase == "joint" else no_pairs(logs)

    def monitor(self, epoch: int, phase: str, examples: dict) -> None:
        """A picture of real vs augmented poses at every stage of the augmentor."""
        from ...plots import plot_pose_grid  # late: matplotlib is slow to import

        self.out_dir.mkdir(parents=True, exist_ok=True)
        world, pose2d = example_grid(examples, self.aug.cams.R)
        plot_pose_grid(
            world.cpu().numpy(),
            pose2d.cpu().numpy(),
            self.out_dir / f"poses_epoch{epoch + 1:03d}.png",
            cols=len(examples["cam"]),
            title=f"PoseAug after epoch {epoch + 1} ({phase}): rows real, BA, BA+BL, BA+BL+RT (the "
            "training pair); each 3D (world, Z up) above its 2D",
        )


def build(cfg: ExperimentConfig, data, device: torch.device) -> PoseAugSource:
    """The source for ``data`` (:class:`~dhaug.data.ExperimentData`): PoseAug over its training pairs,
    cameras and subjects' bones."""
    ac, tr = cfg.augment, data.train
    cams, cam_index = training_cameras(data, ac.method)
    aug = PoseAugmenter(
        cams,
        bone_templates(data),
        replace(ac, poseaug=replace(ac.poseaug, batch_size=ac.poseaug.batch_size or cfg.train.batch_size)),
        device=device,
        seed=cfg.train.seed,
    )
    return PoseAugSource(
        aug,
        torch.as_tensor(tr.pose3d),
        torch.as_tensor(tr.root),
        cam_index,
        Schedule.from_config(ac, cfg.train),
        Path(cfg.out_dir),
        ac.monitor_every,
        partial(learning_rate, cfg=cfg.train),
    )


__all__ = ["PoseAugSource", "build"]
