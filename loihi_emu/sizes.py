"""Allocation limits: check a size that comes from a user or a file before allocating it.

The limit of one request is ``min(MAX_BYTES, available memory)``: ``MAX_BYTES``
(default 16 GiB, environment variable ``LOIHI_MAX_BYTES`` overrides it) is the
stated ceiling, and the available memory (``MemAvailable`` in
``/proc/meminfo``, where there is one) keeps a request from ending in a
``MemoryError`` or the kernel's OOM killer. Errors are
:class:`~loihi_emu.errors.SizeError`: they say what was asked and the limit.
"""

from __future__ import annotations

import os

from loihi_emu.errors import SizeError

MAX_BYTES = int(os.environ.get("LOIHI_MAX_BYTES", 16 << 30))


def available_memory() -> int | None:
    """Bytes the system can still give (``MemAvailable``), or None where that is unknown."""
    try:
        with open("/proc/meminfo", "rb") as fh:
            for line in fh:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def limit_bytes() -> tuple[int, str]:
    """(limit, why) of one allocation: the smaller of MAX_BYTES and the available memory."""
    avail = available_memory()
    if avail is not None and avail < MAX_BYTES:
        return avail, "the memory available now"
    return MAX_BYTES, "loihi_emu.sizes.MAX_BYTES"


def check_alloc(what: str, count: int, itemsize: int = 1, error: type[SizeError] = SizeError) -> int:
    """Raise ``error`` unless ``count * itemsize`` bytes fit the limit; return ``count``.

    ``count`` must already be a non-negative integer (Python ints never overflow here).
    """
    asked = int(count) * int(itemsize)
    limit, why = limit_bytes()
    if asked > limit:
        raise error(what, asked, limit, why)
    return int(count)
