"""Bit-exact emulator of Intel's Loihi 1 neuro cores.

Public API: :class:`Emulator`, the board image (:mod:`loihi_emu.image`,
:func:`save`, :func:`load`, :func:`validate`), :func:`build_image` and the
hardware spec :data:`LOIHI1`.
"""

from .build import build_image
from .emulator import Emulator
from .errors import (
    ImageError,
    ImageFileError,
    InputError,
    LoihiError,
    ProbeError,
    ResourceError,
    WrapError,
)
from .hw import LOIHI1, HardwareSpec
from .image import Core, Image
from .imagefile import load, save
from .limits import usage, validate
from .probes import Probe

__all__ = [
    "LOIHI1", "Core", "Emulator", "Probe", "HardwareSpec", "Image", "ImageError", "ImageFileError", "InputError",
    "LoihiError", "ProbeError", "ResourceError", "WrapError", "build_image", "load", "save",
    "usage", "validate",
]
