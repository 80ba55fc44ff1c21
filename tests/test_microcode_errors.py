"""Golden table: each bad rule text, the error class, line, column and a message fragment it must give."""

from __future__ import annotations

import pytest

from microcode import (
    RuleBracketError,
    RuleDependencyError,
    RuleDuplicateError,
    RuleError,
    RuleLimitError,
    RuleMissingOperandError,
    RuleMissingOperatorError,
    RuleNameError,
    RuleRangeError,
    RuleStatementError,
    RuleSyntaxError,
    parse,
)

MANY_PRODUCTS = "dw = " + " + ".join(f"{1 + i % 7}*2^-{i % 8}*x0" for i in range(17))
BIG_PROGRAM = "\n".join(f"{t} = " + " + ".join("x0*(y1+1)*(y2+2)*(y3+3)" for _ in range(16)) for t in ("dw", "dd"))

# (text, error class (exact), line, column, message fragment)
BAD_RULES = [
    # grammar errors, classified by example
    ("dw = x0 +", RuleMissingOperandError, 1, 10, "missing operand"),
    ("dw =", RuleMissingOperandError, 1, 5, "got end of input"),
    ("dw = x0 * * y0", RuleMissingOperandError, 1, 11, "got '*'"),
    ("dw = 2^", RuleMissingOperandError, 1, 8, "missing operand"),
    ("dw = x0 +\ndd = y0", RuleMissingOperandError, 1, 10, "got end of line"),
    ("dw = x0 y0", RuleMissingOperatorError, 1, 9, "got 'y0'"),
    ("dw = 2x0", RuleMissingOperatorError, 1, 7, "missing operator"),
    ("dw = x0 dd = y0", RuleMissingOperatorError, 1, 9, "new line or ';'"),
    ("dw = x0*(y1+1", RuleBracketError, 1, 14, "bad bracket"),
    ("dw = x0*(y1*2)", RuleBracketError, 1, 12, "got '*'"),
    ("dw = x0*sgn w", RuleBracketError, 1, 13, "sgn(w|d|t)"),
    ("dw = x0*(3-y1)", RuleBracketError, 1, 9, "write (y1 - 3)"),
    ("x0*y0", RuleStatementError, 1, 3, "a statement is"),
    ("# pair rule\ndw x0*y0", RuleStatementError, 2, 4, "got 'x0'"),
    ("dw = x0 $ y0", RuleSyntaxError, 1, 9, "unexpected character '$'"),
    ("", RuleSyntaxError, 1, 1, "at least one statement"),
    ("# only a comment\n\n", RuleSyntaxError, 1, 1, "at least one statement"),
    ("dw = 3^2*x0", RuleSyntaxError, 1, 6, "power of two"),
    ("dw = x0*2^-3", RuleSyntaxError, 1, 9, "comes first"),
    # names
    ("dw = x0*z1", RuleNameError, 1, 9, "unknown variable 'z1'"),
    ("dx = x0", RuleNameError, 1, 1, "unknown target 'dx'"),
    ("dw = x0*sgn(x1)", RuleNameError, 1, 13, "sgn() takes w, d or t"),
    ("dw = x0*u01", RuleNameError, 1, 9, "unknown variable 'u01'"),
    # ranges
    ("dw = 9*x0", RuleRangeError, 1, 6, "split the product"),
    ("dw = x0 - 9*2^-3*y0", RuleRangeError, 1, 11, "-9*2^-3"),
    ("dw = 2^-9*x0", RuleRangeError, 1, 6, "exponent is below the range -8..7"),
    ("dw = 2^11*x0", RuleRangeError, 1, 6, "exponent is above the range"),
    ("dw = 0*x0", RuleRangeError, 1, 6, "scale 0"),
    ("dw = x0*(y1+128)", RuleRangeError, 1, 9, "constant 128 is outside -128..127"),
    ("dw = x0*(-129)", RuleRangeError, 1, 9, "constant -129"),
    ("dw = x0\ndd = u10*y1", RuleRangeError, 2, 6, "K = 10 is outside 0..9"),
    ("dw = 1" + "0" * 50 + "*x0", RuleRangeError, 1, 6, "51 digits"),
    # limits
    ("dw = x0*y1*y2*y3*x1", RuleLimitError, 1, 18, "5 factors"),
    (MANY_PRODUCTS, RuleLimitError, 1, 6 + len(" + ".join(f"{1 + i % 7}*2^-{i % 8}*x0" for i in range(16))) + 3,
     "17 products"),
    (BIG_PROGRAM, RuleLimitError, 2, None, "nibbles of microcode"),
    # dependency, duplicates
    ("dw = 2^-2*x1*y1", RuleDependencyError, 1, 6, "product 1 of dw has no dependency factor"),
    ("dw = x0\ndt = -(y1 + 1)*sgn(t)", RuleDependencyError, 2, 7, "product 1 of dt"),
    ("dw = x1*(y0 + 1)", RuleDependencyError, 1, 6, "multiply it by x0, y0 or uK"),
    ("dw = x0; dd = y0; dw = y0", RuleDuplicateError, 1, 19, "dw is assigned twice (first at line 1, column 1)"),
]


@pytest.mark.parametrize(("text", "cls", "line", "column", "fragment"), BAD_RULES,
                         ids=[f"{i:02d}-{case[1].__name__}" for i, case in enumerate(BAD_RULES)])
def test_bad_rule_gives_its_error(text: str, cls: type[RuleError], line: int, column: int | None,
                                  fragment: str) -> None:
    with pytest.raises(RuleError) as info:
        parse(text)
    err = info.value
    assert type(err) is cls, f"{type(err).__name__}: {err}"
    assert err.line == line
    if column is not None:
        assert err.column == column
    assert fragment in err.message


def test_table_is_big_and_covers_every_text_error_class() -> None:
    assert len(BAD_RULES) >= 25
    classes = {case[1] for case in BAD_RULES}
    expected = {RuleSyntaxError, RuleMissingOperandError, RuleMissingOperatorError, RuleBracketError,
                RuleStatementError, RuleNameError, RuleRangeError, RuleLimitError, RuleDependencyError,
                RuleDuplicateError}
    assert classes == expected


def test_str_shows_message_source_line_and_caret() -> None:
    with pytest.raises(RuleError) as info:
        parse("dw = 2^-2*x1*y0\ndd = x0 *\n")
    assert str(info.value).splitlines() == [
        "missing operand: expected a variable, constant, bracket or scale; got end of line",
        "  at line 2, column 10:",
        "    dd = x0 *",
        "             ^",
    ]


def test_caret_follows_tabs() -> None:
    with pytest.raises(RuleNameError) as info:
        parse("dw =\tx0*q")
    assert str(info.value).splitlines()[-1] == "    " + "    \t   ^"


def test_errors_are_value_errors() -> None:
    with pytest.raises(ValueError):
        parse("dw = ")
