"""Reading and writing the pipeline's tables, and the text readers every stage shares.

- `read_utf8_text`, `read_tsv_text`: raw UTF-8 text and TSV rows (BOM and CRLF accepted) with
  one-line InputErrors naming the file, line and column of a fault.
- `read_table`: one of the pipeline's own tables (TSV, or Parquet by its suffix), written by
  `write_tsv` or `write_parquet`; with `columns` given, only those columns, each checked for its
  kind with the line of any bad cell.
- `write_tsv`, `write_parquet` (`write_table` picks by suffix), `atomic_write_text`,
  `atomic_write_bytes`: deterministic output written through a temporary file, so no reader ever
  sees half a file.
- `order_conditions`: the meaning of participants.tsv's `order` column.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError

# IDs and labels stay strings (sub-01 must not become a number, "1" periods stay labels).
STRING_COLUMNS = {
    "participant_id": str,
    "condition": str,
    "timepoint": str,
    "scale": str,
    "outcome": str,
    "sex": str,
    "order": str,
    "flags": str,
    "excluded_by": str,
    "site": str,
}
# The site column of a pooled study (ingest names it so, whatever study.site_column says).
SITE = "site"
# One spectrum: a participant's block of one condition's session (the key of the QC tables).
SPECTRUM_KEYS = ["participant_id", "condition", "block"]


def is_multisite(table: pd.DataFrame) -> bool:
    """A pooled study: a site column with more than one site. A study without the column, or
    with one site, is analysed exactly as a single-site study."""
    return SITE in table and table[SITE].nunique() > 1


# Kinds for read_table(columns=...); a trailing "!" means the value may not be missing.
MISSING = {"NA", ""}
BOOLEANS = {"true": True, "false": False}


# ---------------------------------------------------------------------------------------------
# Text


def read_utf8_text(path: str | Path, what: str = "a UTF-8 text file") -> str:
    """Text of a UTF-8 file without its BOM; InputError for a missing file or a non-UTF-8 byte.

    A bad byte is reported by line and, for a TSV, by the header's column, so a user can find
    the cell a spreadsheet saved as Latin-1 or Windows-1252.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, None, None, what, "no such file") from None
    except OSError as err:
        raise InputError(path, None, None, what, err.strerror or type(err).__name__) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line_start = data.rfind(b"\n", 0, err.start) + 1
        number = data.count(b"\n", 0, err.start) + 1
        column = None
        if number > 1:
            header = (
                data[: data.find(b"\n")]
                .decode("utf-8-sig", errors="replace")
                .rstrip("\r")
                .split("\t")
            )
            position = data.count(b"\t", line_start, err.start)
            column = header[position] if position < len(header) else None
        got = f"byte 0x{data[err.start]:02x} (a file saved as Latin-1 or Windows-1252?)"
        raise InputError(path, f"line {number}", column, "UTF-8 text", got) from None


def delimiter_of(header_line: str) -> str | None:
    """What separates the fields of a header read as one field ('commas' from a CSV export), or
    None."""
    for name, mark in (("commas", ","), ("semicolons", ";")):
        if mark in header_line:
            return name
    return None


