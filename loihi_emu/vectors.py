"""Deprecated alias of :mod:`loihi_emu.conformance` (kept for one release).

Import ``load_vector``, ``check_vector`` and ``find_vectors`` from
``loihi_emu.conformance`` instead.
"""

import warnings

from loihi_emu.conformance import Mismatch, Vector, check_vector, find_vectors, first_mismatch, load_vector

warnings.warn(
    "loihi_emu.vectors is deprecated; import from loihi_emu.conformance", DeprecationWarning, stacklevel=2
)

__all__ = ["Mismatch", "Vector", "check_vector", "find_vectors", "first_mismatch", "load_vector"]
