"""Typed errors of the emulator package.

Every error names the offending item (core, table, field, index) together with
the value and the limit it broke, so a user can find it without a debugger.
"""

from __future__ import annotations


class LoihiError(Exception):
    """Base class of every error this project raises on purpose."""


class ImageError(LoihiError, ValueError):
    """A board-image table holds a value, dtype or shape the chip cannot hold."""


class ResourceError(ImageError):
    """A core uses more of a limited resource than the hardware spec allows."""


class ImageFileError(LoihiError, ValueError):
    """A board-image or vector file is malformed, truncated or not ours."""


class InputError(LoihiError, ValueError):
    """External input spikes do not fit the image (axon or step out of range)."""


class InputWarning(UserWarning):
    """A run gets no input although the image has external input axons."""


class ProbeError(LoihiError, ValueError):
    """A probe names an unknown quantity or compartments that do not exist."""


class WrapError(LoihiError, ArithmeticError):
    """A register wrapped around while the emulator ran with ``strict=True``.

    Attributes name where: ``quantity`` ('q', 'u' or 'u2'), ``step``, ``chip``,
    ``core``, ``compartment`` (local index) and ``global_index``.
    """

    def __init__(
        self,
        quantity: str,
        step: int,
        chip: int,
        core: int,
        compartment: int,
        global_index: int,
        value: int,
        bits: int,
    ) -> None:
        self.quantity = quantity
        self.step = step
        self.chip = chip
        self.core = core
        self.compartment = compartment
        self.global_index = global_index
        self.value = value
        self.bits = bits
        super().__init__(
            f"{quantity} wrapped in step {step} at chip {chip} core {core} "
            f"compartment {compartment} (global {global_index}): value {value} "
            f"does not fit {bits} magnitude bits plus sign"
        )


class UsageError(LoihiError, ValueError):
    """A command-line argument (or an API argument of the wrong kind) is unusable; the CLI exits with 2."""


class SizeError(LoihiError, ValueError):
    """An array whose size comes from a user or a file header would exceed the allocation limit.

    Attributes: ``what`` (the array), ``asked`` and ``limit`` (bytes).
    Raised before anything is allocated.
    """

    def __init__(self, what: str, asked: int, limit: int, why: str = "") -> None:
        self.what, self.asked, self.limit = what, int(asked), int(limit)
        super().__init__(f"{what}: needs {_human(self.asked)}; the limit is {_human(self.limit)}"
                         + (f" ({why})" if why else ""))


class FileAccessError(LoihiError, OSError):
    """A file cannot be used: it is missing, not a regular file, unreadable or unwritable."""


class MissingFileError(FileAccessError, FileNotFoundError):
    """A file or folder the caller named does not exist."""


class UnsafePathError(FileAccessError):
    """A path is refused: not a regular file (FIFO, device, folder), outside its allowed folder,
    or an output that would overwrite an input."""


class StateFileError(ImageFileError):
    """An emulator checkpoint (``Emulator.save_state``) is malformed or belongs to another image."""


def _human(n: int) -> str:
    """``8000 bytes (7.8 KiB)``: the exact count, and a readable one when it is large."""
    x, k = float(n), 0
    while abs(x) >= 1024 and k < 6:
        x, k = x / 1024, k + 1
    return f"{n} bytes" if k == 0 else f"{n} bytes ({x:.1f} {'KMGTPE'[k - 1]}iB)"
