"""Give back the resident pages of memory-mapped image arrays.

A board image loaded from a format-3 file (:mod:`loihi_emu.image.store`)
holds its tables as read-only views of file mappings. Reading a table
makes its pages resident, and resident mapped pages count in the process's
memory. :func:`release` drops them again (``madvise(MADV_DONTNEED)``): the
data stays in the file (and the OS page cache) and is paged back in on the
next read, so a reader that walks an image core by core holds about one
chip's pages at a time. Arrays that are not file mappings are left alone.
"""

from __future__ import annotations

import mmap

import numpy as np


def mapping_of(arr: np.ndarray) -> mmap.mmap | None:
    """The file mapping ``arr`` is a view of, or None."""
    b = arr
    while b is not None:
        if isinstance(b, mmap.mmap):
            return b
        if isinstance(b, memoryview):
            b = b.obj
            continue
        b = getattr(b, "base", None)
    return None


def _span(arr: np.ndarray, m: mmap.mmap, bases: dict[int, int]) -> tuple[int, int]:
    """Byte range [lo, hi) of ``arr`` within mapping ``m``."""
    base = bases.get(id(m))
    if base is None:
        base = bases[id(m)] = np.frombuffer(m, np.uint8, 1).ctypes.data
    lo = arr.ctypes.data - base
    return lo, lo + arr.nbytes


def _drop(m: mmap.mmap, lo: int, hi: int) -> None:
    """madvise(MADV_DONTNEED) on the whole pages of bytes lo..hi of ``m``."""
    if not hasattr(mmap, "MADV_DONTNEED") or hi <= lo:
        return
    start = lo - lo % mmap.PAGESIZE
    try:
        m.madvise(mmap.MADV_DONTNEED, start, min(hi, len(m)) - start)
    except (OSError, ValueError):  # a closed or unsupported mapping: nothing to give back
        pass


def release(*arrays: np.ndarray) -> None:
    """Drop the resident pages under ``arrays`` (the data stays in the file)."""
    bases: dict[int, int] = {}
    for arr in arrays:
        m = mapping_of(arr) if isinstance(arr, np.ndarray) and arr.size else None
        if m is not None:
            _drop(m, *_span(arr, m, bases))


class PageBudget:
    """Release mapped pages in batches: after every ``budget`` bytes of arrays marked :meth:`done`.

    One ``madvise`` per mapping and batch, over the byte range the batch's
    arrays span, instead of one per array keeps a walk over thousands of
    cores cheap, while at most about ``budget`` bytes of read pages stay
    resident. Call :meth:`flush` at the end.
    """

    def __init__(self, budget: int = 4 << 20) -> None:
        self.budget = int(budget)
        self._bytes = 0
        self._pending: dict[int, list] = {}  # id(mapping) -> [mapping, lo, hi]
        self._watched: dict[int, list] = {}
        self._known: dict[int, tuple[object, mmap.mmap | None]] = {}  # id(base) -> (base, its mapping)
        self._bases: dict[int, int] = {}

    def _add(self, into: dict[int, list], arr: np.ndarray) -> bool:
        if not isinstance(arr, np.ndarray) or arr.size == 0:
            return False
        base = arr.base if arr.base is not None else arr
        hit = self._known.get(id(base))
        if hit is None:
            hit = self._known[id(base)] = (base, mapping_of(arr))
        m = hit[1]
        if m is None:
            return False
        lo, hi = _span(arr, m, self._bases)
        entry = into.get(id(m))
        if entry is None:
            into[id(m)] = [m, lo, hi]
        else:
            entry[1], entry[2] = min(entry[1], lo), max(entry[2], hi)
        return True

    def done(self, *arrays: np.ndarray) -> None:
        """``arrays`` have been read: their pages may go at the next flush."""
        for arr in arrays:
            if self._add(self._pending, arr):
                self._bytes += arr.nbytes
        if self._bytes > self.budget:
            self.flush()

    def watch(self, *arrays: np.ndarray) -> None:
        """Release the pages under ``arrays`` at every flush until :meth:`unwatch`; count bytes with :meth:`spend`."""
        for arr in arrays:
            self._add(self._watched, arr)

    def unwatch(self) -> None:
        self.flush()
        self._watched.clear()

    def spend(self, nbytes: int) -> None:
        """``nbytes`` more of the watched arrays were read."""
        self._bytes += int(nbytes)
        if self._bytes > self.budget:
            self.flush()

    def flush(self) -> None:
        for m, lo, hi in list(self._pending.values()) + list(self._watched.values()):
            _drop(m, lo, hi)
        self._pending.clear()
        self._bytes = 0
