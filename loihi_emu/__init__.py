"""Bit-exact emulator of Intel's Loihi 1 neuro cores.

Layout (imports run down this list, never up):

* :mod:`loihi_emu.hw`: every bit width and limit (``LOIHI1``);
* :mod:`loihi_emu.image`: the board image, the contract with the compiler
  (tables, ``build_image``, ``save``/``load``, ``validate``/``usage``);
* :mod:`loihi_emu.learning`: traces, rule tables and the learning engine;
* :mod:`loihi_emu.runtime`: flat arrays, numba kernels, the ``Emulator``;
* :mod:`loihi_emu.conformance`: the vector loader and checker;
* :mod:`loihi_emu.results`, :mod:`loihi_emu.plots`: results by population
  name in model units, result files, figures;
* :mod:`loihi_emu.rng`: the counter-based hash behind every random choice.

The package root re-exports the public names lazily, so ``import
loihi_emu.hw`` (which :mod:`microcode` does) loads no numba.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module that defines it
_EXPORTS = {
    "LOIHI1": "loihi_emu.hw",
    "HardwareSpec": "loihi_emu.hw",
    "ImageError": "loihi_emu.errors",
    "ImageFileError": "loihi_emu.errors",
    "InputError": "loihi_emu.errors",
    "InputWarning": "loihi_emu.errors",
    "LoihiError": "loihi_emu.errors",
    "ProbeError": "loihi_emu.errors",
    "ResourceError": "loihi_emu.errors",
    "WrapError": "loihi_emu.errors",
    "Core": "loihi_emu.image",
    "Image": "loihi_emu.image",
    "build_image": "loihi_emu.image",
    "load": "loihi_emu.image",
    "save": "loihi_emu.image",
    "usage": "loihi_emu.image",
    "validate": "loihi_emu.image",
    "Emulator": "loihi_emu.runtime",
    "Probe": "loihi_emu.runtime",
    "Results": "loihi_emu.results",
    "load_results": "loihi_emu.results",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'loihi_emu' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
