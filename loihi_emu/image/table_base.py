"""The base of the board-image tables: a frozen dataclass of fixed-dtype 1-D integer arrays that checks itself.

:class:`Table` coerces its arrays without losing a value and runs the
subclass's :meth:`Table.check`; :func:`check_range` is the one range check,
raising :class:`~loihi_emu.errors.ImageError` that names the core
(``where``), table, field, index, value and limit. The tables themselves are
in :mod:`loihi_emu.image.tables`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from loihi_emu.errors import ImageError
from loihi_emu.hw import LOIHI1, HardwareSpec


def _as_array(table: str, name: str, value, dtype, where: str) -> np.ndarray:
    """Coerce ``value`` to a 1-D array of ``dtype`` without losing any value."""
    arr = np.asarray(value)
    if arr.ndim != 1:
        raise ImageError(f"{where}{table}.{name}: expected a 1-D array, got shape {arr.shape}")
    if arr.dtype.kind not in "iub" and arr.size:
        raise ImageError(f"{where}{table}.{name}: expected integers, got dtype {arr.dtype}")
    target = np.dtype(dtype)
    if arr.dtype != target:
        info = np.iinfo(target)
        if arr.size:
            lo, hi = int(arr.min()), int(arr.max())
            if lo < info.min or hi > info.max:
                bad = int(np.flatnonzero((arr < info.min) | (arr > info.max))[0])
                raise ImageError(
                    f"{where}{table}.{name}[{bad}] = {int(arr[bad])} does not fit {target} "
                    f"({info.min}..{info.max})"
                )
        arr = arr.astype(target)
    return np.ascontiguousarray(arr)


def check_range(where: str, table: str, name: str, arr: np.ndarray, lo: int, hi: int, unit: str = "") -> None:
    """Raise :class:`ImageError` naming the first element of ``arr`` outside ``lo..hi``."""
    if arr.size == 0:
        return
    bad = (arr < lo) | (arr > hi)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ImageError(
            f"{where}{table}.{name}[{i}] = {int(arr[i])} is outside {lo}..{hi}{unit}"
        )


@dataclass(frozen=True, eq=False)
class Table:
    """A table of parallel integer arrays, each with a fixed dtype.

    ``where`` only labels errors (for example ``"chip 0 core 3: "``); ``spec``
    gives the register ranges. Neither is part of the table's data.
    """

    DTYPES: ClassVar[dict[str, str]] = {}
    OPTIONAL: ClassVar[frozenset[str]] = frozenset()  # fields with a default (older files may lack them)
    where: str = field(default="", kw_only=True, repr=False, compare=False)
    spec: HardwareSpec = field(default=LOIHI1, kw_only=True, repr=False, compare=False)

    @property
    def table_name(self) -> str:
        return type(self).__name__

    def __post_init__(self) -> None:
        for name, dtype in self.DTYPES.items():
            object.__setattr__(
                self, name, _as_array(self.table_name, name, getattr(self, name), dtype, self.where)
            )
        self.check()

    def check(self) -> None:
        """Shape and range checks; subclasses extend."""

    def arrays(self) -> dict[str, np.ndarray]:
        """The table's data, field name -> array."""
        return {name: getattr(self, name) for name in self.DTYPES}

    def equals(self, other: Table) -> bool:
        """True when ``other`` is the same table class holding the same arrays."""
        return type(self) is type(other) and all(
            np.array_equal(a, b) and a.dtype == b.dtype
            for a, b in zip(self.arrays().values(), other.arrays().values())
        )

    def _same_length(self, names: tuple[str, ...], n: int | None = None) -> int:
        sizes = {name: getattr(self, name).size for name in names}
        n = next(iter(sizes.values())) if n is None else n
        for name, size in sizes.items():
            if size != n:
                raise ImageError(
                    f"{self.where}{self.table_name}.{name} has {size} entries, expected {n}"
                )
        return n

    def _check_ptr(self, name: str, n_rows: int, n_items: int) -> None:
        ptr = getattr(self, name)
        if ptr.size != n_rows + 1:
            raise ImageError(f"{self.where}{self.table_name}.{name} has {ptr.size} entries, expected {n_rows + 1}")
        if ptr[0] != 0 or ptr[-1] != n_items:
            raise ImageError(
                f"{self.where}{self.table_name}.{name} must run from 0 to {n_items}, "
                f"got {int(ptr[0])}..{int(ptr[-1])}"
            )
        steps = np.diff(ptr)
        if steps.size and steps.min() < 0:
            i = int(np.flatnonzero(steps < 0)[0])
            raise ImageError(f"{self.where}{self.table_name}.{name}[{i + 1}] decreases (CSR pointers)")
