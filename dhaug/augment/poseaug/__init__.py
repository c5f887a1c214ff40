"""PoseAug (Gong, Zhang, Feng, CVPR 2021) in dhaug's harness, for comparison: pose operations
(:mod:`.ops`), losses (:mod:`.losses`), networks (:mod:`.networks`), its phases (:mod:`.schedule`), the
adversarial trainer (:class:`PoseAugmenter`) and its training-loop source (:class:`PoseAugSource`).
Written from the paper and from facts read in the public release; no code of it is copied
(docs/augment/poseaug.md)."""

from .losses import (
    FEEDBACK_GROUPS,
    FEEDBACK_WEIGHTS,
    feedback_loss,
    grouped_error,
    hard_ratio,
    lsgan_critic_loss,
    lsgan_generator_loss,
    range_loss,
)
from .networks import Augmentor, FakePool, PartKCSDiscriminator, kaiming_init
from .ops import (
    BACKBONE,
    BL_GROUP,
    PARTS,
    ancestors,
    assemble,
    bone_angle_change,
    bone_length_change,
    kcs,
    part_masks,
    rotation_from_axis_angle,
)
from .schedule import Schedule
from .source import PoseAugSource, build
from .trainer import PoseAugmenter, example_grid, frozen

__all__ = [
    "BACKBONE",
    "BL_GROUP",
    "FEEDBACK_GROUPS",
    "FEEDBACK_WEIGHTS",
    "PARTS",
    "Augmentor",
    "FakePool",
    "PartKCSDiscriminator",
    "PoseAugSource",
    "PoseAugmenter",
    "Schedule",
    "ancestors",
    "assemble",
    "bone_angle_change",
    "bone_length_change",
    "build",
    "example_grid",
    "feedback_loss",
    "frozen",
    "grouped_error",
    "hard_ratio",
    "kaiming_init",
    "kcs",
    "lsgan_critic_loss",
    "lsgan_generator_loss",
    "part_masks",
    "range_loss",
    "rotation_from_axis_angle",
]
