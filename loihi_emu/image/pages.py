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


def release(*arrays: np.ndarray) -> None:
    """Drop the resident pages of the mappings under ``arrays`` (whole mappings; data is kept)."""
    if not hasattr(mmap, "MADV_DONTNEED"):
        return
    seen: set[int] = set()
    for arr in arrays:
        m = mapping_of(arr) if isinstance(arr, np.ndarray) else None
        if m is None or id(m) in seen:
            continue
        seen.add(id(m))
        try:
            m.madvise(mmap.MADV_DONTNEED)
        except (OSError, ValueError):  # a closed or unsupported mapping: nothing to give back
            pass


class PageBudget:
    """Release mapped pages in batches: after every ``budget`` bytes of arrays marked :meth:`done`.

    One ``madvise`` per batch instead of per array keeps a walk over thousands
    of cores cheap, while at most about ``budget`` bytes of read pages stay
    resident. Call :meth:`flush` at the end.
    """

    def __init__(self, budget: int = 4 << 20) -> None:
        self.budget = int(budget)
        self._pending: dict[int, mmap.mmap] = {}
        self._bytes = 0
        self._known: dict[int, tuple[object, mmap.mmap | None]] = {}  # id(base) -> (base, its mapping)
        self._watched: dict[int, mmap.mmap] = {}

    def done(self, *arrays: np.ndarray) -> None:
        for arr in arrays:
            if not isinstance(arr, np.ndarray):
                continue
            base = arr.base if arr.base is not None else arr
            hit = self._known.get(id(base))
            if hit is None:
                hit = self._known[id(base)] = (base, mapping_of(arr))
            m = hit[1]
            if m is not None:
                self._pending[id(m)] = m
                self._bytes += arr.nbytes
        if self._bytes > self.budget:
            self.flush()

    def watch(self, *arrays: np.ndarray) -> None:
        """Release the mappings of ``arrays`` at every flush until :meth:`unwatch`; count bytes with :meth:`spend`."""
        for arr in arrays:
            m = mapping_of(arr) if isinstance(arr, np.ndarray) else None
            if m is not None:
                self._watched[id(m)] = m

    def unwatch(self) -> None:
        self.flush()
        self._watched.clear()

    def spend(self, nbytes: int) -> None:
        """``nbytes`` more of the watched mappings were read."""
        self._bytes += int(nbytes)
        if self._bytes > self.budget:
            self.flush()

    def flush(self) -> None:
        self._pending.update(self._watched)
        if self._pending and hasattr(mmap, "MADV_DONTNEED"):
            for m in self._pending.values():
                try:
                    m.madvise(mmap.MADV_DONTNEED)
                except (OSError, ValueError):
                    pass
        self._pending.clear()
        self._bytes = 0