def read_tsv_text(path: str | Path) -> list[list[str]]:
    """Rows of a UTF-8 TSV as strings; a BOM and CRLF line endings are accepted.

    Raises InputError for a missing or empty file, a byte that is not UTF-8, a file that is not
    tab-separated, a repeated column name and rows whose number of fields differs from the header.
    """
    path = Path(path)
    text = read_utf8_text(path, "a tab-separated file at this path")
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise InputError(path, "line 1", None, "a tab-separated header row", "an empty file")
    rows = list(csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
    header = rows[0]
    separator = delimiter_of(header[0]) if len(header) == 1 else None
    if separator:
        raise InputError(
            path, "line 1", None, "tab-separated columns", f"columns separated by {separator}"
        )
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:  # pandas would keep both and the parser read the first, silently
        raise InputError(path, "line 1", repeated[0], "each column name once", "a repeated column")
    for number, row in enumerate(rows[1:], start=2):
        if row and len(row) != len(header):
            raise InputError(
                path, f"line {number}", None, f"{len(header)} tab-separated fields", len(row)
            )
    return [row for row in rows if row]


def order_conditions(order: str) -> list[str]:
    """Conditions in the order they were given: 'placebo-naltrexone' -> ['placebo',
    'naltrexone']."""
    return order.split("-")


# ---------------------------------------------------------------------------------------------
# The pipeline's own tables


def read_table(path: str | Path, columns: dict[str, str] | None = None) -> pd.DataFrame:
    """A TSV written by write_tsv.

    Without `columns`: every column, IDs and labels as strings, "NA" as missing. With `columns`
    ({name: kind}, kind one of str, int, float, bool, with "!" when a value may not be missing):
    only those columns, each converted to its kind, an InputError naming the line of the first
    bad cell; the path travels with the frame in `frame.attrs["source"]`.
    """
    if columns is None:
        if str(path).endswith(".parquet"):
            return pd.read_parquet(path, engine="pyarrow")  # written by write_parquet
        frame = pd.read_csv(
            path, sep="\t", dtype=STRING_COLUMNS, na_values=["NA"], keep_default_na=False
        )
        for column in ("flags", "excluded_by"):
            if column in frame:
                frame[column] = frame[column].fillna("")
        return frame
    path = str(path)
    if not Path(path).is_file():
        raise InputError(path, None, None, "an existing file", "no such file")
    if path.endswith(".parquet"):
        stored = pd.read_parquet(path, engine="pyarrow")
        header = list(stored.columns)
    else:
        rows = read_tsv_text(path)
        header, body = rows[0], rows[1:]
    for column in columns:
        if column not in header:
            raise InputError(path, "line 1", column, "a column of this name in the header", header)
    if path.endswith(".parquet"):  # the cells as its TSV writes them: one set of checks for both
        raw = pd.read_csv(
            io.StringIO(tsv_text(stored[list(columns)])),
            sep="\t",
            dtype=object,
            keep_default_na=False,
            na_filter=False,
        )
    else:
        raw = pd.DataFrame(body, columns=header, dtype=object)
    frame = pd.DataFrame(
        {column: _convert(raw, path, column, kind) for column, kind in columns.items()}
    )
    frame.attrs["source"] = path
    return frame


def _where(frame: pd.DataFrame, index) -> str:
    where = f"line {index + 2}"  # header is line 1
    if "participant_id" in frame.columns and isinstance(frame.at[index, "participant_id"], str):
        where += f" ({frame.at[index, 'participant_id']})"
    return where


def _convert(raw: pd.DataFrame, path: str, column: str, kind: str) -> pd.Series:
    required = kind.endswith("!")
    kind = kind.rstrip("!")
    text = raw[column]
    missing = text.isna() | text.isin(MISSING)
    if required and missing.any():
        index = missing[missing].index[0]
        raise InputError(
            path, _where(raw, index), column, f"a {kind} value (not missing)", text[index]
        )
    if kind == "str":
        return text.where(~text.isin({"NA"}), np.nan)
    if kind == "bool":
        values = text.str.lower().map(BOOLEANS)
        bad = values.isna() & ~missing
        if bad.any():
            index = bad[bad].index[0]
            raise InputError(path, _where(raw, index), column, "True or False", text[index])
        return values.astype(bool) if required else values.astype(object)
    values = pd.to_numeric(text.where(~missing), errors="coerce")
    bad = values.isna() & ~missing
    if kind == "int":
        bad |= values.notna() & (values != values.round())
    if bad.any():
        index = bad[bad].index[0]
        raise InputError(
            path,
            _where(raw, index),
            column,
            f"{'a whole number' if kind == 'int' else 'a number'} or NA",
            text[index],
        )
    if kind == "int" and required:
        return values.astype("int64")
    return values.astype(float)


@contextmanager
def atomic_stream(path: str | Path, mode: str = "wb"):
    """A file handle on a temporary file in path's folder that becomes path when the block ends
    without an error (else it is removed): readers never see half a file, and a large table is
    written piece by piece instead of as one string in memory."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        text = {"newline": "", "encoding": "utf-8"} if "b" not in mode else {}
        with os.fdopen(handle, mode, **text) as stream:
            yield stream
        os.chmod(scratch, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(scratch, path)
    except BaseException:
        if os.path.exists(scratch):
            os.unlink(scratch)
        raise


def atomic_write_bytes(path: str | Path, content: bytes) -> None:
    """Write via a temporary file in the same folder, so readers never see half a file."""
    with atomic_stream(path) as stream:
        stream.write(content)


def atomic_write_text(path: str | Path, text: str) -> None:
    """UTF-8 text with LF line endings, written atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FLOAT_FORMAT = "%.10g"  # every table's numbers, in TSV and Parquet alike


def tsv_text(frame) -> str:
    """The text of a deterministic TSV: fixed float format, missing values as NA, LF endings."""
    return frame.to_csv(
        sep="\t", index=False, na_rep="NA", float_format=FLOAT_FORMAT, lineterminator="\n"
    )


TSV_CHUNK_ROWS = 100_000  # rows formatted at a time: memory bounded at any table size


def write_tsv(frame, path: str | Path) -> None:
    """Deterministic TSV (the bytes of tsv_text), written atomically and in chunks of rows."""
    with atomic_stream(path, "w") as stream:
        frame.to_csv(
            stream,
            sep="\t",
            index=False,
            na_rep="NA",
            float_format=FLOAT_FORMAT,
            lineterminator="\n",
            chunksize=TSV_CHUNK_ROWS,
        )


def gather_tsv(parts, path: str | Path, on_part=None) -> None:
    """The tables at `parts` (batches of one table, in order) as one TSV at path, the bytes that
    write_tsv of their concatenation gives, read and written one part at a time so that the
    memory is that of the largest part. on_part(frame), if given, sees each part (for checks
    over the whole study)."""
    parts = [parts] if isinstance(parts, (str, Path)) else list(parts)
    with atomic_stream(path, "w") as stream:
        for index, part in enumerate(parts):
            frame = read_table(part)
            if on_part is not None:
                on_part(frame)
            frame.to_csv(
                stream,
                sep="\t",
                index=False,
                header=index == 0,
                na_rep="NA",
                float_format=FLOAT_FORMAT,
                lineterminator="\n",
                chunksize=TSV_CHUNK_ROWS,
            )


def gather_table(parts) -> pd.DataFrame:
    """The tables at `parts` (batches of one table, in order) as one frame."""
    parts = [parts] if isinstance(parts, (str, Path)) else list(parts)
    return pd.concat([read_table(part) for part in parts], ignore_index=True)


def write_table(frame, path: str | Path) -> None:
    """write_parquet for a .parquet path, else write_tsv: the file name says the format."""
    (write_parquet if str(path).endswith(".parquet") else write_tsv)(frame, path)


def write_parquet(frame, path: str | Path) -> None:
    """The table as Apache Parquet, holding exactly what its TSV would give back to read_table
    (the same rounding, the same missing values, the same column kinds), so that a rule reads the
    same numbers from either. Columnar and compressed: later rules read it without parsing text."""
    as_read = read_table(io.StringIO(tsv_text(frame)))
    buffer = io.BytesIO()
    as_read.to_parquet(buffer, index=False, engine="pyarrow", compression="zstd")
    atomic_write_bytes(path, buffer.getvalue())
