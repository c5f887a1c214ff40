"""PoseAug's phases (pre-training, GAN warm-up, joint epochs) inside the pose net's epoch budget,
and its linear LR decay."""

from __future__ import annotations

from dataclasses import dataclass

from ...config import AugmentConfig


@dataclass(frozen=True)
class Schedule:
    """PoseAug's phases in the epochs of :func:`dhaug.train.train`'s loop (``pose_start`` GAN-only epochs,
    then the pose net's ``pose_epochs``; the pose net's budget is that of every other method).

    * ``pretrain`` pose-net epochs on real data only (PoseAug pre-trains the pose net in a separate run:
      50 epochs for VideoPose/SimpleBaseline, then 50 PoseAug epochs; ``poseaug.pretrain_epochs`` -1 =
      half the pose-net epochs, the same 1 : 1 split inside one budget);
    * ``warmup`` GAN epochs without feedback and without augmented pairs; they overlap the last
      pre-training epochs (the pose net keeps training on real data there; PoseAug froze it, but
      without feedback the GAN does not use it), or, when ``pretrain`` < ``warmup``, come first as
      GAN-only loop epochs;
    * then joint epochs: GAN pass with feedback, synthetic pass on its pairs, real pass.
    """

    pose_epochs: int
    pretrain: int
    warmup: int

    @staticmethod
    def from_config(ac: AugmentConfig, tc) -> "Schedule":
        E = tc.epochs + tc.tail_epochs
        p = ac.poseaug
        return Schedule(E, p.pretrain_epochs if p.pretrain_epochs >= 0 else E // 2, p.warmup)

    @property
    def pose_start(self) -> int:
        """GAN-only loop epochs before the pose net's first."""
        return max(0, self.warmup - self.pretrain)

    @property
    def gan_start(self) -> int:
        """The loop epoch of the first GAN pass."""
        return self.pose_start + self.pretrain - self.warmup

    @property
    def gan_epochs(self) -> int:
        """K: loop epochs with a GAN pass."""
        return self.pose_start + self.pose_epochs - self.gan_start

    def phase(self, epoch: int) -> str:
        """``pretrain``, ``warmup`` or ``joint`` for loop epoch ``epoch``."""
        if epoch < self.gan_start:
            return "pretrain"
        return "warmup" if epoch < self.gan_start + self.warmup else "joint"

    def fraction(self, epoch: int) -> float:
        """(k + 1) / K for GAN epoch k: the hard-ratio schedule's position after this epoch."""
        return (epoch - self.gan_start + 1) / self.gan_epochs

    def decayed(self, epoch: int, lr: float) -> float:
        """``lr (1 - k / (K + 1))`` in GAN epoch k (PoseAug's linear decay of every network's LR)."""
        return lr * (1 - (epoch - self.gan_start) / (self.gan_epochs + 1))

    def pose_lr(self, epoch: int, lr: float, pose_lr: float) -> float:
        """The pose net's LR in loop epoch ``epoch``: the harness's ``lr``; with ``pose_lr`` > 0 PoseAug's
        own from the first GAN epoch on (``pose_lr`` decayed as :meth:`decayed`)."""
        return self.decayed(epoch, pose_lr) if pose_lr > 0 and epoch >= self.gan_start else lr


__all__ = ["Schedule"]
