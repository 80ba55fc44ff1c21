"""``loihi-emu asm`` / ``disasm`` through ``loihi_cli.main.main``."""

from __future__ import annotations

from pathlib import Path

import pytest

import loihi_cli.main as cli
from microcode import assemble, parse

PAIR_STDP = "# pair STDP\ndw = 2^-2*x1*y0 - 2^-2*y1*x0\n"


@pytest.fixture(autouse=True)
def _only_asm_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    # Other command modules are built elsewhere; test this one alone.
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("loihi_cli.asm_cmds",))


def test_asm_and_disasm_are_commands_of_the_real_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the full command set, as installed
    parser = cli.build_parser()
    for command in ("asm", "disasm"):
        args = parser.parse_args([command, "rule.txt"])
        assert args.command == command and callable(args.func)


def test_asm_prints_hex_and_listing_and_writes_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rule = tmp_path / "stdp.rule"
    rule.write_text(PAIR_STDP, encoding="utf-8")
    out = tmp_path / "stdp.bin"
    assert cli.main(["asm", str(rule), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "1021E31332FE3430" in printed and "F000000000000000" in printed
    assert "; dw = 2^-2*x1*y0 - 2^-2*y1*x0" in printed
    assert "     2  2 1 E       PROD scale 1*2^-2" in printed
    assert "    16  F           END" in printed
    assert out.read_bytes() == assemble(parse(PAIR_STDP)).to_bytes()


def test_disasm_prints_canonical_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.bin"
    out.write_bytes(assemble(parse("dw = 2^-2*x1*y0-2^-2*y1*x0; dt = u3*(-2)")).to_bytes())
    assert cli.main(["disasm", str(out)]) == 0
    assert capsys.readouterr().out == "dw = 2^-2*x1*y0 - 2^-2*y1*x0\ndt = u3*(-2)\n"


def test_asm_rule_error_goes_to_stderr_with_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rule = tmp_path / "bad.rule"
    rule.write_text("dw = 2^-2*x1*y0\ndd = 9*x0\n", encoding="utf-8")
    out = tmp_path / "bad.bin"
    assert cli.main(["asm", str(rule), "-o", str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines()[1:] == ["  at line 2, column 6:", "    dd = 9*x0", "         ^"]
    assert "split the product" in captured.err
    assert not out.exists()


def test_disasm_bad_microcode_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(bytes.fromhex("10A0000000000000"))
    assert cli.main(["disasm", str(bad)]) == 1
    assert capsys.readouterr().err.strip() == "nibble 2: unknown opcode 0xA"


def test_missing_file_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["asm", str(tmp_path / "nope.rule")]) == 1
    assert "cannot read" in capsys.readouterr().err
