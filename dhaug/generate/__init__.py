"""Generated datasets for other toolkits (``dhaug generate``) and for training (``data.train_file``).

    source = random_source(frames=1)                         # or source_from_checkpoint("RUN/checkpoint.pt")
    generate_dataset(source, 1_000_000, "dh_random.npz", seed=0, fmt="cross")
    train = dhaug.data.load_generated("dh_random.npz")       # a PoseSet, as data.train_file reads it

:mod:`.sources` — what is drawn (random DH poses, a trained generator) and how blocks are seeded;
:mod:`.dataset` — projection into the cameras, valid draws in chunks, :func:`generate_dataset`;
:mod:`.writers` — the streaming npz writer and the ``videopose3d`` / ``cross`` layouts. The reader is
:mod:`dhaug.data.generated`. Design, file layouts and reproducibility: docs/generate.md. The constants
below are copies for reading: to change one (in a test), set it on the module that defines it.
"""

from .dataset import (
    DEFAULT_CHUNK,
    FILE_VERSION,
    FORMATS,
    MIN_BLOCKS,
    MIN_VALID_FRACTION,
    generate_dataset,
    project_views,
    sample_poses,
    valid_chunks,
)
from .sources import (
    BLOCK_FRAMES,
    DEFAULT_ROOT,
    RANDOM_FPS,
    Draws,
    GeneratorPoses,
    RandomPoses,
    block_draws,
    block_seeds,
    random_source,
    source_from_checkpoint,
)
from .writers import ACTION_POSES, CAMERAS_FILE, CROSS_FILE, FILE_2D

__all__ = [
    "ACTION_POSES",
    "BLOCK_FRAMES",
    "CAMERAS_FILE",
    "CROSS_FILE",
    "DEFAULT_CHUNK",
    "DEFAULT_ROOT",
    "Draws",
    "FILE_2D",
    "FILE_VERSION",
    "FORMATS",
    "GeneratorPoses",
    "MIN_BLOCKS",
    "MIN_VALID_FRACTION",
    "RANDOM_FPS",
    "RandomPoses",
    "block_draws",
    "block_seeds",
    "generate_dataset",
    "project_views",
    "random_source",
    "sample_poses",
    "source_from_checkpoint",
    "valid_chunks",
]
