"""Augmentation: random DH poses (the paper's "normal" mode); the DH-AUG GAN builds on the same pieces."""
from .random_dh import BONE_GROUPS, CameraSet, RandomDHAugmenter, project_to_cameras, scale_bones

__all__ = ["BONE_GROUPS", "CameraSet", "RandomDHAugmenter", "project_to_cameras", "scale_bones"]
from .dhaug_gan import DHAugmenter, GANSettings  # noqa: E402

__all__ += ["DHAugmenter", "GANSettings"]
from .video_gan import VideoDHAugmenter  # noqa: E402

__all__ += ["VideoDHAugmenter"]
