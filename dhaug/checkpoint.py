"""Atomic checkpoints: written to a temporary file in the same folder, flushed, then renamed over
the old one, so a kill at any moment leaves either the previous or the new checkpoint intact."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

from .errors import DataError


def save_atomic(obj, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(obj, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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
