"""IR -> canonical rule text; ``parse(format_program(p)) == p`` for every valid program.

Canonical form: one statement per line, ``target = p1 + p2 - p3``; a scale
prints as ``m*2^e`` with ``m`` omitted when it is 1 and ``2^e`` omitted when
``e`` is 0 (``x0``, ``3*x0``, ``2^-3*x0``, ``3*2^-3*x0``); its sign becomes the
``+``/``-`` before the product. A bracket prints as ``(y1 + 3)`` or
``(y1 - 3)``; a constant factor as a bare integer, in parentheses when
negative or when it would otherwise read as the scale (``(3)*x0``).
"""

from __future__ import annotations

from microcode.ir import Factor, Product, Program, Rule


def format_factor(factor: Factor, first: bool = False) -> str:
    """Text of one factor; ``first`` when it opens a product with no printed scale."""
    if factor.kind == "var":
        return str(factor.variable)
    if factor.kind == "sgn":
        return f"sgn({factor.variable})"
    if factor.kind == "bracket":
        op = "-" if factor.constant < 0 else "+"
        return f"({factor.variable} {op} {abs(factor.constant)})"
    if factor.constant < 0 or first:
        return f"({factor.constant})"
    return str(factor.constant)


def format_scale(mant: int, exp: int) -> str:
    """Text of the magnitude of a scale, ``""`` for 1 (``3``, ``2^-3``, ``3*2^-3``)."""
    m = abs(mant)
    parts = ([str(m)] if m != 1 or exp == 0 else []) + ([f"2^{exp}"] if exp != 0 else [])
    text = "*".join(parts)
    return "" if text == "1" else text


def format_product(product: Product) -> str:
    """Text of one product without its sign (the sign prints as the operator before it)."""
    scale = format_scale(product.scale_mant, product.scale_exp)
    factors = [format_factor(f, first=(i == 0 and not scale)) for i, f in enumerate(product.factors)]
    return "*".join(([scale] if scale else []) + factors) or "1"


def format_rule(rule: Rule) -> str:
    """One statement, ``dw = 2^-2*x1*y0 - 2^-2*y1*x0``."""
    text = ""
    for i, product in enumerate(rule.products):
        body = format_product(product)
        if i == 0:
            text = f"-{body}" if product.scale_mant < 0 else body
        else:
            text += f" {'-' if product.scale_mant < 0 else '+'} {body}"
    return f"{rule.target} = {text}"


def format_program(program: Program) -> str:
    """Canonical text of a program: one statement per line, ending with a newline."""
    return "".join(format_rule(rule) + "\n" for rule in program.rules)
