"""The synapse weight rule shared by the image, the kernels and the learning engine."""

from __future__ import annotations

import numpy as np


def shift_exponent(mant: np.ndarray, exp: np.ndarray) -> np.ndarray:
    """``floor(mant * 2^exp)`` for int64 ``mant`` and signed ``exp``: a left shift, or an
    arithmetic (flooring) right shift for negative exponents (the synapse weight rule)."""
    mant, exp = np.asarray(mant, np.int64), np.asarray(exp, np.int64)
    return np.where(exp >= 0, mant << np.maximum(exp, 0), mant >> np.maximum(-exp, 0))
