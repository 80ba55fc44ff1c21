"""Rule text -> IR: the lark LALR parser, its transformer, and typed syntax errors.

``grammar.lark`` names each kind of item with an alias; :class:`_ToIR` has one
method per alias and builds the nodes of ``microcode/ir.py`` (as lark's
``examples/advanced/create_ast.py`` does). Grammar errors are classified by
example bad inputs (lark's ``examples/advanced/error_reporting_lalr.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from loihi_emu.hw import LOIHI1, HardwareSpec
from microcode.check import check_program, normalize_scale
from microcode.errors import (
    RuleBracketError,
    RuleError,
    RuleMissingOperandError,
    RuleMissingOperatorError,
    RuleNameError,
    RuleRangeError,
    RuleStatementError,
    RuleSyntaxError,
)
from microcode.ir import SIGN_VARIABLES, TARGETS, Factor, Product, Program, Rule, is_variable

MAX_LITERAL_DIGITS = 40
"""Integer literals longer than this are out of range for every field (and are not converted)."""

# Bad inputs that pick the error class of a grammar error (first match wins).
SYNTAX_EXAMPLES: dict[type[RuleSyntaxError], list[str]] = {
    RuleMissingOperandError: [
        "dw =", "dw = x0 +", "dw = x0 -", "dw = x0 *", "dw = -", "dw = x0 + + y0", "dw = x0 * * y0",
        "dw = x0 * + y0", "dw = 2^", "dw = 2^-", "dw = x0 + ;", "dw = x0 *\n",
    ],
    RuleMissingOperatorError: [
        "dw = x0 y0", "dw = 2 x0", "dw = x0 3", "dw = x0 (y1+1)", "dw = x0 sgn(w)", "dw = 2^-2 x0",
        "dw = x0 dd = y0", "dw = x0 = y0", "dw = x0 )",
    ],
    RuleBracketError: [
        "dw = x0*(y1+1", "dw = x0*(y1", "dw = x0*(y1+)", "dw = x0*(y1*2)", "dw = x0*(y1+x1)", "dw = x0*(3+4)",
        "dw = x0*(", "dw = x0*(y1)", "dw = x0*(+3)", "dw = x0*(3", "dw = x0*(-y1)", "dw = x0*((y1+1))",
        "dw = sgn w", "dw = sgn(w", "dw = sgn(3)", "dw = x0*sgn()", "dw = x0*(3+y1",
    ],
    RuleStatementError: [
        "x0*y0", "dw x0", "dw", "= x0", "dw = x0\n= y0", "dw == x0", "(dw) = x0", "2 = x0", "dw; = x0",
    ],
}


@lru_cache(maxsize=1)
def rule_parser() -> Lark:
    """The LALR parser of ``grammar.lark`` (built once)."""
    text = resources.files(__package__).joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", propagate_positions=True, maybe_placeholders=True)


def _int(token: Token) -> int:
    digits = token.lstrip("0") or "0"
    if len(digits) > MAX_LITERAL_DIGITS:
        raise RuleRangeError(f"integer literal with {len(digits)} digits is out of range for every field"
                             ).at(token.line, token.column)
    return int(digits)


@dataclass
class _Scale:
    """A scale item as written: ``value`` (int item) or ``base^exp`` (pow item)."""

    kind: str  # 'int' or 'pow'
    value: int
    line: int
    column: int


@dataclass
class _RawProduct:
    items: list
    line: int
    column: int
    text: str


def _variable(token: Token) -> str:
    if not is_variable(token):
        raise RuleNameError(f"unknown variable {str(token)!r}; variables are x0 x1 x2 y0 y1 y2 y3 r0 r1 w d t "
                            f"and u0, u1, ...").at(token.line, token.column)
    return str(token)


def _signed(sign: Token | None, value: int) -> int:
    return -value if sign is not None and sign == "-" else value


@v_args(inline=True)
class _ToIR(Transformer):
    """One method per grammar alias; returns IR nodes (scale items stay ``_Scale`` until ``sum``)."""

    def __init__(self, text: str, spec: HardwareSpec) -> None:
        super().__init__()
        self.text = text
        self.spec = spec

    def int_item(self, token: Token) -> _Scale:
        return _Scale("int", _int(token), token.line, token.column)

    def pow_item(self, base: Token, sign: Token | None, exp: Token) -> _Scale:
        if base != "2":
            raise RuleSyntaxError(f"a scale is a power of two (2^E), not a power of {base}").at(base.line, base.column)
        return _Scale("pow", _signed(sign, _int(exp)), base.line, base.column)

    def var_item(self, name: Token) -> Factor:
        return Factor(_variable(name), 0, "var", name.line, name.column)

    def bracket_vc(self, lpar: Token, name: Token, op: Token, value: Token) -> Factor:
        return Factor(_variable(name), _signed(op, _int(value)), "bracket", lpar.line, lpar.column)

    def bracket_cv(self, lpar: Token, sign: Token | None, value: Token, _plus: Token, name: Token) -> Factor:
        return Factor(_variable(name), _signed(sign, _int(value)), "bracket", lpar.line, lpar.column)

    def bracket_neg(self, lpar: Token, sign: Token | None, value: Token, _minus: Token, name: Token) -> Factor:
        raise RuleBracketError(f"({'-' if sign else ''}{value} - {name}) subtracts the variable; a bracket adds a "
                               f"constant to it: write ({name} - {'-' if sign else ''}{value}) and negate the "
                               f"product's scale").at(lpar.line, lpar.column)

    def paren_const(self, lpar: Token, sign: Token | None, value: Token) -> Factor:
        return Factor(None, _signed(sign, _int(value)), "const", lpar.line, lpar.column)

    def sgn_item(self, sgn: Token, name: Token) -> Factor:
        variable = _variable(name)
        if variable not in SIGN_VARIABLES:
            raise RuleNameError(f"sgn() takes w, d or t, not {variable!r}").at(name.line, name.column)
        return Factor(variable, 0, "sgn", sgn.line, sgn.column)

    @v_args(meta=True)
    def product(self, meta, items: list) -> _RawProduct:
        return _RawProduct(items, meta.line, meta.column, self.text[meta.start_pos:meta.end_pos])

    def sum(self, lead: Token | None, *rest) -> list[Product]:
        signs = [lead] + list(rest[1::2])
        return [self._product(raw, sign) for raw, sign in zip(rest[0::2], signs)]

    def _product(self, raw: _RawProduct, sign: Token | None) -> Product:
        items = list(raw.items)
        mant, exp = 1, 0
        if items and isinstance(items[0], _Scale) and items[0].kind == "int":
            mant = items.pop(0).value
        if items and isinstance(items[0], _Scale) and items[0].kind == "pow":
            exp = items.pop(0).value
        factors = []
        for item in items:
            if isinstance(item, _Scale) and item.kind == "pow":
                raise RuleSyntaxError("a scale 2^E comes first in its product (or right after its mantissa: "
                                      "3*2^-4)").at(item.line, item.column)
            if isinstance(item, _Scale):
                item = Factor(None, item.value, "const", item.line, item.column)
            factors.append(item)
        mant = _signed(sign, mant)
        try:
            mant, exp = normalize_scale(mant, exp, self.spec)
        except RuleRangeError as err:
            text = raw.text if len(raw.text) <= 60 else raw.text[:57] + "..."
            raise RuleRangeError(f"product {'-' if mant < 0 else ''}{text}: {err.message}").at(
                raw.line, raw.column) from None
        return Product(mant, exp, tuple(factors), raw.line, raw.column)

    def statement(self, name: Token, products: list[Product]) -> Rule:
        if name not in TARGETS:
            raise RuleNameError(f"unknown target {str(name)!r}; a rule updates dw, dd or dt").at(name.line, name.column)
        return Rule(str(name), tuple(products), name.line, name.column)

    def start(self, *statements: Rule | None) -> Program:
        return Program(tuple(s for s in statements if s is not None))


@lru_cache(maxsize=1)
def _example_index() -> tuple[dict[tuple[int, str], type], dict[int, type]]:
    """Parser state (and bad token type) of each example in :data:`SYNTAX_EXAMPLES` -> its class."""
    by_token: dict[tuple[int, str], type] = {}
    by_state: dict[int, type] = {}
    for cls, examples in SYNTAX_EXAMPLES.items():
        for example in examples:
            try:
                rule_parser().parse(example)
            except UnexpectedToken as err:
                by_token.setdefault((err.state.position, err.token.type), cls)
                by_state.setdefault(err.state.position, cls)
            else:  # pragma: no cover - a broken example is a bug in this table
                raise AssertionError(f"syntax example {example!r} parses")
    return by_token, by_state


def _match_examples(err: UnexpectedInput) -> type[RuleSyntaxError]:
    """The class of the example failing in the same LALR state (and on the same token type, if any).

    Like lark's ``UnexpectedInput.match_examples``, but keyed on the state on
    top of the parser stack only, so an example matches at any nesting depth.
    """
    state = getattr(getattr(err, "state", None), "position", None)
    if state is None:
        return RuleSyntaxError
    by_token, by_state = _example_index()
    token_type = err.token.type if isinstance(err, UnexpectedToken) else None
    return by_token.get((state, token_type)) or by_state.get(state) or RuleSyntaxError


def _end_position(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


def _describe(token: Token) -> str:
    if token.type == "$END":
        return "end of input"
    if token.type == "_SEP":
        return "end of line" if token == "\n" else "';'"
    return repr(str(token))


def _syntax_error(err: UnexpectedInput, text: str) -> RuleSyntaxError:
    if isinstance(err, UnexpectedCharacters):
        char = text[err.pos_in_stream] if 0 <= err.pos_in_stream < len(text) else "?"
        return RuleSyntaxError(f"unexpected character {char!r}").at(err.line, err.column)
    token = err.token if isinstance(err, UnexpectedToken) else None
    if token is None or token.type == "$END" or not token.line or token.line < 1:
        line, column = _end_position(text)
        got = "end of input"
    else:
        line, column = token.line, token.column
        got = _describe(token)
    cls = _match_examples(err)
    hint = {
        RuleMissingOperandError: "missing operand: expected a variable, constant, bracket or scale",
        RuleMissingOperatorError: "missing operator: expected '*', '+', '-', or a new line or ';' before the "
                                  "next statement",
        RuleBracketError: "bad bracket: expected (variable + constant), (variable - constant), "
                          "(constant + variable), (constant) or sgn(w|d|t)",
        RuleStatementError: "a statement is 'dw = ...', 'dd = ...' or 'dt = ...'",
    }.get(cls, "syntax error")
    return cls(f"{hint}; got {got}").at(line, column)


def parse_unchecked(text: str, spec: HardwareSpec = LOIHI1) -> Program:
    """Parse ``text`` into IR, normalising scales, without the checks of :func:`check_program`."""
    try:
        tree = rule_parser().parse(text)
    except UnexpectedInput as err:
        raise _syntax_error(err, text) from None
    try:
        return _ToIR(text, spec).transform(tree)
    except VisitError as err:
        if isinstance(err.orig_exc, RuleError):
            raise err.orig_exc from None
        raise


def parse(text: str, spec: HardwareSpec = LOIHI1) -> Program:
    """Parse rule text and check it against ``spec``.

    Returns the :class:`~microcode.ir.Program`; raises a :class:`RuleError`
    subclass with the 1-based line and column of the first problem (``str()``
    quotes the line with a caret). Scales that do not fit as written are
    renormalised exactly (``16*2^-5`` -> ``1*2^-1``), never rounded.
    """
    try:
        program = parse_unchecked(text, spec)
        check_program(program, spec)
    except RuleError as err:
        if err.source is None:
            err.source = text
        raise
    return program
