"""Learning-rule language and its 4-bit microcode."""

from microcode.assembler import Microcode, assemble, decode, disassemble, listing
from microcode.check import check_program, normalize_scale
from microcode.errors import (
    MicrocodeError,
    RuleBracketError,
    RuleDependencyError,
    RuleDuplicateError,
    RuleError,
    RuleLimitError,
    RuleMissingOperandError,
    RuleMissingOperatorError,
    RuleNameError,
    RuleRangeError,
    RuleStatementError,
    RuleSyntaxError,
)
from microcode.ir import Factor, Product, Program, Rule
from microcode.parser import parse
from microcode.printer import format_program, format_rule

__all__ = [
    "Factor", "Product", "Program", "Rule",
    "parse", "format_program", "format_rule", "check_program", "normalize_scale",
    "Microcode", "assemble", "disassemble", "decode", "listing",
    "RuleError", "RuleSyntaxError", "RuleMissingOperandError", "RuleMissingOperatorError", "RuleBracketError",
    "RuleStatementError", "RuleNameError", "RuleRangeError", "RuleLimitError", "RuleDependencyError",
    "RuleDuplicateError", "MicrocodeError",
]
