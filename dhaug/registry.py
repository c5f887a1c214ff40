"""The names of the pluggable parts, defined once and read by the configuration checks, the command
line and the builders: ``augment.method`` -> the module of its synthetic source (imported on use, so
reading the names costs nothing; ``None``: no source). A new augmentation method is one subpackage
with a ``build(cfg, data, device)`` (and optionally a ``check(cfg)``) plus one line here."""

AUGMENT_METHODS: dict[str, str | None] = {
    "none": None,
    "random": "dhaug.augment.random",
    "dhaug": "dhaug.augment.dhaug",
    "dhaug-video": "dhaug.augment.dhaug",
    "poseaug": "dhaug.augment.poseaug",
}

__all__ = ["AUGMENT_METHODS"]
