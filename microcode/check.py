"""Semantic checks of a rule program against the hardware spec.

:func:`check_program` is run by ``parse`` and ``assemble`` (and on every
disassembled program); :func:`normalize_scale` is the one place a scale is
turned into an encodable ``(mantissa, exponent)`` pair.
"""

from __future__ import annotations

from loihi_emu.hw import LOIHI1, HardwareSpec, signed_range
from microcode.encoding import Opcode, capacity_nibbles, factor_opcode, instruction_set
from microcode.errors import (
    RuleDependencyError,
    RuleDuplicateError,
    RuleLimitError,
    RuleNameError,
    RuleRangeError,
    RuleSyntaxError,
)
from microcode.ir import SIGN_VARIABLES, TARGETS, Factor, Product, Program, Rule, is_variable, u_index


def _trailing_zeros(n: int) -> int:
    return (n & -n).bit_length() - 1


def _split_hint(mant: int, exp: int, spec: HardwareSpec) -> str:
    """``" (e.g. 2^0 + 2^-3)"`` for ``9*2^-3``: the scale as a sum of powers of two, if short."""
    bits = [i for i in range(abs(mant).bit_length()) if abs(mant) >> i & 1]
    lo, hi = signed_range(spec.scale_exp_bits)
    if len(bits) > spec.max_factors_per_product or not all(lo <= exp + i <= hi for i in bits):
        return ""
    sign = "-" if mant < 0 else "+"
    terms = [f"2^{exp + i}" for i in reversed(bits)]
    text = (f"-{terms[0]}" if mant < 0 else terms[0]) + "".join(f" {sign} {t}" for t in terms[1:])
    return f" (e.g. {text})"


def normalize_scale(mant: int, exp: int, spec: HardwareSpec = LOIHI1) -> tuple[int, int]:
    """An encodable ``(m, e)`` with ``m * 2**e == mant * 2**exp``, exactly.

    A pair that fits (``m`` in ``signed_range(spec.scale_mant_bits)``, ``e`` in
    ``signed_range(spec.scale_exp_bits)``) is kept as written; otherwise powers
    of two move between mantissa and exponent (``16*2^-5`` -> ``1*2^-1``,
    ``12`` -> ``3*2^2``, ``2^8`` -> ``2*2^7``), taking the smallest mantissa
    that fits. Raises :class:`RuleRangeError` (without position) for a zero
    scale or one no pair encodes (``9``: split it into several products).
    """
    mlo, mhi = signed_range(spec.scale_mant_bits)
    elo, ehi = signed_range(spec.scale_exp_bits)
    if mant == 0:
        raise RuleRangeError("scale 0 makes the product zero; remove the product")
    if mlo <= mant <= mhi and elo <= exp <= ehi:
        return mant, exp
    tz = _trailing_zeros(mant)
    odd, e0 = mant >> tz, exp + tz
    for k in range(max(0, e0 - ehi), spec.scale_mant_bits + 1):
        if e0 - k < elo:
            break
        if mlo <= odd << k <= mhi:
            return odd << k, e0 - k
    if not mlo <= odd <= mhi:
        if odd.bit_length() > 64:
            raise RuleRangeError(f"scale mantissa has {odd.bit_length()} bits; a scale is a {spec.scale_mant_bits}-bit "
                                 f"signed mantissa ({mlo}..{mhi}) times 2^exponent ({elo}..{ehi})")
        raise RuleRangeError(
            f"scale {odd}*2^{e0} cannot be encoded exactly: its odd mantissa {odd} is outside {mlo}..{mhi} "
            f"({spec.scale_mant_bits}-bit signed); split the product into several products whose scales add up "
            f"to it{_split_hint(odd, e0, spec)}")
    where = "below" if e0 < elo else "above"
    shown = f"2^{e0}" if abs(e0) < 10**6 else "2^(huge)"
    raise RuleRangeError(
        f"scale {odd}*{shown} cannot be encoded exactly: its exponent is {where} the range {elo}..{ehi} "
        f"({spec.scale_exp_bits}-bit signed) even after moving powers of two into the mantissa ({mlo}..{mhi})")


def _factor_nibbles(factor: Factor, spec: HardwareSpec) -> int:
    return instruction_set(spec)[factor_opcode(factor.kind, factor.variable)].nibbles


