"""Typed errors of the learning-rule language and its microcode.

Every error is a :class:`RuleError` (a ``ValueError``) carrying the 1-based
``line`` and ``column`` of the offending text; ``str(err)`` prints the message,
the source line and a caret under the column. Which subclass a grammar error
gets is chosen by example bad inputs (``microcode/parser.py``), as in lark's
``examples/advanced/error_reporting_lalr.py``. docs/learning-language.md shows
an example of each class.
"""

from __future__ import annotations


class RuleError(ValueError):
    """Base class: a learning rule (text, IR or microcode) the engine cannot run.

    ``line`` and ``column`` are 1-based positions in the rule text, or ``None``
    (or 0) when the error does not come from text. ``source`` is the whole rule
    text when known; ``str()`` then quotes the offending line with a caret.
    """

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 source: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.source = source

    def at(self, line: int | None, column: int | None) -> RuleError:
        """Set the position if it is not set yet; return ``self`` (for ``raise err.at(...)``)."""
        if not self.line:
            self.line, self.column = line, column
        return self

    def source_line(self) -> str | None:
        """The text of the offending line, or ``None`` when unknown."""
        if self.source is None or not self.line or self.line < 1:
            return None
        lines = self.source.split("\n")
        return lines[self.line - 1].rstrip("\r") if self.line <= len(lines) else None

    def __str__(self) -> str:
        if not self.line or not self.column:
            return self.message
        parts = [f"{self.message}\n  at line {self.line}, column {self.column}:"]
        text = self.source_line()
        if text is not None:
            pad = "".join(c if c == "\t" else " " for c in text[: self.column - 1])
            parts.append(f"    {text}\n    {pad}^")
        return "\n".join(parts)


class RuleSyntaxError(RuleError):
    """The text does not follow the grammar (or writes a scale or bracket in a form it has no meaning for)."""


class RuleMissingOperandError(RuleSyntaxError):
    """An operator, ``=`` or ``^`` is not followed by what it needs (``dw = x0 +``)."""


class RuleMissingOperatorError(RuleSyntaxError):
    """Two factors, or two statements, follow each other without ``*``, ``+``, ``-`` or a separator."""


class RuleBracketError(RuleSyntaxError):
    """A bracket is unbalanced or holds something other than ``variable +/- constant``."""


class RuleStatementError(RuleSyntaxError):
    """A statement is not ``target = sum`` (no target, no ``=``, or a second ``=``)."""


class RuleNameError(RuleSyntaxError):
    """An unknown variable or target name, or ``sgn()`` of a variable other than w, d, t."""


class RuleRangeError(RuleError):
    """A number does not fit its field: a scale, a constant, or the K of ``uK``."""


class RuleLimitError(RuleError):
    """The rule needs more products, factors or microcode than the learning engine holds."""


class RuleDependencyError(RuleError):
    """A product has no dependency factor (``x0``, ``y0`` or ``uK``), so it is never evaluated."""


class RuleDuplicateError(RuleError):
    """A target (``dw``, ``dd`` or ``dt``) is assigned twice in one program."""


class MicrocodeError(RuleError):
    """Bad microcode: unknown opcode, truncated, over size, or decoding to an invalid rule.

    ``offset`` is the nibble offset (0-based) of the offending nibble; the
    message names it. ``line`` and ``column`` are ``None``.
    """

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"nibble {offset}: {message}")
        self.offset = offset
