"""Reading pickled data without running code from it: :class:`NumpyOnlyUnpickler` resolves exactly the
globals that rebuild numpy arrays, dtypes and scalars (plus ``_codecs.encode``) and refuses every other
one with a :class:`~dhaug.errors.DataError` naming the file and the global. Used for the 3DPW pickles and
for ``.npy`` / ``.npz`` files with ``object`` arrays (never ``numpy.load(allow_pickle=True)``).

Details: docs/data.md#restricted-pickles
"""

from __future__ import annotations

import codecs
import io
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.lib.format as npy_format

from ..errors import DataError
from ..files import check_npz

try:  # numpy >= 2 keeps the array machinery in numpy._core; pickles name either module
    from numpy._core import multiarray as _multiarray
    from numpy._core import numeric as _numeric
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _multiarray
    from numpy.core import numeric as _numeric

#: The only globals a pickle may name: numpy array / dtype / scalar reconstruction.
ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    **{(m, "_reconstruct"): _multiarray._reconstruct for m in ("numpy.core.multiarray", "numpy._core.multiarray")},
    **{(m, "scalar"): _multiarray.scalar for m in ("numpy.core.multiarray", "numpy._core.multiarray")},
    # protocol-5 pickles rebuild numeric arrays from a byte buffer (numpy refuses object dtypes there)
    **{(m, "_frombuffer"): _numeric._frombuffer for m in ("numpy.core.numeric", "numpy._core.numeric")},
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): codecs.encode,
}


class NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds containers and numpy arrays and refuses every other global."""

    def __init__(self, file, where: str, encoding: str = "latin1"):
        super().__init__(file, encoding=encoding)
        self.where = where

    def find_class(self, module: str, name: str):
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise DataError(
                f"{self.where}: refusing to unpickle '{module}.{name}': only numpy arrays and plain "
                "Python containers are read from pickles (loading anything else could run code)"
            ) from None


def unpickle(fh, where: str) -> Any:
    """Read one pickle from the binary file object ``fh`` with :class:`NumpyOnlyUnpickler`."""
    try:
        return NumpyOnlyUnpickler(fh, where).load()
    except DataError:
        raise
    except Exception as e:  # UnpicklingError, EOFError, ValueError, TypeError, ...
        raise DataError(f"{where}: not a readable pickle ({type(e).__name__}: {e})") from None


def load_pickle(path: str | Path) -> Any:
    """A pickle file (e.g. a 3DPW sequence file), read with :class:`NumpyOnlyUnpickler`."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    with open(path, "rb") as fh:
        return unpickle(fh, str(path))


def _read_npy(fh, where: str) -> np.ndarray:
    """One ``.npy`` stream: plain arrays as numpy reads them, object arrays through the restricted unpickler."""
    try:
        version = npy_format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, fortran, dtype = npy_format.read_array_header_2_0(fh)
        else:
            shape, fortran, dtype = npy_format._read_array_header(fh, version)  # 3.0: utf-8 header
    except Exception as e:
        raise DataError(f"{where}: not a .npy array ({type(e).__name__}: {e})") from None
    if dtype.hasobject:
        return unpickle(fh, where)
    count = int(np.prod(shape, dtype=np.int64))
    data = fh.read(count * dtype.itemsize)
    if len(data) != count * dtype.itemsize:
        raise DataError(f"{where}: truncated .npy array (shape {shape}, {len(data)} of {count * dtype.itemsize} bytes)")
    arr = np.frombuffer(data, dtype=dtype, count=count)
    return arr.reshape(shape[::-1]).transpose() if fortran else arr.reshape(shape)


def load_npy(path: str | Path) -> np.ndarray:
    """A ``.npy`` file; one that holds a pickled object (``numpy.save(dict)``) comes back as a 0-d object array."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    with open(path, "rb") as fh:
        head = fh.read(6)
        if head != b"\x93NUMPY":
            raise DataError(f"{path}: not a .npy file (it starts with {head!r}; write it with numpy.save)")
        fh.seek(0)
        return _read_npy(fh, str(path))


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` archive by key; object arrays read with :class:`NumpyOnlyUnpickler`."""
    path = Path(path)
    check_npz(path)
    out: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                key = info.filename[:-4]
                with z.open(info) as member:
                    out[key] = _read_npy(io.BytesIO(member.read()), f"{path}: key {key!r}")
    except DataError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise DataError(f"{path}: not a readable npz archive ({type(e).__name__}: {e})") from None
    return out


def object_item(arr: Any, where: str, kind: type = dict) -> Any:
    """The object inside a 0-d object array (``numpy.save(dict)``), checked to be a ``kind``."""
    value = arr.item() if isinstance(arr, np.ndarray) and arr.dtype.hasobject and arr.ndim == 0 else arr
    if not isinstance(value, kind):
        got = (
            f"an array of shape {arr.shape}, dtype {arr.dtype}" if isinstance(arr, np.ndarray) else type(value).__name__
        )
        raise DataError(f"{where} must hold a pickled {kind.__name__}, found {got}")
    return value
