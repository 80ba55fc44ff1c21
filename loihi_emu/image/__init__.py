"""The board image: the contract between the compiler and the emulator.

Tables per core (:mod:`.tables`), the ``Core``/``Image`` containers
(:mod:`.core`), building an image from register arrays (:mod:`.build`),
learning profiles (:mod:`.profiles`), the per-core limits (:mod:`.limits`)
and the file formats (:mod:`.store` writes format 3, :mod:`.file` loads every version). Nothing here imports numba.
"""

from loihi_emu.image.build import COMPARTMENT_FIELDS, build_image
from loihi_emu.image.core import (
    COMPARTMENT_TRACES,
    CORE_TABLES,
    OPTIONAL_TABLES,
    REGISTERS,
    ROUND_DETERMINISTIC,
    ROUND_STOCHASTIC,
    SIGN_EXCITATORY,
    SIGN_INHIBITORY,
    SIGN_MIXED,
    SIGN_MODES,
    SOURCE_TRACES,
    TRACES,
    CompartmentTable,
    Core,
    Image,
    LearningProfileTable,
    RouteTable,
    SynapseFormatTable,
    SynapseTable,
)
from loihi_emu.image.file import load
from loihi_emu.image.limits import CoreUsage, usage, validate
from loihi_emu.image.profiles import LearningProfile, learning_table
from loihi_emu.image.store import ImageStore, save

__all__ = [
    "COMPARTMENT_FIELDS", "COMPARTMENT_TRACES", "CORE_TABLES", "REGISTERS", "SOURCE_TRACES", "OPTIONAL_TABLES", "ROUND_DETERMINISTIC", "ROUND_STOCHASTIC",
    "SIGN_EXCITATORY", "SIGN_INHIBITORY", "SIGN_MIXED", "SIGN_MODES", "TRACES", "CompartmentTable", "Core",
    "CoreUsage", "Image", "ImageStore", "LearningProfile", "LearningProfileTable", "RouteTable", "SynapseFormatTable",
    "SynapseTable", "build_image", "learning_table", "load", "save", "usage", "validate",
]
