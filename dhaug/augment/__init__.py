"""Augmentation: random DH poses (the paper's "normal" mode), the DH-AUG GAN (single frames and
sequences) and, for comparison, PoseAug's augmentor of real poses (:mod:`.poseaug`), configured by
:class:`~dhaug.config.AugmentConfig`; :mod:`.source` plugs them into training."""
from ..config import AugmentConfig
from .dhaug_gan import DHAugmenter
from .poseaug import PoseAugmenter
from .random_dh import BONE_GROUPS, CameraSet, RandomDHAugmenter, project_to_cameras, scale_bones

__all__ = ["AugmentConfig", "BONE_GROUPS", "CameraSet", "DHAugmenter", "PoseAugmenter", "RandomDHAugmenter",
           "project_to_cameras", "scale_bones"]
