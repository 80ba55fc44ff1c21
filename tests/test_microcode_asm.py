"""Assembler and disassembler: the documented encoding, the worked example, bad microcode."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from loihi_emu.hw import LOIHI1
from microcode import Microcode, MicrocodeError, RuleLimitError, assemble, disassemble, listing, parse
from microcode.encoding import WORD_NIBBLES, Opcode, field, instruction_set, sext, twos

PAIR_STDP = "dw = 2^-2*x1*y0 - 2^-2*y1*x0"
# The worked example of docs/microcode.md, nibble by nibble.
PAIR_STDP_NIBBLES = "10" "21E" "31" "33" "2FE" "34" "30" "F" + "0" * 15


def _nibbles(text: str) -> tuple[int, ...]:
    return tuple(int(c, 16) for c in text)


def test_field_and_twos_complement_helpers() -> None:
    assert field(0xABCD, 4, 8) == 0xBC
    assert field(0xABCD, 0, 4) == 0xD
    assert sext(0xE, 4) == -2 and sext(0x7, 4) == 7 and sext(0x80, 8) == -128
    assert twos(-2, 4) == 0xE and twos(-128, 8) == 0x80
    assert all(sext(twos(v, 8), 8) == v for v in range(-128, 128))


def test_operand_widths_follow_the_spec() -> None:
    table = instruction_set(LOIHI1)
    assert table[Opcode.PROD].nibbles == 1 + 2 * (LOIHI1.scale_mant_bits // 4)
    assert table[Opcode.BRK].nibbles == 2 + LOIHI1.constant_bits // 4
    wide = replace(LOIHI1, constant_bits=12)
    assert instruction_set(wide)[Opcode.CONST].nibbles == 4
    program = parse("dw = x0*(y1 - 2000)", spec=wide)
    assert disassemble(assemble(program, wide), wide) == program


def test_worked_example_nibble_by_nibble() -> None:
    code = assemble(parse(PAIR_STDP))
    assert code.hex() == PAIR_STDP_NIBBLES
    assert code.words == (0x1021E31332FE3430, 0xF000000000000000)
    assert code.to_bytes() == bytes.fromhex(PAIR_STDP_NIBBLES)
    assert Microcode.from_bytes(code.to_bytes()) == code


def test_every_opcode_round_trips() -> None:
    text = "dw = -8*2^7*x0*(y1 - 128)*sgn(w)*(-3)\ndd = 7*2^-8*u9*(u0 + 127)*3*r1\ndt = y0*x1*x2*(y3 + 1) + t*d*u5"
    program = parse(text)
    code = assemble(program)
    assert {n for n in code.nibbles[:1]} == {Opcode.RULE}
    assert disassemble(code.to_bytes()) == program
    meanings = "\n".join(listing(code))
    for word in ("RULE dw", "PROD scale -8*2^7", "BRK (y1 - 128)", "SGN sgn(w)", "CONST (-3)", "UVAR u9",
                 "UBRK (u0 + 127)", "CONST 3", "VAR r1", "END", "NOP padding"):
        assert word in meanings


def test_disassembled_nodes_carry_nibble_offsets() -> None:
    program = disassemble(assemble(parse(PAIR_STDP)))
    rule = program.rules[0]
    assert (rule.line, rule.column) == (0, 0)
    assert [p.column for p in rule.products] == [2, 9]
    assert [f.column for f in rule.products[1].factors] == [12, 14]


def test_size_limit_is_a_rule_limit_error() -> None:
    big = "\n".join(f"{t} = " + " + ".join("x0*(y1+1)*(y2+2)*(y3+3)" for _ in range(16)) for t in ("dw", "dd"))
    with pytest.raises(RuleLimitError, match="a learning profile holds 512"):
        parse(big)
    small = replace(LOIHI1, microcode_nibbles=32)
    assert len(assemble(parse(PAIR_STDP, spec=small), small).nibbles) == 32
    with pytest.raises(RuleLimitError):
        parse(PAIR_STDP + " + x0*y1*y2*y3" * 2, spec=small)


def _good() -> list[int]:
    return list(_nibbles(PAIR_STDP_NIBBLES))


def _with(at: int, *values: int) -> list[int]:
    nibbles = _good()
    nibbles[at:at + len(values)] = values
    return nibbles


@pytest.mark.parametrize(("nibbles", "offset", "fragment"), [
    (_with(5, 0xA), 5, "unknown opcode 0xA"),
    (_with(5, 0x0), 5, "unknown opcode 0x0"),
    ([0] * 14 + [0x2, 0x1], 0, "unknown opcode 0x0"),
    (_good()[:16], 16, "no END"),
    (_good()[:15], 15, "not a whole number"),
    ([0x1, 0x0, 0x2, 0x1, 0xE, 0x3, 0x0, 0x3, 0x4, 0x3, 0x5, 0x6, 0x0, 0x1, 0x4, 0x0], 14, "BRK needs 4 nibbles, 2 left"),
    (_with(0, 0x1, 0x7), 1, "unknown target code 0x7"),
    (_with(6, 0xD), 6, "unknown variable code 0xD"),
    (_with(17, 0x5), 17, "after END"),
    (_with(0, 0x3, 0x1), 0, "VAR outside a product"),
    (_with(0, 0x2, 0x1, 0xE), 0, "PROD outside a rule"),
    (_with(2, 0x2, 0x0), 2, "scale 0"),
    (_with(9, 0x2, 0xF, 0xE, 0x3, 0x4, 0x3, 0x4), 9, "no dependency factor"),
    ([0x1, 0x0, 0x1, 0x0, 0x2, 0x1, 0x0, 0x3, 0x0, 0xF] + [0] * 6, 0, "has no products"),
    ([0x1, 0x0, 0x2, 0x1, 0x0, 0x7, 0xA, 0xF] + [0] * 8, 5, "K = 10 is outside 0..9"),
    ([0x1, 0x0, 0x2, 0x1, 0x0, 0x3, 0x0, 0x5, 0x1, 0xF] + [0] * 6, 7, "sgn() takes w, d or t"),
    ([0x1, 0x0, 0x2, 0x1, 0x0, 0x3, 0x0, 0x1, 0x0, 0x2, 0x1, 0x0, 0x3, 0x3, 0xF, 0], 7, "assigned twice"),
])
def test_bad_microcode_names_the_nibble_offset(nibbles: list[int], offset: int, fragment: str) -> None:
    with pytest.raises(MicrocodeError) as info:
        disassemble(nibbles)
    assert info.value.offset == offset
    assert fragment in str(info.value)
    assert str(info.value).startswith(f"nibble {offset}: ")


def test_bad_bytes_and_over_size() -> None:
    code = assemble(parse(PAIR_STDP)).to_bytes()
    with pytest.raises(MicrocodeError, match="truncated"):
        disassemble(code[:-1])
    with pytest.raises(MicrocodeError) as info:
        disassemble(code + bytes(LOIHI1.microcode_nibbles // 2))
    assert info.value.offset == LOIHI1.microcode_nibbles
    with pytest.raises(MicrocodeError, match="no END"):
        disassemble(b"")


def test_padding_is_whole_words() -> None:
    for text in ["dw = x0", PAIR_STDP, "dw = x0*(y1+1)*(y2+2)*(y3+3)"]:
        assert len(assemble(parse(text)).nibbles) % WORD_NIBBLES == 0


def test_docs_show_the_encoding_this_code_produces() -> None:
    docs = Path(__file__).resolve().parent.parent / "docs"
    if not (docs / "microcode.md").is_file():
        pytest.skip("docs not present")
    text = (docs / "microcode.md").read_text(encoding="utf-8")
    code = assemble(parse(PAIR_STDP))
    for word in code.words:
        assert f"{word:016X}" in text
    for line in listing(code):
        assert line.rstrip() in text
    assert " ".join(f"{b:02X}" for b in code.to_bytes()) in text
    table = instruction_set(LOIHI1)
    for ins in table.values():
        assert f"| `{ins.opcode:X}` | `{ins.opcode.name}` |" in text
        assert f"| {ins.nibbles} |" in text
