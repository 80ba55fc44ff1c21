"""The rule IR: a program of sum-of-products rules, as frozen dataclasses.

A :class:`Program` holds at most one :class:`Rule` per target (``dw``, ``dd``,
``dt``). A rule updates its target by ``Z <- Z + sum_m value(product_m)``; a
:class:`Product` is worth ``scale_mant * 2**scale_exp * prod(factor values)``;
a :class:`Factor` is worth

* ``var``:     the variable,
* ``bracket``: the variable plus ``constant``,
* ``sgn``:     the sign (-1, 0, 1) of the variable (w, d or t only),
* ``const``:   ``constant`` (``variable`` is ``None``).

``line`` and ``column`` are 1-based positions in the rule text (0 when the
node was built by hand; for a disassembled program ``line`` is 0 and
``column`` is the nibble offset of the node's instruction). Positions are
excluded from equality, so a parsed, a hand-built and a disassembled program
of the same rule compare equal. Ranges are checked by
:func:`microcode.check.check_program`, not here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

TARGETS = ("dw", "dd", "dt")
"""Synaptic variables a rule may update: weight, delay, tag."""

NAMED_VARIABLES = ("x0", "x1", "x2", "y0", "y1", "y2", "y3", "r0", "r1", "w", "d", "t")
"""Variables other than ``uK`` (meanings in docs/learning-language.md)."""

SIGN_VARIABLES = ("w", "d", "t")
"""Variables ``sgn()`` may take."""

SPIKE_DEPENDENCIES = ("x0", "y0")
"""Dependency factors besides ``uK``: a product is evaluated when one is 1."""

FACTOR_KINDS = ("var", "bracket", "sgn", "const")

_U_NAME = re.compile(r"u(0|[1-9][0-9]{0,5})")


def u_index(name: str | None) -> int | None:
    """K of a ``uK`` variable name (``"u3"`` -> 3), else ``None``. Range is checked elsewhere."""
    if name is None:
        return None
    match = _U_NAME.fullmatch(name)
    return int(match.group(1)) if match else None


def is_variable(name: str) -> bool:
    """True for the named variables and for any ``uK`` spelling (K unchecked)."""
    return name in NAMED_VARIABLES or u_index(name) is not None


@dataclass(frozen=True)
class Factor:
    """One factor of a product (see the module docstring for its value)."""

    variable: str | None
    constant: int = 0
    kind: str = "var"
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in FACTOR_KINDS:
            raise ValueError(f"factor kind {self.kind!r} is not one of {FACTOR_KINDS}")
        if (self.variable is None) != (self.kind == "const"):
            raise ValueError(f"a {self.kind!r} factor {'needs' if self.kind != 'const' else 'has no'} variable")
        if self.kind in ("var", "sgn") and self.constant != 0:
            raise ValueError(f"a {self.kind!r} factor has constant 0, not {self.constant}")

    @property
    def is_dependency(self) -> bool:
        """True for a plain ``x0``, ``y0`` or ``uK`` factor (one decides when the product runs)."""
        return self.kind == "var" and (self.variable in SPIKE_DEPENDENCIES or u_index(self.variable) is not None)

    def value(self, values: Mapping[str, int]) -> int:
        """The factor's integer value given each variable's value (``values["y1"]`` etc.)."""
        if self.kind == "const":
            return self.constant
        v = values[self.variable]
        if self.kind == "sgn":
            return (v > 0) - (v < 0)
        return v + self.constant


@dataclass(frozen=True)
class Product:
    """``scale_mant * 2**scale_exp * prod(factors)``; the scale is exact, never rounded."""

    scale_mant: int
    scale_exp: int
    factors: tuple[Factor, ...]
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)

    def value(self, values: Mapping[str, int]) -> Fraction:
        """Exact value of the product (a Fraction; the chip's fixed point keeps it exactly)."""
        result = Fraction(self.scale_mant) * Fraction(2) ** self.scale_exp
        for factor in self.factors:
            result *= factor.value(values)
        return result


@dataclass(frozen=True)
class Rule:
    """``target = sum of products``; the update of one synaptic variable per learning epoch."""

    target: str
    products: tuple[Product, ...]
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)

    def value(self, values: Mapping[str, int]) -> Fraction:
        """Exact sum of the products, before rounding to the target's step."""
        return sum((p.value(values) for p in self.products), Fraction(0))


@dataclass(frozen=True)
class Program:
    """The rules of one learning profile, in the order written (one per target at most)."""

    rules: tuple[Rule, ...]

    def rule(self, target: str) -> Rule | None:
        """The rule updating ``target``, or ``None``."""
        return next((r for r in self.rules if r.target == target), None)
