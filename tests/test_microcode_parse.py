"""Parsing rule text into IR: the public vectors' rules, scales, factors, positions, printer."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from loihi_emu.hw import LOIHI1, signed_range
from microcode import Factor, Product, Program, Rule, format_program, normalize_scale, parse
from microcode.errors import RuleLimitError, RuleRangeError, RuleSyntaxError

VECTORS = Path(__file__).resolve().parent / "vectors" / "learning"
VECTOR_FILES = sorted(VECTORS.glob("*.npz"))


def _as_meta(program: Program) -> list[dict]:
    """The IR of ``dw`` in the vectors' ``rule_products`` form."""
    return [{"scale_mant": p.scale_mant, "scale_exp": p.scale_exp,
             "factors": [[f.variable, f.constant] for f in p.factors]} for p in program.rule("dw").products]


@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda p: p.stem)
def test_vector_rule_parses_to_its_rule_products(path: Path) -> None:
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
    program = parse(f"dw = {meta['rule']}")
    assert _as_meta(program) == meta["rule_products"]
    assert parse(format_program(program)) == program


def test_brief_rule_texts_parse_without_the_vectors() -> None:
    # The eight rule texts the brief lists: parse each and spot-check one IR by hand.
    texts = ["2^-2*x1*y0-2^-2*y1*x0", "3*2^-3*x1*y0-5*2^-4*y1*x0", "-2^-2*x1*y0+2^-2*y1*x0",
             "2^-3*x1*y0+2^-6*x1*y2*y0-2^-3*y1*x0-2^-6*y1*x2*x0", "2^-3*x1*y0+2^-7*x1*y3*y0-2^-3*y1*x0",
             "2^-4*x2*y0-3*2^-5*y2*x0", "2^-3*x0*(3+y1)-5*2^-3*x0", "2^-2*y0*(2+x1)-2^-2*x0*(5+y1)"]
    programs = [parse(f"dw = {t}") for t in texts]
    assert _as_meta(programs[6]) == [
        {"scale_mant": 1, "scale_exp": -3, "factors": [["x0", 0], ["y1", 3]]},
        {"scale_mant": -5, "scale_exp": -3, "factors": [["x0", 0]]},
    ]
    assert _as_meta(programs[2])[0]["scale_mant"] == -1


def test_ir_of_every_factor_kind() -> None:
    program = parse("dw = 3*2^-4*x0*(y1 - 4)*(5 + x2)*sgn(w)\ndt = u3*(-7)*(u2 + 1)")
    dw, dt = program.rules
    assert dw.target == "dw" and dt.target == "dt"
    assert dw.products == (Product(3, -4, (Factor("x0"), Factor("y1", -4, "bracket"), Factor("x2", 5, "bracket"),
                                           Factor("w", 0, "sgn"))),)
    assert dt.products == (Product(1, 0, (Factor("u3"), Factor(None, -7, "const"), Factor("u2", 1, "bracket"))),)


@pytest.mark.parametrize(("text", "mant", "exp"), [
    ("x0", 1, 0), ("-x0", -1, 0), ("3*x0", 3, 0), ("2^-3*x0", 1, -3), ("-2^1*x0", -1, 1), ("3*2^-4*x0", 3, -4),
    ("-8*2^-8*x0", -8, -8), ("2*2^-3*x0", 2, -3),                       # fits as written: kept
    ("16*2^-5*x0", 1, -1), ("12*x0", 3, 2), ("8*x0", 1, 3), ("2^8*x0", 2, 7), ("-2^10*x0", -8, 7),  # renormalised
    ("2 ^ - 3 * x0", 1, -3), ("2^+3*x0", 1, 3),
])
def test_scales(text: str, mant: int, exp: int) -> None:
    (product,) = parse(f"dw = {text}").rules[0].products
    assert (product.scale_mant, product.scale_exp) == (mant, exp)


