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
