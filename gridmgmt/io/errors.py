"""Errors for bad input files: each names the file, the row or feature, and the reason."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file."""

    path: str
    reason: str
    row: int | None = None
    feature_id: str | None = None

    def __str__(self) -> str:
        where = Path(self.path).name
        if self.row is not None:
            where += f", row {self.row}"
        if self.feature_id is not None:
            where += f", feature {self.feature_id}"
        return f"{where}: {self.reason}"


class InputError(ValueError):
    """A file cannot be imported; nothing was written.

    ``problems`` lists every problem found (at most :data:`MAX_LISTED` are
    spelled out in the message); ``path``, ``row``, ``feature_id`` and
    ``reason`` are those of the first.
    """

    MAX_LISTED = 10

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        if not self.problems:
            raise ValueError("InputError needs at least one problem")
        first = self.problems[0]
        self.path, self.row, self.feature_id, self.reason = (
            first.path,
            first.row,
            first.feature_id,
            first.reason,
        )
        lines = [str(p) for p in self.problems[: self.MAX_LISTED]]
        if len(self.problems) > self.MAX_LISTED:
            lines.append(f"... and {len(self.problems) - self.MAX_LISTED} more problem(s)")
        super().__init__("\n".join(lines))

    @classmethod
    def single(cls, path, reason: str, *, row: int | None = None, feature_id=None) -> InputError:
        return cls(Problem(str(path), reason, row, None if feature_id is None else str(feature_id)))
