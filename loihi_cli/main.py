"""Entry point of ``loihi-emu``: collects the sub-commands of each command module."""

from __future__ import annotations

import argparse
import importlib
import sys

from loihi_emu.errors import LoihiError
from microcode.errors import RuleError

# Each module defines ``register(subparsers)``; a sub-command's parser sets
# ``func`` to a callable taking the parsed arguments and returning an exit code.
COMMAND_MODULES = (
    "loihi_cli.emu_cmds",
    "loihi_cli.compile_cmds",
    "loihi_cli.asm_cmds",
    "loihi_cli.precision_cmds",
    "loihi_cli.nir_cmds",
    "loihi_cli.plot_cmds",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loihi-emu",
        description="Compile spiking networks for Loihi 1 and run them bit-exactly.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (LoihiError, RuleError) as exc:
        print(f"loihi-emu {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