def _check_factor(factor: Factor, spec: HardwareSpec) -> None:
    pos = factor.line, factor.column
    if factor.variable is not None and not is_variable(factor.variable):
        raise RuleNameError(f"unknown variable {factor.variable!r}").at(*pos)
    if factor.kind == "sgn" and factor.variable not in SIGN_VARIABLES:
        raise RuleNameError(f"sgn() takes w, d or t, not {factor.variable!r}").at(*pos)
    k = u_index(factor.variable)
    if k is not None and k > spec.max_u_index:
        raise RuleRangeError(f"u{k}: K = {k} is outside 0..{spec.max_u_index} (uK is 1 every 2^K steps)").at(*pos)
    if factor.kind in ("bracket", "const"):
        lo, hi = signed_range(spec.constant_bits)
        if not lo <= factor.constant <= hi:
            shown = factor.constant if abs(factor.constant) < 10**30 else "(huge)"
            raise RuleRangeError(f"constant {shown} is outside {lo}..{hi} "
                                 f"({spec.constant_bits}-bit signed)").at(*pos)


def _check_product(product: Product, index: int, target: str, spec: HardwareSpec) -> None:
    pos = product.line, product.column
    name = f"product {index + 1} of {target}"
    try:
        scale = normalize_scale(product.scale_mant, product.scale_exp, spec)
    except RuleRangeError as err:
        raise RuleRangeError(f"{name}: {err.message}").at(*pos) from None
    if scale != (product.scale_mant, product.scale_exp):
        raise RuleRangeError(f"{name}: scale {product.scale_mant}*2^{product.scale_exp} does not fit; "
                             f"write it as {scale[0]}*2^{scale[1]}").at(*pos)
    limit = spec.max_factors_per_product
    if len(product.factors) > limit:
        extra = product.factors[limit]
        raise RuleLimitError(f"{name} has {len(product.factors)} factors; the learning engine multiplies "
                             f"at most {limit} per product").at(extra.line, extra.column)
    for factor in product.factors:
        _check_factor(factor, spec)
    if not any(f.is_dependency for f in product.factors):
        raise RuleDependencyError(f"{name} has no dependency factor: multiply it by x0, y0 or uK "
                                  f"(K = 0..{spec.max_u_index}) to say when it is evaluated").at(*pos)


def check_rule(rule: Rule, spec: HardwareSpec = LOIHI1) -> None:
    """Raise the first :class:`RuleError` ``rule`` breaks (target, counts, scales, factors)."""
    if rule.target not in TARGETS:
        raise RuleNameError(f"unknown target {rule.target!r}; a rule updates dw, dd or dt").at(rule.line, rule.column)
    if not rule.products:
        raise RuleSyntaxError(f"rule {rule.target} has no products").at(rule.line, rule.column)
    limit = spec.max_products_per_rule
    if len(rule.products) > limit:
        extra = rule.products[limit]
        raise RuleLimitError(f"rule {rule.target} has {len(rule.products)} products; the learning engine "
                             f"evaluates at most {limit} per rule").at(extra.line, extra.column)
    for index, product in enumerate(rule.products):
        _check_product(product, index, rule.target, spec)


def check_program(program: Program, spec: HardwareSpec = LOIHI1) -> None:
    """Raise the first :class:`RuleError` ``program`` breaks under ``spec``; return ``None`` if it is valid.

    Checks, in order per rule: duplicate target, target name, product count,
    then per product its scale, factor count, each factor (name, ``sgn``
    argument, K of ``uK``, constant range) and dependency factor; last, the
    microcode size of the whole program against ``spec.microcode_nibbles``.
    """
    if not program.rules:
        raise RuleSyntaxError("a program needs at least one statement (dw = ..., dd = ... or dt = ...)").at(1, 1)
    seen: dict[str, Rule] = {}
    for rule in program.rules:
        if rule.target in seen:
            first = seen[rule.target]
            where = f" (first at line {first.line}, column {first.column})" if first.line else ""
            raise RuleDuplicateError(f"{rule.target} is assigned twice{where}; "
                                     f"merge the products into one statement").at(rule.line, rule.column)
        seen[rule.target] = rule
        check_rule(rule, spec)
    _check_size(program, spec)


def _check_size(program: Program, spec: HardwareSpec) -> None:
    table = instruction_set(spec)
    capacity = capacity_nibbles(spec)
    used = table[Opcode.END].nibbles
    first_over: Product | None = None
    for rule in program.rules:
        used += table[Opcode.RULE].nibbles
        for product in rule.products:
            used += table[Opcode.PROD].nibbles + sum(_factor_nibbles(f, spec) for f in product.factors)
            if used > capacity and first_over is None:
                first_over = product
    if first_over is not None:
        raise RuleLimitError(f"the program needs {used} nibbles of microcode; a learning profile holds "
                             f"{spec.microcode_nibbles} (whole 64-bit words); use fewer products or factors"
                             ).at(first_over.line, first_over.column)
