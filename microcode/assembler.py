"""IR <-> microcode: encoder, decoder, and the meaning of each opcode.

The layouts live in ``microcode/encoding.py``; this module only walks them.
The decoder gathers one instruction's nibbles into an int and slices its
operands with :func:`~microcode.encoding.field`, as Spike's ``decode.h`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

from loihi_emu.hw import LOIHI1, HardwareSpec
from microcode.check import check_program
from microcode.encoding import (
    CODE_TARGETS,
    CODE_VARIABLES,
    NIBBLE_BITS,
    NIBBLE_MASK,
    TARGET_CODES,
    VARIABLE_CODES,
    WORD_NIBBLES,
    Instruction,
    Opcode,
    factor_opcode,
    field,
    instruction_set,
    padded_nibbles,
    sext,
    twos,
)
from microcode.errors import MicrocodeError, RuleError
from microcode.ir import Factor, Product, Program, Rule, u_index
from microcode.printer import format_factor, format_scale


@dataclass(frozen=True)
class Microcode:
    """A program's microcode: 4-bit nibbles (ints 0..15), a whole number of 64-bit words."""

    nibbles: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.nibbles) % 2 or any(not 0 <= n <= NIBBLE_MASK for n in self.nibbles):
            raise ValueError("microcode is an even number of nibbles, each 0..15")

    def to_bytes(self) -> bytes:
        """Two nibbles per byte, high nibble first."""
        n = self.nibbles
        return bytes((n[i] << NIBBLE_BITS) | n[i + 1] for i in range(0, len(n) - 1, 2))

    @classmethod
    def from_bytes(cls, data: bytes) -> Microcode:
        """The nibbles of ``data`` (high nibble of each byte first); no checks."""
        return cls(tuple(field(b, lo, NIBBLE_BITS) for b in data for lo in (NIBBLE_BITS, 0)))

    @property
    def words(self) -> tuple[int, ...]:
        """64-bit words (nibble 0 of a word in bits 63..60)."""
        out = []
        for start in range(0, len(self.nibbles), WORD_NIBBLES):
            word = 0
            for nibble in self.nibbles[start:start + WORD_NIBBLES]:
                word = word << NIBBLE_BITS | nibble
            out.append(word)
        return tuple(out)

    def hex(self) -> str:
        """One hex digit per nibble."""
        return "".join(f"{n:X}" for n in self.nibbles)


def _encode(ins: Instruction, *values: int) -> list[int]:
    word = ins.opcode
    for (operand, _lo), value in zip(ins.fields(), values):
        word = word << operand.bits | (twos(value, operand.bits) if operand.signed else value)
    return [field(word, NIBBLE_BITS * i, NIBBLE_BITS) for i in reversed(range(ins.nibbles))]


def _factor_operands(factor: Factor) -> tuple[int, ...]:
    if factor.kind == "const":
        return (factor.constant,)
    k = u_index(factor.variable)
    code = k if k is not None else VARIABLE_CODES[factor.variable]
    return (code, factor.constant) if factor.kind == "bracket" else (code,)


def assemble(program: Program, spec: HardwareSpec = LOIHI1) -> Microcode:
    """Check ``program`` against ``spec`` and encode it; raises a :class:`RuleError` if it is invalid."""
    check_program(program, spec)
    table = instruction_set(spec)
    out: list[int] = []
    for rule in program.rules:
        out += _encode(table[Opcode.RULE], TARGET_CODES[rule.target])
        for product in rule.products:
            out += _encode(table[Opcode.PROD], product.scale_mant, product.scale_exp)
            for factor in product.factors:
                out += _encode(table[factor_opcode(factor.kind, factor.variable)], *_factor_operands(factor))
    out += _encode(table[Opcode.END])
    out += [Opcode.NOP] * (padded_nibbles(len(out)) - len(out))
    return Microcode(tuple(int(n) for n in out))


@dataclass(frozen=True)
class Decoded:
    """One decoded instruction: nibble offset, its nibbles, opcode and operand values."""

    offset: int
    nibbles: tuple[int, ...]
    instruction: Instruction
    operands: dict[str, int]


