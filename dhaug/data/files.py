"""Checks on data files before numpy reads them, so that a wrong file gets a message that says what it is."""
from __future__ import annotations

from pathlib import Path

from ..errors import DataError

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP = b"PK\x05\x06"


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
