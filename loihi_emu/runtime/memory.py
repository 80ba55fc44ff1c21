"""Giving freed memory back to the operating system after a large load."""

from __future__ import annotations


def release_freed_memory() -> None:
    """Hand memory freed by the load temporaries back to the OS.

    glibc raises its mmap threshold after large frees, so flattening a big
    image leaves gigabytes of freed heap in the process; ``malloc_trim``
    returns them. A no-op where the C library has no such call.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
