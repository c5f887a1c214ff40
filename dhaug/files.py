"""File helpers shared by every writer and reader: atomic writes, and a check that a file is an npz.

``atomic_write`` writes to a temporary file beside the target, flushes and fsyncs it, then renames
it over the target, so a kill at any moment leaves either the old file or the new one, never a part;
the temporary file is removed whatever goes wrong while writing.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Callable

from .errors import DataError

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP = b"PK\x05\x06"


def atomic_write(path: str | Path, write: Callable[[Any], None], binary: bool = True) -> None:
    """Call ``write(fh)`` on a temporary file next to ``path``, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(100):  # like tempfile.mkstemp, but with the usual permissions (0o666 less the umask)
        tmp = str(path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"cannot create a temporary file next to {path}")
    try:
        with os.fdopen(fd, "wb" if binary else "w") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def check_npz(path: Path) -> None:
    """``path`` exists and is an npz archive (a zip of .npy arrays); else a :class:`DataError` naming it."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head not in (_ZIP_MAGIC, _EMPTY_ZIP):
        what = "empty" if not head else ("a single .npy array" if head.startswith(b"\x93NUM") else
                                         "text" if all(32 <= c < 127 or c in (9, 10, 13) for c in head) else "binary")
        raise DataError(f"{path}: not an npz archive (an .npz file is a zip of .npy arrays; this file is {what}, "
                        f"starting with {head!r}); write it with numpy.savez")
