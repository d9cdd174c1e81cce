"""One error hierarchy for lichain, and the located validation problem.

Validation reports problems as values (``Problem``) so a whole document is checked in one pass; exceptions
are kept for programming errors and for callers that want to stop on the first failure. Every error subclasses
the matching builtin so ``except ValueError`` in user code keeps working.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ChainBrokenError",
    "ChoiceError",
    "ConflictError",
    "FormulaError",
    "LichainError",
    "NotFoundError",
    "PeriodError",
    "Problem",
    "RecipeError",
    "StorageError",
    "ValidationFailed",
]


class LichainError(Exception):
    """Base of every lichain error."""


class FormulaError(LichainError, ValueError):
    """A chemical formula is malformed or names an unknown element."""


class RecipeError(LichainError, ValueError):
    """A recipe request is impossible (composition not summing to 1, non-positive mass, Li/Me below 1)."""


class NotFoundError(LichainError, KeyError):
    """A lot, run, site or event that was asked for does not exist."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not found"


class ChoiceError(LichainError, ValueError):
    """An argument is not one of the values it may take (the message lists them)."""


class PeriodError(LichainError, ValueError):
    """A reporting period that cannot be parsed or is empty."""


class StorageError(LichainError, RuntimeError):
    """The store cannot be opened or migrated."""


class ConflictError(StorageError):
    """A write clashed with what another writer stored (a uniqueness constraint); nothing was written."""


class ChainBrokenError(LichainError, ValueError):
    """The event hash chain does not verify."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One located validation problem: where (document, line, JSON pointer, sheet!cell) and what."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class ValidationFailed(LichainError, ValueError):
    """A document was refused; ``problems`` lists every problem found, each with its location."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        first = str(self.problems[0]) if self.problems else "invalid"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(first + more)
