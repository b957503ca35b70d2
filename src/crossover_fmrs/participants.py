"""participants.tsv: read, validate against the data dictionary, and derive each visit's period."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd

from .errors import InputError

# Columns the pipeline needs; other columns (baseline characteristics) are kept as they are.
REQUIRED_COLUMNS = ["participant_id", "sex", "age", "order"]
SEX_CODES = ("M", "F")
PARTICIPANT_PATTERN = r"sub-[A-Za-z0-9]+"


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
            header = data[: data.find(b"\n")].decode("utf-8-sig", errors="replace").rstrip("\r").split("\t")
            position = data.count(b"\t", line_start, err.start)
            column = header[position] if position < len(header) else None
        got = f"byte 0x{data[err.start]:02x} (a file saved as Latin-1 or Windows-1252?)"
        raise InputError(path, f"line {number}", column, "UTF-8 text", got) from None


def delimiter_of(header_line: str) -> str | None:
    """What separates the fields of a header read as one field ('commas' from a CSV export), or None."""
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
        raise InputError(path, "line 1", None, "tab-separated columns", f"columns separated by {separator}")
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:  # pandas would keep both and the parser read the first, silently
        raise InputError(path, "line 1", repeated[0], "each column name once", "a repeated column")
    for number, row in enumerate(rows[1:], start=2):
        if row and len(row) != len(header):
            raise InputError(path, f"line {number}", None, f"{len(header)} tab-separated fields", len(row))
    return [row for row in rows if row]


def order_conditions(order: str) -> list[str]:
    """Conditions in the order they were given: 'placebo-naltrexone' -> ['placebo', 'naltrexone']."""
    return order.split("-")


def check_dictionary(frame: pd.DataFrame, path: Path) -> None:
    """Codes outside the `Levels` of the BIDS data dictionary (participants.json beside the table),
    when there is one, are an error: a sex or order code nobody defined is a typo, not a category."""
    dictionary = path.with_suffix(".json")
    if not dictionary.is_file():
        return
    try:
        described = json.loads(read_utf8_text(dictionary, "a JSON data dictionary"))
    except json.JSONDecodeError as err:
        raise InputError(dictionary, f"line {err.lineno}", None, "valid JSON", err.msg) from None
    for column, spec in described.items():
        levels = spec.get("Levels") if isinstance(spec, dict) else None
        if not levels or column not in frame:
            continue
        for number, (pid, value) in enumerate(zip(frame["participant_id"], frame[column]), start=2):
            if not pd.isna(value) and str(value) not in levels:
                raise InputError(path, f"line {number} ({pid})", column,
                                 f"one of {', '.join(levels)} (the Levels in {dictionary.name})", value)


def read_participants(path: str | Path, conditions: list[str]) -> pd.DataFrame:
    """Validated participants table, sorted by participant_id, IDs kept as strings."""
    path = Path(path)
    rows = read_tsv_text(path)
    header, body = rows[0], rows[1:]
    for column in REQUIRED_COLUMNS:
        if column not in header:
            raise InputError(path, "line 1", column, "a column of this name in the header", header)
    frame = pd.DataFrame(body, columns=header, dtype="string")
    seen: dict[str, int] = {}
    for number, row in enumerate(frame.itertuples(index=False), start=2):
        where = f"line {number}"
        pid = row.participant_id
        if not pd.Series([pid]).str.fullmatch(PARTICIPANT_PATTERN).iloc[0]:
            raise InputError(path, where, "participant_id", "an ID like sub-01", pid)
        if pid in seen:
            raise InputError(path, where, "participant_id", f"each participant once (also on line {seen[pid]})", pid)
        seen[pid] = number
        if row.sex not in SEX_CODES:
            raise InputError(path, f"{where} ({pid})", "sex", "one of M, F", row.sex)
        try:
            age = float(row.age)
        except ValueError:
            raise InputError(path, f"{where} ({pid})", "age", "a number of years", row.age) from None
        if not 0 < age < 120:
            raise InputError(path, f"{where} ({pid})", "age", "an age in years between 0 and 120", row.age)
        order = order_conditions(row.order)
        if sorted(order) != sorted(conditions):
            raise InputError(
                path, f"{where} ({pid})", "order",
                "the configured conditions joined by '-' in the order given, e.g. " + "-".join(conditions),
                row.order,
            )
    check_dictionary(frame, path)
    frame["age"] = frame["age"].astype(float)
    return frame.sort_values("participant_id", kind="stable").reset_index(drop=True)


def period_of(participants: pd.DataFrame) -> pd.DataFrame:
    """One row per participant x condition with the period (1, 2, ...) in which it was given."""
    records = [
        {"participant_id": pid, "condition": condition, "period": position + 1}
        for pid, order in zip(participants["participant_id"], participants["order"])
        for position, condition in enumerate(order_conditions(order))
    ]
    return pd.DataFrame.from_records(records)
