"""Where a figure's table came from, for its error messages.

The figure scripts read their tables with common.schemas.read_checked (the layout of each table,
checked once, the path in `frame.attrs["source"]`); the figure functions take the frames as read.
"""

from __future__ import annotations

import pandas as pd

from ..common.errors import InputError


def source_of(frame: pd.DataFrame, default: str = "<table>") -> str:
    return frame.attrs.get("source", default)


def require_columns(frame: pd.DataFrame, columns) -> None:
    """The columns of the participant flow table that figures.flow draws from a frame built in
    memory (the file itself is checked by common.schemas.flow_schema)."""
    for column in columns:
        if column not in frame.columns:
            raise InputError(
                source_of(frame), "header", column, "a column of this name", list(frame.columns)
            )
