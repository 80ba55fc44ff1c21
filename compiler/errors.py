"""Typed errors and warnings of the compiler.

Every error names the population, projection or core it is about, the bad
value and the limit or rule it broke, and (where there is one) the fix. All of
them subclass :class:`loihi_emu.errors.LoihiError` and :class:`ValueError`.
"""

from __future__ import annotations

from loihi_emu.errors import LoihiError, ResourceError


class CompilerError(LoihiError, ValueError):
    """Base class of every error the compiler raises on purpose."""


class NetworkError(CompilerError):
    """A network description is inconsistent (base of the validation errors)."""


class ParameterError(NetworkError):
    """A parameter holds a value the model does not allow (negative tau, NaN weight, delay > 62, ...)."""


class ShapeError(NetworkError):
    """An array has the wrong shape for the population or projection it belongs to."""


class UnknownPopulationError(NetworkError, KeyError):
    """A projection or lookup names a population (or graph node) that does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DuplicateError(NetworkError):
    """A population name or a (pre, post) projection is defined twice."""


class DendriteError(NetworkError):
    """A dendritic tree (``compartments=``) or a projection onto one is malformed; names population and compartment."""


class EncoderError(ParameterError):
    """An input encoder got an intensity, signal or setting outside its definition."""


class LearningError(ParameterError):
    """A projection's learning settings are invalid: traces, epoch, rounding, or a clash between projections.

    The message names the projection (and, for a clash, the other projection).
    """


class LearningRuleError(LearningError):
    """A projection's learning rule text does not parse or check (:func:`microcode.parse`).

    ``line`` and ``column`` (1-based) locate the error in the rule text as the
    projection stores it (a bare right-hand side is stored as ``dw = <text>``);
    ``rule_error`` is the original :class:`microcode.RuleError` (also the
    ``__cause__``), whose class says what kind of error it is.
    """

    def __init__(self, message: str, rule_error=None) -> None:
        super().__init__(message)
        self.rule_error = rule_error
        self.line = getattr(rule_error, "line", None)
        self.column = getattr(rule_error, "column", None)


class NetworkFileError(NetworkError):
    """A network JSON file (or its side ``.npz``) is malformed."""


class QuantizationError(CompilerError):
    """A model value cannot be represented in the registers; the message names the fix."""


class CapacityError(CompilerError, ResourceError):
    """The network does not fit: a resource runs out.

    Attributes: ``resource`` (e.g. ``'input_axons'``, ``'cores'``), ``where``
    (population / compartment / system), ``needed`` and ``limit``.
    """

    def __init__(self, resource: str, where: str, needed: int, limit: int, hint: str = "") -> None:
        self.resource = resource
        self.where = where
        self.needed = int(needed)
        self.limit = int(limit)
        msg = (
            f"{where}: needs {self.needed} {resource.replace('_', ' ')}; the limit is {self.limit} "
            f"(over by {self.needed - self.limit})"
        )
        super().__init__(msg + (f"; {hint}" if hint else ""))


class PlacementError(CompilerError):
    """A placement strategy is unknown or returned something that is not an order of the pieces."""


class QuantizationWarning(UserWarning):
    """A loss the registers force on a model value (clipped decay, weight rounded to zero, ...)."""


class NIRError(CompilerError):
    """A NIR graph or file cannot be imported or exported (unreadable file, unsupported node, shapes that do
    not chain, missing dt, a reset Loihi 1 cannot express, ...). ``node`` names the offending NIR node (dotted
    for nested graphs) or population, when there is one."""

    def __init__(self, message: str, node: str | None = None) -> None:
        super().__init__(message)
        self.node = node


class NIRWarning(UserWarning):
    """An import that runs but may not mean what the producer meant (dt/tau > 1: forward Euler is unstable)."""
