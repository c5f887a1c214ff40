"""Checkpoints that load without running code, written atomically.

``save_atomic`` writes to a temporary file in the same folder, flushes, then renames it over the old
one, so a kill at any moment leaves either the previous or the new checkpoint intact. What it stores
is *plain*: tensors, numbers, strings, None, bools and lists/tuples/dicts of them (numpy arrays become
tensors, numpy scalars Python numbers; anything else is refused when saving), so ``load`` reads it with
``torch.load(weights_only=True)``: a checkpoint from someone else cannot execute code. Checkpoints
written before this format (numpy's RNG state and numpy scalars inside) are read with exactly numpy's
array, dtype and scalar reconstructors allowed (numeric dtypes only), never by full unpickling.
"""

from __future__ import annotations

import pickle
import random
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

from .errors import DataError
from .files import atomic_write

#: Values stored as they are (with lists, tuples and dicts of them, dict keys included).
_PLAIN = (torch.Tensor, str, int, float, bool, type(None), torch.dtype, torch.device, torch.Size)


def plain(obj, where: str = "checkpoint"):
    """``obj`` with numpy arrays as tensors and numpy scalars as Python numbers, the containers around
    them rebuilt (others returned as they are, so state dicts keep their type and metadata); raises
    ``TypeError`` naming the key path (``where``) of any value ``torch.load(weights_only=True)`` refuses."""
    if isinstance(obj, np.generic) and obj.dtype.kind in "biuf":
        return obj.item()
    if isinstance(obj, np.ndarray) and obj.dtype.kind in "biuf":
        return torch.from_numpy(np.ascontiguousarray(obj))
    if type(obj) in (list, tuple):
        items = [plain(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        return obj if all(a is b for a, b in zip(items, obj)) else type(obj)(items)
    if type(obj) in (dict, OrderedDict):
        items = [(plain(k, f"{where} key {k!r}"), plain(v, f"{where}[{k!r}]")) for k, v in obj.items()]
        if all(a is k and b is v for (a, b), (k, v) in zip(items, obj.items())):
            return obj
        out = type(obj)(items)
        if hasattr(obj, "__dict__"):  # a state dict's _metadata (module versions)
            out.__dict__.update(vars(obj))
        return out
    if type(obj) in _PLAIN or isinstance(obj, torch.Tensor):  # nn.Parameter included
        return obj
    raise TypeError(
        f"{where} is a {type(obj).__module__}.{type(obj).__qualname__}; a checkpoint holds only "
        "tensors, numbers, strings, None and lists/tuples/dicts of them"
    )


def save_atomic(obj, path: str | Path) -> None:
    """``torch.save(plain(obj))`` to ``path`` atomically (:func:`dhaug.files.atomic_write`)."""
    obj = plain(obj)
    atomic_write(path, lambda fh: torch.save(obj, fh))


def _legacy_numpy_globals() -> list:
    """What old checkpoints need to rebuild numpy arrays and scalars of numeric dtypes: the array and
    scalar reconstructors (under numpy 1's and numpy 2's module names), ``ndarray``, ``dtype`` and the
    numeric dtype classes. Object arrays stay refused (their dtype class is not listed)."""
    reconstruct, scalar = np.zeros(1).__reduce__()[0], np.float64(0).__reduce__()[0]
    numeric = [type(np.dtype(c)) for c in "?bhilqBHILQefdg"]
    named = [
        (f, f"{mod}.multiarray.{f.__name__}") for f in (reconstruct, scalar) for mod in ("numpy.core", "numpy._core")
    ]
    return [*named, np.ndarray, np.dtype, *numeric]


def _upgrade(state: dict) -> dict:
    """A checkpoint of the old format (numpy objects inside) in today's plain one."""
    rng = state.get("rng")
    if isinstance(rng, dict) and isinstance(rng.get("numpy"), tuple):
        rng = dict(rng, numpy=_numpy_state(rng["numpy"]))
        state = dict(state, rng=rng)
    return plain(state)


def load(path: str | Path, map_location="cpu") -> dict:
    """A checkpoint written by :func:`save_atomic` (or by older dhaug versions), read without running
    code: anything but tensors, numbers, strings and their containers (and, in old files, numeric numpy
    arrays and scalars) is refused with a :class:`~dhaug.errors.DataError`."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"checkpoint {path} is a folder; give the file inside it, e.g. {path / 'checkpoint.pt'}")
    if not path.is_file():
        raise DataError(f"checkpoint {path} not found")
    with open(path, "rb") as fh:
        head = fh.read(2)
    if head != b"PK" and head[:1] != b"\x80":  # neither torch's zip format nor a (legacy) pickle
        raise DataError(f"checkpoint {path} is not a PyTorch checkpoint file (corrupt, truncated or another format)")
    try:
        with torch.serialization.safe_globals(_legacy_numpy_globals()):
            obj = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        try:
            names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
        except Exception:  # a damaged file: the unpickler's message is all there is
            names = []
        allowed = set(_names(_legacy_numpy_globals()))
        names = [n for n in names if n not in allowed]
        why = str(e).partition("WeightsUnpickler error:")[2].strip().split("\n\n")[0] or type(e).__name__
        what = f"objects of {', '.join(names[:5])}" if names else f"objects it may not build ({why})"
        raise DataError(
            f"checkpoint {path} holds {what}; refused: loading it could run arbitrary code. A dhaug "
            "checkpoint holds only tensors, numbers, strings and lists/dicts of them"
        ) from None
    except Exception as e:  # torch raises many types for damaged files
        raise DataError(f"checkpoint {path} is corrupt or truncated ({type(e).__name__}: {e})") from None
    if not isinstance(obj, dict) or "model" not in obj or "config" not in obj:
        raise DataError(f"checkpoint {path} is not a dhaug checkpoint (needs keys 'model' and 'config')")
    try:
        return _upgrade(obj)
    except TypeError as e:  # e.g. a set or complex number: loadable, but never written by dhaug
        raise DataError(f"checkpoint {path} is not a dhaug checkpoint: {e}") from None


def _names(allowed: list) -> list[str]:
    return [a[1] if isinstance(a, tuple) else f"{a.__module__}.{a.__qualname__}" for a in allowed]


def _numpy_state(legacy: tuple) -> dict:
    """``np.random.get_state()``'s tuple (name, (624,) uint32 key, pos, has_gauss, gauss) as plain values."""
    name, key, pos, has_gauss, gauss = legacy
    return {
        "bit_generator": str(name),
        "key": torch.as_tensor(np.asarray(key, dtype=np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "gauss": float(gauss),
    }


def rng_state() -> dict:
    """The torch, numpy and Python RNG states (and CUDA's when present), for exact resumes, as plain
    values: torch's as ByteTensors, numpy's as a dict with its key as an int64 tensor, Python's as
    ``random.getstate()``'s tuple of ints."""
    state = {"torch": torch.get_rng_state(), "numpy": _numpy_state(np.random.get_state()), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore what :func:`rng_state` returned (also the old format, numpy's state as a tuple)."""
    torch.set_rng_state(state["torch"].cpu())
    npy = state["numpy"] if isinstance(state["numpy"], dict) else _numpy_state(state["numpy"])
    np.random.set_state(
        (npy["bit_generator"], npy["key"].cpu().numpy().astype(np.uint32), npy["pos"], npy["has_gauss"], npy["gauss"])
    )
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


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
    d["train"] = {
        k: v
        for k, v in d["train"].items()
        if k not in ("device", "threads", "eval_batch_size", "eval_every_epoch", "curve_every")
    }
    return d


def config_differences(saved: dict, current: dict) -> list[tuple[str, object, object]]:
    """Keys where two config dicts differ in what a resume must keep (device, threads and evaluation
    settings may change): (dotted key, saved value, current value)."""
    return _differences(_comparable(saved), _comparable(current))
