"""``loihi-emu asm`` and ``loihi-emu disasm``: learning rules <-> 4-bit microcode.

``asm RULE_FILE [-o OUT.bin]`` parses and assembles a rule file, prints the
microcode as hex words and an annotated listing (nibble offset, nibbles,
meaning), and with ``-o`` writes the bytes (two nibbles a byte, high first).
``disasm FILE.bin`` prints the canonical rule text of a microcode file.
A :class:`~microcode.errors.RuleError` prints to stderr (with its line, column and caret) and exits with 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from loihi_emu.safefile import atomic_write
from microcode import RuleError, assemble, disassemble, format_program, listing, parse
from microcode.encoding import WORD_NIBBLES


def _fail(command: str, message: str) -> int:
    print(f"loihi-emu {command}: {message}", file=sys.stderr)
    return 1


def cmd_asm(args: argparse.Namespace) -> int:
    """Assemble ``args.rule_file``; print hex words and a listing; write ``args.output`` if given."""
    try:
        text = Path(args.rule_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return _fail("asm", f"cannot read {args.rule_file}: {exc}")
    try:
        program = parse(text)
        code = assemble(program)
    except RuleError as err:
        print(str(err), file=sys.stderr)
        return 1
    print(f"; {args.rule_file}: {len(code.nibbles)} nibbles, {len(code.words)} words")
    for line in format_program(program).splitlines():
        print(f"; {line}")
    for i, word in enumerate(code.words):
        print(f"{i * WORD_NIBBLES:>6}  {word:0{WORD_NIBBLES}X}")
    print()
    for line in listing(code):
        print(line)
    if args.output:
        try:
            with atomic_write(args.output, "microcode file") as fh:
                fh.write(code.to_bytes())
        except OSError as exc:
            return _fail("asm", f"cannot write {args.output}: {exc}")
    return 0


def cmd_disasm(args: argparse.Namespace) -> int:
    """Disassemble ``args.file`` and print its canonical rule text."""
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        return _fail("disasm", f"cannot read {args.file}: {exc}")
    try:
        program = disassemble(data)
    except RuleError as err:
        print(str(err), file=sys.stderr)
        return 1
    sys.stdout.write(format_program(program))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``asm`` and ``disasm`` sub-commands."""
    asm = subparsers.add_parser("asm", help="assemble a learning-rule file into microcode",
                                description="Parse a learning-rule file, print its microcode with a listing.")
    asm.add_argument("rule_file", metavar="RULE_FILE", help="rule text, e.g. 'dw = 2^-2*x1*y0 - 2^-2*y1*x0'")
    asm.add_argument("-o", "--output", metavar="OUT.bin", help="write the microcode bytes here")
    asm.set_defaults(func=cmd_asm)
    disasm = subparsers.add_parser("disasm", help="print the rule text of a microcode file",
                                   description="Disassemble microcode bytes into canonical rule text.")
    disasm.add_argument("file", metavar="FILE.bin", help="microcode bytes written by 'asm -o'")
    disasm.set_defaults(func=cmd_disasm)