def _nibbles_of(data: bytes | Microcode | tuple[int, ...] | list[int]) -> tuple[int, ...]:
    if isinstance(data, Microcode):
        return data.nibbles
    if isinstance(data, (bytes, bytearray)):
        return Microcode.from_bytes(bytes(data)).nibbles
    if any(not 0 <= n <= NIBBLE_MASK for n in data):
        raise ValueError("nibbles are ints 0..15")
    return tuple(data)


def decode(data: bytes | Microcode | tuple[int, ...] | list[int], spec: HardwareSpec = LOIHI1) -> list[Decoded]:
    """Split microcode into instructions up to and including ``END`` (padding checked, not returned).

    Raises :class:`MicrocodeError` naming the nibble offset for a stream over
    ``spec.microcode_nibbles``, not whole words, with an unknown opcode, cut
    inside an instruction, without ``END``, or with anything but ``NOP`` after it.
    """
    nibbles = _nibbles_of(data)
    if len(nibbles) > spec.microcode_nibbles:
        raise MicrocodeError(f"microcode has {len(nibbles)} nibbles; a learning profile holds "
                             f"{spec.microcode_nibbles}", spec.microcode_nibbles)
    if len(nibbles) % WORD_NIBBLES:
        raise MicrocodeError(f"truncated: {len(nibbles)} nibbles is not a whole number of "
                             f"{WORD_NIBBLES}-nibble words", len(nibbles))
    table = instruction_set(spec)
    out: list[Decoded] = []
    offset = 0
    while True:
        if offset >= len(nibbles):
            raise MicrocodeError("truncated: no END instruction", offset)
        ins = table.get(nibbles[offset])
        if ins is None or ins.opcode == Opcode.NOP:
            note = " (NOP may only pad after END)" if nibbles[offset] == Opcode.NOP else ""
            raise MicrocodeError(f"unknown opcode 0x{nibbles[offset]:X}{note}", offset)
        if offset + ins.nibbles > len(nibbles):
            raise MicrocodeError(f"truncated: {ins.opcode.name} needs {ins.nibbles} nibbles, "
                                 f"{len(nibbles) - offset} left", offset)
        raw = nibbles[offset:offset + ins.nibbles]
        insn = 0
        for nibble in raw:
            insn = insn << NIBBLE_BITS | nibble
        operands = {op.name: (sext(field(insn, lo, op.bits), op.bits) if op.signed else field(insn, lo, op.bits))
                    for op, lo in ins.fields()}
        out.append(Decoded(offset, tuple(raw), ins, operands))
        offset += ins.nibbles
        if ins.opcode == Opcode.END:
            break
    for pad in range(offset, len(nibbles)):
        if nibbles[pad] != Opcode.NOP:
            raise MicrocodeError(f"nibble 0x{nibbles[pad]:X} after END; only NOP (0) padding may follow", pad)
    return out


def _variable(code: int, offset: int) -> str:
    if code not in CODE_VARIABLES:
        raise MicrocodeError(f"unknown variable code 0x{code:X}", offset + 1)
    return CODE_VARIABLES[code]


