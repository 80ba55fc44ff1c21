"""Validate a chip's tables once, chip-wide, instead of once per core.

A format-3 file stores every table field of a chip as one array with
per-core offsets (:mod:`loihi_emu.image.store`). Every check a table makes
is either per element (register ranges), a length equality, or a CSR
pointer check; so building each table class *once* over the whole chip's
arrays (pointers rebased onto one chip-wide CSR) runs the very checks the
per-core tables would, in a few vectorised calls instead of ~35 Python
calls per core. What only a per-core view can see (each core's pointers
start at 0 and end at its own row count; the fields of one table split
alike) is checked here, vectorised too. When everything passes, the per-core
tables are made as views without checking again (:func:`trusted`); when
anything fails, the caller builds the cores one by one, which raises the
exact error naming the core, table, field and index.

Learning-profile tables (microcode decoding) are always built per core.
"""

from __future__ import annotations

import numpy as np

from loihi_emu.errors import ImageError
from loihi_emu.hw import HardwareSpec
from loihi_emu.image.joins import check_joins
from loihi_emu.image.tables import (
    CompartmentTable,
    LearningProfileTable,
    RouteTable,
    SynapseFormatTable,
    SynapseTable,
    Table,
)

# CSR tables: pointer field, the fields it points into
CSR = {"synapses": ("axon_ptr", ("target", "wmant", "fmt", "delay", "tag")),
       "routes": ("ptr", ("dest_chip", "dest_core", "dest_axon"))}
FLAT = {"compartments": CompartmentTable, "formats": SynapseFormatTable}


def trusted(cls: type[Table], arrays: dict[str, np.ndarray], where: str, spec: HardwareSpec) -> Table:
    """A table of ``arrays`` (exact dtypes, 1-D, already checked) made without checking again.

    When optional fields are absent (an older file), the table is built normally (checked), which fills them in.
    """
    if any(f not in arrays for f in cls.DTYPES):
        return cls(**arrays, where=where, spec=spec)
    obj = object.__new__(cls)
    for f in cls.DTYPES:
        object.__setattr__(obj, f, arrays[f])
    object.__setattr__(obj, "where", where)
    object.__setattr__(obj, "spec", spec)
    return obj


def _rebased(ptr_all: np.ndarray, o_ptr: np.ndarray, o_items: np.ndarray) -> np.ndarray | None:
    """One chip-wide CSR from per-core pointers, or None when a core's pointers do not run 0..own count."""
    sizes = np.diff(o_ptr)
    k = sizes.size
    if k == 0:
        return np.zeros(1, np.int64)
    if (sizes < 1).any():
        return None
    n_items = np.diff(o_items)
    if (ptr_all[o_ptr[:-1]] != 0).any() or (ptr_all[o_ptr[1:] - 1] != n_items).any():
        return None
    keep = np.ones(ptr_all.size, bool)
    keep[o_ptr[1:] - 1] = False
    base = np.repeat(o_items[:-1], sizes)
    return np.concatenate([(ptr_all + base)[keep], [o_items[-1]]])


def check_chip(arrays: dict[str, dict[str, np.ndarray]], offsets: dict[str, dict[str, np.ndarray]],
               where: str, spec: HardwareSpec) -> bool:
    """True when every core's compartment, format, synapse and route tables of the chip are valid.

    arrays[table][field]: the chip's concatenated field; offsets[table][field]:
    its per-core offsets [n_cores + 1]. Every field of these four tables must be present.
    """
    try:
        for t, cls in FLAT.items():
            rows = [offsets[t][f] for f in cls.DTYPES if f in offsets[t]]
            if not all(np.array_equal(rows[0], r) for r in rows[1:]):
                return False
            cls(**arrays[t], where=where, spec=spec)
        comp = arrays["compartments"]
        if "join_op" in comp and comp["join_op"].any():  # a parent on the same core: per-core ends
            o = offsets["compartments"]["join_op"]
            check_joins(where, "CompartmentTable", comp["join_op"], comp["join_offset"],
                        np.repeat(o[1:], np.diff(o)).astype(np.int64))
        for t, (ptr, items) in CSR.items():
            rows = [offsets[t][f] for f in items]
            if not all(np.array_equal(rows[0], r) for r in rows[1:]):
                return False
            chip_ptr = _rebased(arrays[t][ptr], offsets[t][ptr], rows[0])
            if chip_ptr is None:
                return False
            cls = SynapseTable if t == "synapses" else RouteTable
            cls(**{**arrays[t], ptr: chip_ptr}, where=where, spec=spec)
    except ImageError:
        return False
    return True


def no_learning(arrays: dict[str, np.ndarray], offsets: dict[str, np.ndarray]) -> bool:
    """True when the chip's learning tables are all empty (each core: code_ptr = [0], no rows)."""
    if not arrays or set(arrays) != set(LearningProfileTable.DTYPES):
        return False
    ptr = arrays["code_ptr"]
    return all(a.size == 0 for f, a in arrays.items() if f != "code_ptr") and bool(
        (np.diff(offsets["code_ptr"]) == 1).all() and not ptr.any())
