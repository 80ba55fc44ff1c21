"""Uncompressed ``.npz`` files whose members can be memory-mapped.

An ``.npz`` is a zip of ``.npy`` members. When a member is *stored*
(not deflated) its bytes sit contiguously in the file, so it can be
memory-mapped at ``offset of its data``, and reading one member costs
nothing for the others. :class:`NpzWriter` streams members into such a file
(an array may be written from several parts, so a concatenation never has
to exist in memory) and pads every member's data to a 64-byte boundary;
:class:`NpzMap` lists the members of any stored ``.npz`` and maps them
read-only. Files stay readable by ``numpy.load``. Nothing is ever unpickled.
"""

from __future__ import annotations

import mmap
import os
import struct
import zipfile
from collections.abc import Iterable
from typing import BinaryIO

import numpy as np

from loihi_emu.errors import ImageFileError

ALIGN = 64
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")  # the 30-byte zip local file header
_PAD_ID = 0xD935  # extra-field id used for alignment padding (as Android's zipalign does)


class NpzWriter:
    """Write stored ``.npy`` members into ``path`` (a zip), data 64-byte aligned.

    Use as a context manager; ``add(name, parts, dtype)`` writes one member:
    an array as it is, or a 1-D concatenation of a list of ``parts`` (each
    converted to ``dtype``).
    """

    def __init__(self, path: str | os.PathLike | BinaryIO) -> None:
        # a path is opened (and closed) here; an open binary file is written and left open
        self._own = not hasattr(path, "write")
        self._fh = open(path, "wb") if self._own else path
        self._zip = zipfile.ZipFile(self._fh, "w", zipfile.ZIP_STORED, allowZip64=True)

    def __enter__(self) -> NpzWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()
        if self._own:
            self._fh.close()

    def add(self, name: str, parts: Iterable[np.ndarray] | np.ndarray, dtype=None) -> None:
        if isinstance(parts, np.ndarray):
            parts = [parts]
        parts = [np.asarray(p) for p in parts]
        if dtype is None:
            dtype = parts[0].dtype if parts else np.dtype(np.uint8)
        dtype = np.dtype(dtype)
        if dtype.hasobject:
            raise ValueError(f"member {name!r}: object arrays cannot be stored")
        shape = parts[0].shape if len(parts) == 1 else (sum(p.size for p in parts),)
        info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED
        # local header: 30 bytes + name + zip64 extra (20, forced) + our padding extra (>= 4)
        start = self._fh.tell()
        used = start + 30 + len(info.filename.encode()) + 20 + 4
        info.extra = struct.pack("<HH", _PAD_ID, (-used) % ALIGN) + b"\0" * ((-used) % ALIGN)
        with self._zip.open(info, "w", force_zip64=True) as out:
            head = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
            np.lib.format.write_array_header_2_0(out, head)  # padded to a multiple of 64 bytes
            for p in parts:
                if p.size:
                    out.write(np.ascontiguousarray(p, dtype=dtype).data)


class NpzMap:
    """Read-only access to the members of an uncompressed ``.npz``.

    ``names``: member names without ``.npy``. ``array(name)`` returns a
    read-only view of a memory map of the member (see :mod:`.pages`) (a copy when the member is deflated or
    its data is not aligned for its dtype), checked to be a plain numeric
    array; anything else raises :class:`ImageFileError` naming the file and member.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        try:
            with zipfile.ZipFile(self.path) as zf:
                infos = zf.infolist()
        except (OSError, zipfile.BadZipFile, ValueError, EOFError) as exc:
            raise ImageFileError(f"{self.path}: not a readable .npz file ({exc})") from None
        self._info = {i.filename[:-4]: i for i in infos if i.filename.endswith(".npy")}
        self.names = frozenset(self._info)
        self._mm: mmap.mmap | None = None  # one mapping of the whole file, shared by every member

    def _mapping(self, fh) -> mmap.mmap:
        if self._mm is None:
            self._mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        return self._mm

    def _data_offset(self, fh, info: zipfile.ZipInfo) -> int:
        fh.seek(info.header_offset)
        raw = fh.read(_LOCAL_HEADER.size)
        if len(raw) != _LOCAL_HEADER.size or raw[:4] != b"PK\x03\x04":
            raise ImageFileError(f"{self.path}: member '{info.filename}' has a bad zip header")
        fields = _LOCAL_HEADER.unpack(raw)
        return info.header_offset + _LOCAL_HEADER.size + fields[9] + fields[10]

    def array(self, name: str) -> np.ndarray:
        if name not in self._info:
            raise ImageFileError(f"{self.path}: member '{name}' is missing")
        info = self._info[name]
        try:
            if info.compress_type != zipfile.ZIP_STORED:
                with zipfile.ZipFile(self.path) as zf, zf.open(info) as f:
                    return _read_npy(f, self.path, name)
            with open(self.path, "rb") as fh:
                start = self._data_offset(fh, info)
                fh.seek(start)
                dtype, shape, data_at = _npy_header(fh, self.path, name)
                count = int(np.prod(shape)) if shape else 1
                end = data_at + count * dtype.itemsize
                if end > start + info.file_size or end > os.fstat(fh.fileno()).st_size:
                    raise ImageFileError(f"{self.path}: member '{name}' is truncated")
                if count == 0:
                    return np.zeros(shape, dtype)
                if data_at % dtype.alignment:
                    fh.seek(data_at)
                    return np.fromfile(fh, dtype, count).reshape(shape)
                return np.frombuffer(self._mapping(fh), dtype, count, offset=data_at).reshape(shape)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise ImageFileError(f"{self.path}: member '{name}' is unreadable ({exc})") from None


def _npy_header(f, path: str, name: str) -> tuple[np.dtype, tuple, int]:
    try:
        version = np.lib.format.read_magic(f)
        read = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read is None:
            raise ValueError(f"unsupported .npy version {version}")
        shape, fortran, dtype = read(f)
    except (ValueError, OSError, EOFError, SyntaxError) as exc:
        raise ImageFileError(f"{path}: member '{name}' is not a valid .npy ({exc})") from None
    if dtype.hasobject or fortran:
        raise ImageFileError(f"{path}: member '{name}' is unreadable (object or Fortran-order arrays are refused)")
    return dtype, shape, f.tell()


def _read_npy(f, path: str, name: str) -> np.ndarray:
    dtype, shape, _ = _npy_header(f, path, name)
    count = int(np.prod(shape)) if shape else 1
    data = f.read(count * dtype.itemsize)
    if len(data) != count * dtype.itemsize:
        raise ImageFileError(f"{path}: member '{name}' is truncated")
    return np.frombuffer(data, dtype).reshape(shape).copy()
