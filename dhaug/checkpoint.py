"""Atomic checkpoints: written to a temporary file in the same folder, flushed, then renamed over
the old one, so a kill at any moment leaves either the previous or the new checkpoint intact."""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np

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


def rng_state() -> dict:
    """The torch, numpy and Python RNG states (and CUDA's when present), for exact resumes."""
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _differences(a: dict, b: dict, prefix: str = "") -> list[tuple[str, object, object]]:
    """(dotted key, value in a, value in b) for every leaf where two config dicts differ."""
    out = []
    for k in sorted(set(a) | set(b)):
        x, y = a.get(k), b.get(k)
        if isinstance(x, dict) and isinstance(y, dict):
            out += _differences(x, y, f"{prefix}{k}.")
        elif x != y:
            out.append((f"{prefix}{k}", x, y))
    return out


def _comparable(cfg_dict: dict) -> dict:
    """The parts of a config that must not change across a resume."""
    d = {k: v for k, v in cfg_dict.items() if k not in ("out_dir", "name")}
    d["train"] = {k: v for k, v in d["train"].items() if k not in ("device", "threads", "eval_batch_size", "eval_every_epoch",
                                                          "curve_every")}
    return d


def config_differences(saved: dict, current: dict) -> list[tuple[str, object, object]]:
    """Keys where two config dicts differ in what a resume must keep (device, threads and evaluation
    settings may change): (dotted key, saved value, current value)."""
    return _differences(_comparable(saved), _comparable(current))
