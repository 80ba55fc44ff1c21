"""The float reference and the precision report: consumers of the compiler and the emulator.

:mod:`.reference` (float64 simulator), :mod:`.compare` (the report),
:mod:`.sweep` (weight-bit sweeps), :mod:`.metrics` (spike-train distances),
:mod:`.plots` (matplotlib, optional).
"""

from compiler.precision.compare import PrecisionError, PrecisionReport, compare
from compiler.precision.reference import FloatLearning, FloatReferenceError, FloatSimulator
from compiler.precision.sweep import SweepReport, sweep

__all__ = [
    "FloatLearning", "FloatReferenceError", "FloatSimulator", "PrecisionError", "PrecisionReport",
    "SweepReport", "compare", "sweep",
]
