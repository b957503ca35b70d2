"""lmmkit's one error type for input it cannot fit, with a one-line message a user can act on."""

from __future__ import annotations


class LmmInputError(ValueError):
    """Raised when data, a formula or a setting cannot be fitted as asked.

    The message names the data (``source``), the place in it (row, term, setting), the column or
    field, what was expected and what was found, so that it fits on one line of a log. The parts
    are kept as attributes (``file``, ``where``, ``column``, ``expected``, ``got``) so that a
    caller can re-raise them as its own error type.

    Examples
    --------
    >>> from lmmkit import LmmInputError
    >>> str(LmmInputError("data.tsv", "row 3", "y", "a number", "abc"))
    "data.tsv, row 3, column 'y': expected a number, got 'abc'"
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
