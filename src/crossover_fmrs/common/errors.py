"""One error type for bad input, with a one-line message a user can act on.

The engine has its twin (lmmkit.errors.LmmInputError, the same message). Deriving this from it
would make every job of the workflow run lmmkit's package init, so that any edit of the engine
reruns the whole pipeline (rules/common.smk code_version): the few lines are kept twice."""

from __future__ import annotations


class InputError(ValueError):
    """Raised when a raw file or a setting is not what the pipeline expects.

    The message always names the file, the place in it (line, row or participant), the column
    or field, and what was expected, so that it fits on one line of a log.
    """

    def __init__(self, file, where: str | None, column: str | None, expected: str, got=None):
        self.file = str(file)
        self.where = where
        self.column = column
        self.expected = expected
        self.got = got
        parts = [self.file]
        if where:
            parts.append(where)
        if column:
            parts.append(f"column '{column}'")
        message = ", ".join(parts) + f": expected {expected}"
        if got is not None:
            message += f", got {got!r}"
        super().__init__(message)
