"""Safe file access: read only regular files, write atomically, never overwrite an input.

* :func:`open_regular` opens a path for reading without blocking (a FIFO never
  hangs) and refuses anything but a regular file (FIFO, device, folder).
* :func:`check_output` checks an output path before any work starts: its folder
  exists and is writable, it is not a folder, and it is not one of the inputs.
* :func:`atomic_write` writes to a temporary file in the target folder and
  renames it into place (``os.replace``) only on success, so a failing write
  never destroys an existing file and never leaves a half-written one.

Errors are :class:`~loihi_emu.errors.FileAccessError` subclasses
(:class:`MissingFileError` is also a ``FileNotFoundError``).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from loihi_emu.errors import FileAccessError, MissingFileError, UnsafePathError, UsageError

MAX_TEXT_BYTES = 256 << 20
"""Largest text file (network JSON) read into memory: 256 MiB (large arrays belong in the side .npz)."""


def fspath(path, what: str = "file") -> str:
    """``path`` as a string; anything that is not a usable path (a number, a NUL byte) is a UsageError."""
    try:
        label = os.fspath(path)
    except TypeError:
        raise UsageError(f"{what}: expected a file path, got {type(path).__name__} {path!r}"[:200]) from None
    if isinstance(label, bytes):
        label = os.fsdecode(label)
    if "\0" in label:
        raise UsageError(f"{what}: the path {label!r} contains a NUL character")
    return label


def _os_error(path: str, what: str, exc: OSError) -> FileAccessError:
    if isinstance(exc, FileNotFoundError):
        return MissingFileError(f"{what} {path}: no such file")
    reason = exc.strerror or str(exc) or exc.__class__.__name__
    return FileAccessError(f"{what} {path}: {reason}")


def open_regular(path: str | os.PathLike, what: str = "file") -> BinaryIO:
    """Open ``path`` for binary reading; it must be a regular file (symlinks to one are fine)."""
    label = fspath(path, what)
    try:
        fd = os.open(label, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except IsADirectoryError:
        raise UnsafePathError(f"{what} {label}: is a folder, not a file") from None
    except OSError as exc:
        raise _os_error(label, what, exc) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = "a folder" if stat.S_ISDIR(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode) else \
                "a device or socket"
            raise UnsafePathError(f"{what} {label}: is {kind}, not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(path: str | os.PathLike, what: str = "file", max_bytes: int = MAX_TEXT_BYTES) -> bytes:
    """The contents of a regular file of at most ``max_bytes`` bytes."""
    path = fspath(path, what)
    with open_regular(path, what) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > max_bytes:
            raise UnsafePathError(f"{what} {os.fspath(path)}: {size} bytes; the limit is {max_bytes}")
        try:
            return fh.read(max_bytes + 1)[: max_bytes + 1]
        except OSError as exc:
            raise _os_error(os.fspath(path), what, exc) from None


def inside(path: Path, folder: Path) -> bool:
    """True when ``path`` (symlinks resolved) lies inside ``folder`` (resolved)."""
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except (ValueError, OSError, RuntimeError):
        return False


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when both name the same file (an existing file by inode, else by resolved path)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        try:
            return Path(a).resolve() == Path(b).resolve()
        except (OSError, RuntimeError):
            return False


def check_output(path: str | os.PathLike, inputs: Iterable[str | os.PathLike | None] = (),
                 what: str = "output") -> Path:
    """Check an output path before the work starts; return it as a Path.

    Refuses a path that is a folder or not a regular file, whose folder is
    missing or not writable, or that names one of ``inputs`` (None entries
    are skipped).
    """
    label = fspath(path, what)
    out = Path(label)
    if not label:
        raise UnsafePathError(f"{what}: empty path")
    folder = out.parent
    if not folder.is_dir():
        raise MissingFileError(f"{what} {label}: folder {os.fspath(folder) or '.'} does not exist")
    if out.is_dir():
        raise UnsafePathError(f"{what} {label}: is a folder")
    if out.exists() and not out.is_file():
        raise UnsafePathError(f"{what} {label}: exists and is not a regular file")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise FileAccessError(f"{what} {label}: folder {os.fspath(folder) or '.'} is not writable")
    for src in inputs:
        if src is not None and same_file(out, fspath(src, "input")):
            raise UnsafePathError(f"{what} {label}: is also an input ({os.fspath(src)}); choose another name")
    return out


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, what: str = "output") -> Iterator[BinaryIO]:
    """Yield a binary file in ``path``'s folder; on success it replaces ``path``, on failure it vanishes.

    The file name written is exactly ``path`` (no suffix is added).
    """
    out = check_output(path, what=what)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as exc:
        raise _os_error(os.fspath(path), what, exc) from None
    done = False
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if out.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp, stat.S_IMODE(os.stat(out).st_mode))
        else:
            with contextlib.suppress(OSError):
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out)
        done = True
    except OSError as exc:
        if isinstance(exc, FileAccessError):
            raise
        raise _os_error(os.fspath(path), what, exc) from None
    finally:
        if not done:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
