"""Property tests: fuzzed text gives a RuleError or round-trips; valid IR round-trips through text and microcode."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loihi_emu.hw import LOIHI1, signed_range
from microcode import Factor, Product, Program, Rule, assemble, disassemble, format_program, parse
from microcode.errors import RuleError
from microcode.ir import NAMED_VARIABLES, SIGN_VARIABLES, TARGETS

TOKENS = (
    ["x0", "x1", "x2", "y0", "y1", "y2", "y3", "r0", "r1", "w", "d", "t"]
    + [f"u{k}" for k in range(12)]
    + list("0123456789")
    + ["+", "-", "*", "^", "(", ")", ";", "=", "\n", "#", "sgn", "dw", "dd", "dt", " ", " ", "2^-"]
)

U_NAMES = [f"u{k}" for k in range(LOIHI1.max_u_index + 1)]
CONSTANTS = st.integers(*signed_range(LOIHI1.constant_bits))


def _factor() -> st.SearchStrategy[Factor]:
    variables = st.sampled_from(list(NAMED_VARIABLES) + U_NAMES)
    return st.one_of(
        variables.map(lambda v: Factor(v, 0, "var")),
        st.builds(lambda v, c: Factor(v, c, "bracket"), variables, CONSTANTS),
        st.sampled_from(SIGN_VARIABLES).map(lambda v: Factor(v, 0, "sgn")),
        CONSTANTS.map(lambda c: Factor(None, c, "const")),
    )


@st.composite
def products(draw: st.DrawFn) -> Product:
    mant = draw(st.integers(*signed_range(LOIHI1.scale_mant_bits)).filter(bool))
    exp = draw(st.integers(*signed_range(LOIHI1.scale_exp_bits)))
    dependency = Factor(draw(st.sampled_from(["x0", "y0"] + U_NAMES)), 0, "var")
    others = draw(st.lists(_factor(), max_size=LOIHI1.max_factors_per_product - 1))
    at = draw(st.integers(0, len(others)))
    return Product(mant, exp, tuple(others[:at] + [dependency] + others[at:]))


@st.composite
def programs(draw: st.DrawFn, max_products: int = 4) -> Program:
    """Valid programs; at most 4 products a rule keeps every program within the microcode size."""
    targets = draw(st.permutations(TARGETS).flatmap(lambda ts: st.sampled_from([ts[:n] for n in (1, 2, 3)])))
    return Program(tuple(Rule(t, tuple(draw(st.lists(products(), min_size=1, max_size=max_products))))
                         for t in targets))


def _parse_or_rule_error(text: str) -> None:
    try:
        program = parse(text)
    except RuleError as err:
        assert err.line is not None and err.line >= 1 and err.column is not None and err.column >= 1
        str(err)  # formatting never fails
        return
    assert parse(format_program(program)) == program


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
def test_fuzzed_text_is_a_rule_error_or_round_trips(text: str) -> None:
    _parse_or_rule_error(text)


@settings(max_examples=200, deadline=None)
@given(programs(), st.data())
def test_edited_valid_text_is_a_rule_error_or_round_trips(program: Program, data: st.DataObject) -> None:
    text = format_program(program)
    at = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 3))
    insert = data.draw(st.lists(st.sampled_from(TOKENS), max_size=3).map("".join))
    _parse_or_rule_error(text[:at] + insert + text[at + cut:])



@settings(max_examples=200, deadline=None)
@given(programs())
def test_format_parse_round_trip(program: Program) -> None:
    assert parse(format_program(program)) == program


@settings(max_examples=200, deadline=None)
@given(programs())
def test_assemble_disassemble_round_trip(program: Program) -> None:
    code = assemble(program)
    assert disassemble(code.to_bytes()) == program
    assert disassemble(code) == program
    assert len(code.nibbles) % 16 == 0 and len(code.nibbles) <= LOIHI1.microcode_nibbles
