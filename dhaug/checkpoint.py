"""Atomic checkpoints: written to a temporary file in the same folder, flushed, then renamed over
the old one, so a kill at any moment leaves either the previous or the new checkpoint intact."""
from __future__ import annotations

from pathlib import Path

import torch

from .errors import DataError
from .files import atomic_write


def save_atomic(obj, path: str | Path) -> None:
    """``torch.save(obj)`` to ``path`` atomically (:func:`dhaug.files.atomic_write`)."""
    atomic_write(path, lambda fh: torch.save(obj, fh))


def load(path: str | Path, map_location="cpu") -> dict:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"checkpoint {path} not found")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as e:  # torch raises many types for damaged files
        raise DataError(f"checkpoint {path} cannot be read ({type(e).__name__}: {e})") from None
    if not isinstance(obj, dict) or "model" not in obj or "config" not in obj:
        raise DataError(f"checkpoint {path} is not a dhaug checkpoint (needs keys 'model' and 'config')")
    return obj
