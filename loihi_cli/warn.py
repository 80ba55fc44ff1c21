"""Python warnings on the command line: one ``warning: <message>`` line each, never a source line."""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator


@contextlib.contextmanager
def cli_warnings() -> Iterator[None]:
    """Inside, every warning is printed to stderr as ``warning: <message>`` (each distinct message once)."""
    seen: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        text = str(message)
        if text not in seen:
            seen.add(text)
            print(f"warning: {text} ({category.__name__})", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show
        yield
