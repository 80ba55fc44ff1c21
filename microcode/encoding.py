"""The microcode encoding table: opcodes, operand layouts, codes, word format.

Like Spike's ``riscv/encoding.h``, this module is data plus one field-slicing
helper; ``microcode/assembler.py`` holds the encoder, the decoder and the
few-line meaning of each opcode. docs/microcode.md is the same table in prose.

Stream. A learning profile's microcode is a stream of 4-bit nibbles::

    RULE target  PROD mant exp  factor...  PROD ...  RULE ...  END  NOP...

Each instruction is one opcode nibble followed by its operand nibbles, most
significant nibble first. A rule runs from its ``RULE`` to the next ``RULE``
or ``END``; a product from its ``PROD`` to the next ``PROD``, ``RULE`` or
``END``. After ``END`` the stream is padded with ``NOP`` (0) to a whole word.

Operands. Signed operands are two's complement. Their widths come from the
hardware spec: the scale mantissa takes ceil(scale_mant_bits / 4) nibbles,
the exponent ceil(scale_exp_bits / 4), a constant ceil(constant_bits / 4)
(one, one and two nibbles on Loihi 1). A variable is one 4-bit code;
``uK`` has its own opcodes whose operand is K.

Words. 16 nibbles make one 64-bit word; nibble 0 of a word is its most
significant (bits 63..60), so a word printed in hex reads in stream order and
``bytes`` hold two nibbles each, high nibble first. A program may take at most
``spec.microcode_nibbles`` nibbles including padding.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

from loihi_emu.hw import HardwareSpec
from microcode.ir import NAMED_VARIABLES, TARGETS

NIBBLE_BITS = 4
"""Bits per nibble, the unit of the microcode stream."""
WORD_NIBBLES = 16
"""Nibbles per microcode word."""
WORD_BITS = NIBBLE_BITS * WORD_NIBBLES
"""Bits per microcode word (64)."""
NIBBLE_MASK = (1 << NIBBLE_BITS) - 1


def field(value: int, lo: int, width: int) -> int:
    """Bits ``lo .. lo + width - 1`` of ``value`` as an unsigned int (Spike's ``x(lo, len)``)."""
    return (value >> lo) & ((1 << width) - 1)


def sext(value: int, bits: int) -> int:
    """Read a ``bits``-wide two's-complement field (``0xE``, 4 -> -2)."""
    return value - (1 << bits) if value >> (bits - 1) & 1 else value


def twos(value: int, bits: int) -> int:
    """Write ``value`` as a ``bits``-wide two's-complement field (-2, 4 -> ``0xE``)."""
    return value & ((1 << bits) - 1)


def nibbles_for(bits: int) -> int:
    """Nibbles a ``bits``-wide field takes (rounded up)."""
    return -(-bits // NIBBLE_BITS)


class Opcode(IntEnum):
    """4-bit opcodes. 0x9..0xE are reserved and decode as errors."""

    NOP = 0x0  # padding after END
    RULE = 0x1  # RULE target: start the rule of a target
    PROD = 0x2  # PROD mant exp: start a product with scale mant * 2^exp
    VAR = 0x3  # VAR v: factor v
    BRK = 0x4  # BRK v c: factor (v + c)
    SGN = 0x5  # SGN v: factor sgn(v), v in w, d, t
    CONST = 0x6  # CONST c: factor c
    UVAR = 0x7  # UVAR k: factor uK (dependency: 1 every 2^K steps)
    UBRK = 0x8  # UBRK k c: factor (uK + c)
    END = 0xF  # end of the program


TARGET_CODES: dict[str, int] = {name: code for code, name in enumerate(TARGETS)}
"""Target operand of RULE: dw 0, dd 1, dt 2."""

VARIABLE_CODES: dict[str, int] = {name: code for code, name in enumerate(NAMED_VARIABLES)}
"""Variable operand of VAR/BRK/SGN: x0 0, x1 1, x2 2, y0 3, y1 4, y2 5, y3 6, r0 7, r1 8, w 9, d 0xA, t 0xB."""

CODE_TARGETS = {code: name for name, code in TARGET_CODES.items()}
CODE_VARIABLES = {code: name for name, code in VARIABLE_CODES.items()}

# Factor kind -> (opcode for a named variable, opcode for uK); 'const' has no variable.
FACTOR_OPCODES: dict[str, tuple[Opcode, Opcode | None]] = {
    "var": (Opcode.VAR, Opcode.UVAR),
    "bracket": (Opcode.BRK, Opcode.UBRK),
    "sgn": (Opcode.SGN, None),
    "const": (Opcode.CONST, None),
}


@dataclass(frozen=True)
class Operand:
    """One operand field: its name, width in nibbles, and whether it is two's complement."""

    name: str
    nibbles: int
    signed: bool = False

    @property
    def bits(self) -> int:
        return self.nibbles * NIBBLE_BITS


@dataclass(frozen=True)
class Instruction:
    """Layout of one opcode: opcode nibble, then the operands in order."""

    opcode: Opcode
    operands: tuple[Operand, ...]
    meaning: str

    @property
    def nibbles(self) -> int:
        """Length in nibbles, opcode included."""
        return 1 + sum(o.nibbles for o in self.operands)

    def fields(self) -> list[tuple[Operand, int]]:
        """``(operand, lo)`` pairs: bit offset of each operand in the instruction's int
        (opcode most significant, last operand at bit 0)."""
        lo = self.nibbles * NIBBLE_BITS - NIBBLE_BITS
        out = []
        for operand in self.operands:
            lo -= operand.bits
            out.append((operand, lo))
        return out


@lru_cache(maxsize=8)
def instruction_set(spec: HardwareSpec) -> dict[int, Instruction]:
    """The layout of every opcode under ``spec`` (operand widths follow its bit widths)."""
    if len(TARGETS) > 1 << NIBBLE_BITS or len(NAMED_VARIABLES) > 1 << NIBBLE_BITS:
        raise ValueError("targets and variables need one 4-bit code each")
    if spec.max_u_index >= 1 << NIBBLE_BITS:
        raise ValueError(f"uK with K up to {spec.max_u_index} does not fit one nibble")
    mant = Operand("mant", nibbles_for(spec.scale_mant_bits), signed=True)
    exp = Operand("exp", nibbles_for(spec.scale_exp_bits), signed=True)
    const = Operand("c", nibbles_for(spec.constant_bits), signed=True)
    var, k = Operand("v", 1), Operand("k", 1)
    table = [
        Instruction(Opcode.NOP, (), "padding after END"),
        Instruction(Opcode.RULE, (Operand("target", 1),), "start the rule of a target (dw 0, dd 1, dt 2)"),
        Instruction(Opcode.PROD, (mant, exp), "start a product with scale mant * 2^exp"),
        Instruction(Opcode.VAR, (var,), "factor: variable v"),
        Instruction(Opcode.BRK, (var, const), "factor: (v + c)"),
        Instruction(Opcode.SGN, (var,), "factor: sgn(v), v in w, d, t"),
        Instruction(Opcode.CONST, (const,), "factor: constant c"),
        Instruction(Opcode.UVAR, (k,), "factor: uK, 1 every 2^K steps"),
        Instruction(Opcode.UBRK, (k, const), "factor: (uK + c)"),
        Instruction(Opcode.END, (), "end of the program"),
    ]
    return {ins.opcode: ins for ins in table}


def factor_opcode(kind: str, variable: str | None) -> Opcode:
    """Opcode that encodes a factor of ``kind`` over ``variable`` (``uK`` has its own)."""
    named, u = FACTOR_OPCODES[kind]
    if variable is not None and variable not in VARIABLE_CODES and u is not None:
        return u
    return named


def padded_nibbles(n: int) -> int:
    """``n`` nibbles rounded up to whole words."""
    return -(-n // WORD_NIBBLES) * WORD_NIBBLES


def capacity_nibbles(spec: HardwareSpec) -> int:
    """Usable nibbles of one learning profile: the size limit rounded down to whole words."""
    return spec.microcode_nibbles // WORD_NIBBLES * WORD_NIBBLES
