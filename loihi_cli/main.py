"""Entry point of ``loihi-emu``: collects the sub-commands of each command module.

One handler here maps every failure to one line on stderr,
``loihi-emu <cmd>: <ErrorType>: <what, naming the file / item>``, and an exit
code (docs/errors.md): 0 success, 1 error, 2 usage (bad arguments), 130
interrupted (Ctrl-C). A closed output pipe (``loihi-emu compile ... | head``)
ends quietly. Python warnings print as one ``warning:`` line. ``--debug``
(anywhere on the command line) also prints the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
import warnings

from loihi_emu.errors import LoihiError, UsageError
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
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPT = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and raise :class:`UsageError` (exit 2)."""

    def error(self, message: str):
        raise UsageError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="loihi-emu",
        description="Compile spiking networks for Loihi 1 and run them bit-exactly.",
        epilog="Add --debug anywhere to print the traceback of an error. Exit codes: 0 ok, 1 error, "
               "2 usage, 130 interrupted (docs/errors.md).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def one_line(text: str) -> str:
    """A message on one line: lines joined with ' | ', caret-only lines dropped."""
    lines = [ln.strip() for ln in str(text).splitlines()]
    return " | ".join(ln for ln in lines if ln and set(ln) - set("^ ~"))


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {one_line(message)} ({category.__name__})", file=sys.stderr)


def _describe(exc: BaseException) -> tuple[str, int]:
    """(message, exit code) of an exception that ended a command."""
    if isinstance(exc, UsageError):
        return f"usage: {one_line(exc)}", EXIT_USAGE
    if isinstance(exc, (LoihiError, RuleError)):
        return f"{type(exc).__name__}: {one_line(exc)}", EXIT_ERROR
    if isinstance(exc, MemoryError):
        return "MemoryError: out of memory (try fewer steps, fewer probes or a smaller network)", EXIT_ERROR
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        return f"{type(exc).__name__}: {exc.strerror or one_line(exc)}{where}", EXIT_ERROR
    if isinstance(exc, RecursionError):
        return "RecursionError: input nested too deeply", EXIT_ERROR
    return (f"internal error {type(exc).__name__}: {one_line(exc)} (please report it with the output of --debug)",
            EXIT_ERROR)


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the interpreter's final flush stays silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    command = next((a for a in argv if not a.startswith("-")), "")
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warning_line
            args = build_parser().parse_args(argv)
            command = args.command
            rc = int(args.func(args) or 0)
            sys.stdout.flush()
            return rc
    except SystemExit as exc:  # --help, or a command that exits on purpose
        if isinstance(exc.code, str):
            print(f"loihi-emu {command or '?'}: {one_line(exc.code)}", file=sys.stderr)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_ERROR)
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"loihi-emu {command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPT
    except Exception as exc:  # noqa: BLE001 - the one place that turns every error into one line
        if debug:
            traceback.print_exc()
        msg, rc = _describe(exc)
        try:
            print(f"loihi-emu {command or '?'}: {msg}", file=sys.stderr)
        except (OSError, ValueError):
            pass
        return rc


if __name__ == "__main__":
    sys.exit(main())