class _Builder:
    """Rebuilds the IR; ``run[opcode]`` is the meaning of each opcode, a few lines each."""

    def __init__(self) -> None:
        self.rules: list[tuple[str, int, list[tuple[int, int, int, list[Factor]]]]] = []

    def factor(self, d: Decoded, factor: Factor) -> None:
        if not self.rules or not self.rules[-1][2]:
            raise MicrocodeError(f"{d.instruction.opcode.name} outside a product (no PROD before it)", d.offset)
        self.rules[-1][2][-1][3].append(factor)

    def rule(self, d: Decoded) -> None:
        code = d.operands["target"]
        if code not in CODE_TARGETS:
            raise MicrocodeError(f"unknown target code 0x{code:X}", d.offset + 1)
        self.rules.append((CODE_TARGETS[code], d.offset, []))

    def prod(self, d: Decoded) -> None:
        if not self.rules:
            raise MicrocodeError("PROD outside a rule (no RULE before it)", d.offset)
        self.rules[-1][2].append((d.operands["mant"], d.operands["exp"], d.offset, []))

    def run(self, d: Decoded) -> None:
        o, at = d.operands, (0, d.offset)
        op = d.instruction.opcode
        if op == Opcode.RULE:
            self.rule(d)
        elif op == Opcode.PROD:
            self.prod(d)
        elif op == Opcode.VAR:
            self.factor(d, Factor(_variable(o["v"], d.offset), 0, "var", *at))
        elif op == Opcode.BRK:
            self.factor(d, Factor(_variable(o["v"], d.offset), o["c"], "bracket", *at))
        elif op == Opcode.SGN:
            self.factor(d, Factor(_variable(o["v"], d.offset), 0, "sgn", *at))
        elif op == Opcode.CONST:
            self.factor(d, Factor(None, o["c"], "const", *at))
        elif op == Opcode.UVAR:
            self.factor(d, Factor(f"u{o['k']}", 0, "var", *at))
        elif op == Opcode.UBRK:
            self.factor(d, Factor(f"u{o['k']}", o["c"], "bracket", *at))

    def program(self) -> Program:
        return Program(tuple(
            Rule(target, tuple(Product(m, e, tuple(fs), 0, off) for m, e, off, fs in products), 0, rule_offset)
            for target, rule_offset, products in self.rules))


def disassemble(data: bytes | Microcode | tuple[int, ...] | list[int], spec: HardwareSpec = LOIHI1) -> Program:
    """Decode microcode into a checked :class:`Program`.

    Nodes of the result carry ``line`` 0 and ``column`` = the nibble offset of
    their instruction. Raises :class:`MicrocodeError` (naming the nibble offset)
    for bad microcode, including microcode that decodes to an invalid rule.
    """
    builder = _Builder()
    for d in decode(data, spec):
        builder.run(d)
    program = builder.program()
    try:
        check_program(program, spec)
    except RuleError as err:
        raise MicrocodeError(f"decodes to an invalid rule: {err.message}", err.column or 0) from None
    return program


def describe(d: Decoded) -> str:
    """Meaning of one decoded instruction, for listings (``PROD scale -1*2^-2``)."""
    o = d.operands
    op = d.instruction.opcode
    if op == Opcode.RULE:
        return f"RULE {CODE_TARGETS.get(o['target'], '?')}"
    if op == Opcode.PROD:
        sign = "-" if o["mant"] < 0 else ""
        return f"PROD scale {o['mant']}*2^{o['exp']}  ({sign}{format_scale(o['mant'], o['exp']) or '1'})"
    if op == Opcode.END:
        return "END"
    if op in (Opcode.UVAR, Opcode.UBRK):
        variable: str | None = f"u{o['k']}"
    else:
        variable = CODE_VARIABLES.get(o["v"], "?") if "v" in o else None
    kind = {Opcode.VAR: "var", Opcode.UVAR: "var", Opcode.BRK: "bracket", Opcode.UBRK: "bracket",
            Opcode.SGN: "sgn", Opcode.CONST: "const"}[op]
    return f"{op.name} {format_factor(Factor(variable, o.get('c', 0), kind))}"


def listing(microcode: Microcode, spec: HardwareSpec = LOIHI1) -> list[str]:
    """Annotated listing: one line per instruction, ``offset  nibbles  meaning`` (offsets in nibbles)."""
    lines = [f"{'offset':>6}  {'nibbles':<10}  meaning"]
    decoded = decode(microcode, spec)
    for d in decoded:
        lines.append(f"{d.offset:>6}  {' '.join(f'{n:X}' for n in d.nibbles):<10}  {describe(d)}")
    end = decoded[-1].offset + 1
    if end < len(microcode.nibbles):
        lines.append(f"{end:>6}  {'0 x ' + str(len(microcode.nibbles) - end):<10}  NOP padding to whole words")
    return lines