def test_normalize_scale_is_exact_or_raises() -> None:
    mlo, mhi = signed_range(LOIHI1.scale_mant_bits)
    elo, ehi = signed_range(LOIHI1.scale_exp_bits)
    encodable = {Fraction(m) * Fraction(2) ** e for m in range(mlo, mhi + 1) for e in range(elo, ehi + 1)}
    for mant in range(-40, 41):
        for exp in range(-14, 14):
            value = Fraction(mant) * Fraction(2) ** exp
            try:
                m, e = normalize_scale(mant, exp)
            except RuleRangeError:
                assert mant == 0 or value not in encodable
            else:
                assert mlo <= m <= mhi and elo <= e <= ehi
                assert Fraction(m) * Fraction(2) ** e == value
                if mlo <= mant <= mhi and elo <= exp <= ehi:
                    assert (m, e) == (mant, exp)


def test_integer_after_scale_is_a_constant_factor() -> None:
    (product,) = parse("dw = 3*5*x0").rules[0].products
    assert (product.scale_mant, product.scale_exp) == (3, 0)
    assert product.factors[0] == Factor(None, 5, "const")
    (product,) = parse("dw = 2^-1*(3)*x0").rules[0].products
    assert product.factors[0] == Factor(None, 3, "const") and product.scale_exp == -1


def test_separators_comments_blank_lines_and_whitespace() -> None:
    text = "# STDP\n\n  dw = 2^-2 * x1 * y0   # potentiation\n\t- 2^-2*y1*x0 ;; dd = y0*(x1+1);\r\n\n"
    with pytest.raises(RuleSyntaxError):  # a product may not continue on the next line
        parse(text)
    program = parse("# STDP\n\n  dw = 2^-2 * x1 * y0 - 2^-2*y1*x0   # pair\n ;; dd = y0*(x1+1);\r\ndt=u0\n")
    assert [r.target for r in program.rules] == ["dw", "dd", "dt"]
    assert program == parse("dw=2^-2*x1*y0-2^-2*y1*x0;dd=y0*(x1+1);dt=u0")


def test_positions_are_one_based_and_not_compared() -> None:
    program = parse("\ndw = 2^-2*x1*y0 -  y1*x0")
    rule = program.rules[0]
    assert (rule.line, rule.column) == (2, 1)
    p0, p1 = rule.products
    assert (p0.line, p0.column) == (2, 6)
    assert (p1.line, p1.column) == (2, 20)
    assert (p1.factors[1].line, p1.factors[1].column) == (2, 23)
    assert program == Program((Rule("dw", (Product(1, -2, (Factor("x1"), Factor("y0"))),
                                           Product(-1, 0, (Factor("y1"), Factor("x0"))))),))


def test_canonical_text() -> None:
    program = parse("dw = -8*2^-3*x0 + (3)*y0 - x0*(y1 - 128)*(-2)*sgn(d); dd = 4*x0*(y1+0); dt = -u9*3")
    assert format_program(program) == (
        "dw = -8*2^-3*x0 + (3)*y0 - x0*(y1 - 128)*(-2)*sgn(d)\n"
        "dd = 4*x0*(y1 + 0)\n"
        "dt = -u9*3\n"
    )
    assert parse(format_program(program)) == program


def test_product_value_is_exact() -> None:
    rule = parse("dw = 3*2^-3*x0*(y1 - 4) - 2^-2*y0*sgn(w)*(5)").rules[0]
    values = {"x0": 1, "y0": 1, "y1": 9, "w": -20}
    assert rule.value(values) == Fraction(3, 8) * 5 - Fraction(1, 4) * -1 * 5


def test_spec_limits_come_from_the_spec() -> None:
    from dataclasses import replace
    narrow = replace(LOIHI1, max_factors_per_product=2, constant_bits=4, max_u_index=3)
    parse("dw = x0*y1*y2")
    with pytest.raises(RuleLimitError, match="at most 2"):
        parse("dw = x0*y1*y2", spec=narrow)
    with pytest.raises(RuleRangeError, match="-8..7"):
        parse("dw = x0*(y1+8)", spec=narrow)
    with pytest.raises(RuleRangeError, match="0..3"):
        parse("dw = u4", spec=narrow)
