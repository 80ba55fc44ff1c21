"""The one reader of user-supplied ``.npz`` files (board images, vectors, network side files, checkpoints).

It never unpickles, never blocks on a FIFO and never allocates more than a
member's header announces, after checking that size against
:func:`loihi_emu.sizes.check_alloc`. Every failure (not a zip, a corrupt
deflate stream, a truncated member, an object or malformed header, a member
whose stored size disagrees with its header) raises the caller's error class
(default :class:`~loihi_emu.errors.ImageFileError`) naming the file and the
member. Members are read one at a time, on demand.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from typing import Any

import numpy as np
from numpy.lib import format as npformat

from loihi_emu.errors import ImageFileError, LoihiError, SizeError
from loihi_emu.safefile import fspath, open_regular
from loihi_emu.sizes import check_alloc

MAX_MEMBERS = 1 << 20
"""Most members one file may list."""
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError,
                NotImplementedError, KeyError, TypeError, OverflowError, SyntaxError, MemoryError)


class NpzFile:
    """An open ``.npz``; ``names`` lists its arrays (member names without ``.npy``).

    error: the :class:`LoihiError` subclass raised for a malformed file.
    what: how messages call the file ("board image", "vector", ...).
    """

    def __init__(self, path: str | os.PathLike, error: type[LoihiError] = ImageFileError,
                 what: str = "file") -> None:
        self.path, self.error, self.what = fspath(path, what), error, what
        self._fh = open_regular(path, what)
        try:
            self._zip = zipfile.ZipFile(self._fh)
            infos = self._zip.infolist()
        except _READ_ERRORS as exc:
            try:
                self._fh.seek(0)
                single = self._fh.read(6) == b"\x93NUMPY"
            except OSError:
                single = False
            self._fh.close()
            if single:
                raise error(f"{self.path}: holds a single array (.npy), not a {what} (.npz)") from None
            raise error(f"{self.path}: not a readable .npz file ({_reason(exc)})") from None
        if len(infos) > MAX_MEMBERS:
            self.close()
            raise error(f"{self.path}: {len(infos)} members; the limit is {MAX_MEMBERS}")
        self._info = {}
        for info in infos:
            name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            self._info[name] = info
        self.names = list(self._info)

    @property
    def files(self) -> list[str]:
        """Alias of :attr:`names` (as ``numpy.lib.npyio.NpzFile`` calls it)."""
        return self.names

    def __contains__(self, name: str) -> bool:
        return name in self._info

    def __enter__(self) -> NpzFile:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._zip.close()
        finally:
            self._fh.close()

    def _fail(self, name: str, msg: str) -> LoihiError:
        return self.error(f"{self.path}: member '{name}' {msg}")

    def header(self, name: str) -> tuple[tuple[int, ...], np.dtype, bool]:
        """(shape, dtype, fortran_order) of member ``name`` from its header, without reading its data."""
        with self._open(name) as fp:
            return self._header(name, fp)[:3]

    def _open(self, name: str):
        if name not in self._info:
            raise self._fail(name, "is missing")
        try:
            return self._zip.open(self._info[name])
        except _READ_ERRORS as exc:
            raise self._fail(name, f"is unreadable ({_reason(exc)})") from None

    def _header(self, name: str, fp) -> tuple[tuple[int, ...], np.dtype, bool, int]:
        try:
            version = npformat.read_magic(fp)
            reader = {(1, 0): npformat.read_array_header_1_0, (2, 0): npformat.read_array_header_2_0}.get(version)
            if reader is None:
                raise ValueError(f"unsupported .npy version {version}")
            shape, fortran, dtype = reader(fp, max_header_size=10000)
        except _READ_ERRORS as exc:
            raise self._fail(name, f"has no valid .npy header ({_reason(exc)})") from None
        if dtype.hasobject:
            raise self._fail(name, "is unreadable: it holds Python objects (pickles are never loaded)")
        if not all(isinstance(d, int) and d >= 0 for d in shape):
            raise self._fail(name, f"has a malformed shape {shape!r}")
        count = 1
        for d in shape:
            count *= d
        return tuple(shape), dtype, bool(fortran), count

    def read(self, name: str, dtype: np.dtype | str | None = None, ndim: int | None = None,
             kinds: str | None = None) -> np.ndarray:
        """Member ``name`` as an array, its header checked first.

        dtype: the exact dtype required; ndim: the number of dimensions
        required; kinds: allowed ``dtype.kind`` letters (e.g. ``"biu"``).
        """
        with self._open(name) as fp:
            shape, dt, fortran, count = self._header(name, fp)
            want = f"{ndim}-D " if ndim is not None else ""
            if dtype is not None and dt != np.dtype(dtype):
                raise self._fail(name, f"has dtype {dt} and shape {shape}, expected {want}{np.dtype(dtype)}")
            if ndim is not None and len(shape) != ndim:
                raise self._fail(name, f"has dtype {dt} and shape {shape}, expected {want}{dtype or 'array'}")
            if kinds is not None and dt.kind not in kinds:
                raise self._fail(name, f"has dtype {dt}, expected one of the kinds {kinds!r}")
            nbytes = count * dt.itemsize
            try:
                check_alloc(f"{self.path}: member '{name}' (shape {shape}, {dt})", nbytes)
            except SizeError as exc:
                raise self.error(str(exc)) from None
            stored = self._info[name].file_size
            if stored < nbytes:
                raise self._fail(name, f"is truncated: its header announces {nbytes} data bytes, "
                                       f"the member holds at most {stored}")
            arr = np.empty(count, dt)
            try:
                got = _read_into(fp, arr.view(np.uint8) if nbytes else None, nbytes)
            except _READ_ERRORS as exc:
                raise self._fail(name, f"is corrupt ({_reason(exc)})") from None
        if got != nbytes:
            raise self._fail(name, f"is truncated: {got} of {nbytes} data bytes")
        return arr.reshape(shape, order="F" if fortran else "C")

    def __getitem__(self, name: str) -> np.ndarray:
        return self.read(name)


def _read_into(fp, buf: np.ndarray | None, n: int) -> int:
    """Fill ``buf`` (uint8 [n]) from ``fp``; return the bytes read (< n when the stream ends early)."""
    pos, view = 0, memoryview(buf) if buf is not None else None
    while pos < n:
        k = fp.readinto(view[pos : min(n, pos + (1 << 24))])
        if not k:
            break
        pos += k
    return pos


def _reason(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def read_npz(path: str | os.PathLike, error: type[LoihiError] = ImageFileError, what: str = "file",
             names: list[str] | None = None) -> dict[str, np.ndarray]:
    """All members (or ``names``) of an ``.npz`` as a dict, each header checked before it is read."""
    with NpzFile(path, error, what) as f:
        return {k: f.read(k) for k in (f.names if names is None else names)}
