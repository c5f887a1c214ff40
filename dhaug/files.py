"""File helpers shared by every writer and reader: atomic writes, a check that a file is an npz, and the
output policy of every command (``--out`` checked and created before any work, nothing replaced
without ``--force``).

``atomic_write`` writes to a temporary file beside the target, flushes and fsyncs it, then renames
it over the target, so a kill at any moment leaves either the old file or the new one, never a part;
the temporary file is removed whatever goes wrong while writing.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Callable

from .errors import ConfigError, DataError

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
        what = (
            "empty"
            if not head
            else (
                "a single .npy array"
                if head.startswith(b"\x93NUM")
                else "text"
                if all(32 <= c < 127 or c in (9, 10, 13) for c in head)
                else "binary"
            )
        )
        raise DataError(
            f"{path}: not an npz archive (an .npz file is a zip of .npy arrays; this file is {what}, "
            f"starting with {head!r}); write it with numpy.savez"
        )


def check_writable(folder: Path, option: str, shown: Path) -> None:
    """Create ``folder`` (and its parents) and a file in it, or raise a :class:`ConfigError` naming ``shown``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".dhaug-probe-{os.getpid()}-{secrets.token_hex(4)}"
        probe.touch()
        probe.unlink()
    except OSError as e:
        raise ConfigError(f"{option} {shown}: cannot write there ({e.strerror or e})") from None


def claim_output_dir(path: str | Path, force: bool, made: tuple[str, ...], option: str = "--out") -> Path:
    """Check, before any work, that the folder ``path`` can take a command's outputs: it is not a file,
    it can be created and written, and it holds none of ``made`` (the command's own file names) unless
    ``force``. Returns the created folder."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {path} is a file; give a folder")
    existing = [m for m in made if (path / m).exists()]
    if existing and not force:
        raise ConfigError(f"{path} already holds {', '.join(existing)}; give --force to replace, or another {option}")
    check_writable(path, option, path)
    return path


def claim_output_file(path: str | Path, force: bool, option: str = "--out", suffixes: tuple[str, ...] = ()) -> Path:
    """Check, before any work, that the file ``path`` can be written: not a folder, its folder creatable and
    writable, with one of ``suffixes`` (if given), not there already unless ``force``. Returns the path."""
    path = Path(path)
    if suffixes and path.suffix.lower() not in suffixes:
        raise ConfigError(f"{option} {path}: give a file name ending in {' or '.join(suffixes)}")
    if path.is_dir():
        raise ConfigError(f"{option} {path} is a folder; give a file name")
    if path.exists() and not force:
        raise ConfigError(f"{path} exists; give --force to replace it, or another {option}")
    check_writable(path.parent, option, path)
    return path
