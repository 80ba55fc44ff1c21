"""Dendritic join fields of the compartment table (docs/dendrites.md): op codes and their checks.

A compartment's ``join_op`` says how it joins its parent (0: it has none,
it is a root, the only kind that spikes); ``join_offset`` is the parent's
local index minus its own (>= 1; 0 for a root), so a parent is always on the
same core and after its children.
"""

from __future__ import annotations

import numpy as np

from loihi_emu.errors import ImageError

JOIN_FIELDS = ("join_op", "join_offset")
JOIN_NONE, JOIN_ADD, JOIN_BLOCK, JOIN_PASS, JOIN_OR, JOIN_AND = range(6)
JOIN_OPS = {"add": JOIN_ADD, "block": JOIN_BLOCK, "pass": JOIN_PASS, "or": JOIN_OR, "and": JOIN_AND}
"""Join op name (network API and files) -> image code."""
JOIN_NAMES = {v: k for k, v in JOIN_OPS.items()}


def check_joins(where: str, table: str, op: np.ndarray, offset: np.ndarray, core_end: np.ndarray | None = None) -> None:
    """Raise ImageError naming the core and compartment of the first bad join.

    Rules: op in 0..5; a root (op 0) has offset 0, a dendrite offset >= 1;
    the parent (index + offset) is a compartment of the same core:
    ``index + offset < core_end`` (per element; default: the table's length).
    """
    n = op.size
    idx = np.arange(n)
    end = np.full(n, n, np.int64) if core_end is None else core_end
    for bad, what in (
        (op > JOIN_AND, lambda i: f"join_op {int(op[i])} is not one of 0..{JOIN_AND} (0 root, {JOIN_OPS})"),
        ((op == JOIN_NONE) & (offset != 0), lambda i: f"join_offset {int(offset[i])} on a root (join_op 0) must be 0"),
        ((op != JOIN_NONE) & (offset == 0), lambda i: "join_offset 0 with a join op: a parent must come after its child"),
        (idx + offset.astype(np.int64) >= end, lambda i: f"parent {i} + {int(offset[i])} is not a compartment "
                                                         "of this core"),
    ):
        if bad.any():
            i = int(np.argmax(bad))
            raise ImageError(f"{where}{table} compartment {i}: {what(i)}")
