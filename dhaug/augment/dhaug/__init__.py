"""The DH-AUG GAN (method.md §3-§6): networks (:mod:`.networks`, video mode :mod:`.video`), the GAN
pass (:class:`DHAugmenter`) and its training-loop source (:class:`GANSource`)."""

from .networks import Discriminator3D, Generator, critic_loss, gradient_penalty, kinematic_features
from .source import GANSource, build, generator_from_checkpoint
from .trainer import DHAugmenter
from .video import MotionDiscriminator2D, MotionDiscriminator3D, VideoGenerator, four_ways, joint_acceleration

__all__ = [
    "DHAugmenter",
    "Discriminator3D",
    "GANSource",
    "Generator",
    "MotionDiscriminator2D",
    "MotionDiscriminator3D",
    "VideoGenerator",
    "build",
    "critic_loss",
    "four_ways",
    "generator_from_checkpoint",
    "gradient_penalty",
    "joint_acceleration",
    "kinematic_features",
]
