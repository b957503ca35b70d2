"""Reading and writing the pipeline's tables, and the text readers every stage shares.

- `read_utf8_text`, `read_tsv_text`: raw UTF-8 text and TSV rows (BOM and CRLF accepted) with
  one-line InputErrors naming the file, line and column of a fault; `check_tsv_layout` makes the
  same checks of a large TSV without building its rows.
- `read_table`: one of the pipeline's own tables (TSV, or Parquet by its suffix), written by
  `write_tsv` or `write_parquet`; `common.schemas.read_checked` reads one and checks its layout.
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


def is_multisite(table: pd.DataFrame) -> bool:
    """A pooled study: a site column with more than one site. A study without the column, or
    with one site, is analysed exactly as a single-site study."""
    return SITE in table and table[SITE].nunique() > 1


# How a missing value is written in a table (write_tsv writes NA).
MISSING = {"NA", ""}


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
    rows = list(csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
    _check_header(path, rows[0] if lines and lines[0].strip() else None)
    header = rows[0]
    for number, row in enumerate(rows[1:], start=2):
        if row and len(row) != len(header):
            raise InputError(
                path, f"line {number}", None, f"{len(header)} tab-separated fields", len(row)
            )
    return [row for row in rows if row]


def _check_header(path: Path, header: list[str] | None) -> None:
    if not header:
        raise InputError(path, "line 1", None, "a tab-separated header row", "an empty file")
    separator = delimiter_of(header[0]) if len(header) == 1 else None
    if separator:
        raise InputError(
            path, "line 1", None, "tab-separated columns", f"columns separated by {separator}"
        )
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:  # pandas would keep both and the parser read the first, silently
        raise InputError(path, "line 1", repeated[0], "each column name once", "a repeated column")


LAYOUT_CHUNK = 1 << 24  # bytes of a TSV checked at a time by check_tsv_layout


def check_tsv_layout(path: str | Path) -> None:
    """The checks of read_tsv_text without building the rows: UTF-8, a tab-separated header of
    distinct names, and as many fields on every line as in the header. Our own: pandas' parser
    fills a short row with NA without a word and stops at a long one with a traceback. Counted
    with numpy over chunks of the bytes, so time is linear and memory bounded at any size."""
    path = Path(path)
    with open(path, "rb") as stream:
        first = stream.readline()
        try:
            header_line = first.decode("utf-8-sig").rstrip("\r\n")
        except UnicodeDecodeError:
            read_utf8_text(path, "a tab-separated file at this path")  # names the line and column
        _check_header(path, header_line.split("\t") if header_line.strip() else None)
        fields = header_line.count("\t") + 1
        line, rest = 2, b""
        while block := stream.read(LAYOUT_CHUNK):
            block, rest = _whole_lines(rest + block)
            line = _check_fields(path, block, line, fields)
        if rest:
            _check_fields(path, rest + b"\n", line, fields)


def _whole_lines(data: bytes) -> tuple[bytes, bytes]:
    cut = data.rfind(b"\n") + 1
    return data[:cut], data[cut:]


def _check_fields(path: Path, block: bytes, first_line: int, fields: int) -> int:
    """InputError for a line of block (whole lines, the first numbered first_line) that is not
    UTF-8 or whose number of fields is not `fields`; returns the number of the next line."""
    try:
        block.decode("utf-8")
    except UnicodeDecodeError:
        read_utf8_text(path, "a tab-separated file at this path")  # names the line and column
    data = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(data == 0x0A)
    starts = np.concatenate(([0], ends[:-1] + 1))
    tabs = np.flatnonzero(data == 0x09)
    counts = np.searchsorted(tabs, ends) - np.searchsorted(tabs, starts) + 1
    empty = (ends == starts) | ((ends - starts == 1) & (data[starts] == 0x0D))
    bad = np.flatnonzero((counts != fields) & ~empty)
    if len(bad):
        raise InputError(
            path,
            f"line {first_line + bad[0]}",
            None,
            f"{fields} tab-separated fields",
            int(counts[bad[0]]),
        )
    return first_line + len(ends)


def order_conditions(order: str) -> list[str]:
    """Conditions in the order they were given: 'placebo-naltrexone' -> ['placebo',
    'naltrexone']."""
    return order.split("-")


# ---------------------------------------------------------------------------------------------
# The pipeline's own tables


def read_table(path: str | Path) -> pd.DataFrame:
    """A table written by write_tsv or write_parquet (by its suffix): every column, IDs and labels
    as strings, "NA" as missing. Its layout is checked by whoever reads it (common.schemas)."""
    if str(path).endswith(".parquet"):
        return pd.read_parquet(path, engine="pyarrow")  # written by write_parquet
    frame = pd.read_csv(
        path, sep="\t", dtype=STRING_COLUMNS, na_values=["NA"], keep_default_na=False
    )
    for column in ("flags", "excluded_by"):
        if column in frame:
            frame[column] = frame[column].fillna("")
    return frame


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
