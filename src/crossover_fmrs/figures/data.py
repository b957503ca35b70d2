"""Read the tables the figures plot, with one-line InputErrors for anything malformed.

Every table is TSV with "NA" for missing values and True/False booleans (step.write_tsv). Each
reader checks only the columns its figures use, so an extra column upstream breaks nothing.
The path travels with the frame in `frame.attrs["source"]`, so later checks can name the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..participants import read_tsv_text

# Column -> kind; a trailing "!" means the value may not be missing.
SPECTRA_COLUMNS = {
    "participant_id": "str!",
    "condition": "str!",
    "block": "int!",
    "onset_min": "float!",
    "offset_min": "float!",
    "fwhm_ppm": "float",
    "snr": "float",
    "numerator_crlb_percent": "float",
    "denominator_crlb_percent": "float",
    "numerator": "str!",
    "denominator": "str!",
    "ratio": "float",
    "flags": "str",
    "excluded_by": "str",
    "included": "bool!",
}
PARTICIPANT_COLUMNS = {"participant_id": "str!", "sex": "str!"}
SCORE_COLUMNS = {
    "participant_id": "str!",
    "condition": "str!",
    "timepoint": "str!",
    "scale": "str!",
    "outcome": "str!",
    "value": "float",
}
FLOW_COLUMNS = {
    "step": "int!",
    "stage": "str!",
    "condition": "str!",
    "n_participants": "int!",
    "n_observations": "float",
    "note": "str",
}
MISSING = {"NA", ""}
BOOLEANS = {"true": True, "false": False}


def source_of(frame: pd.DataFrame, default: str = "<table>") -> str:
    return frame.attrs.get("source", default)


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
        raise InputError(path, _where(raw, index), column, f"a {kind} value (not missing)", text[index])
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
        raise InputError(path, _where(raw, index), column, f"{'a whole number' if kind == 'int' else 'a number'} or NA",
                         text[index])
    if kind == "int" and required:
        return values.astype("int64")
    return values.astype(float)


def read_table(path: str | Path, columns: dict[str, str]) -> pd.DataFrame:
    """The named columns of a TSV, converted to their kinds; other columns are dropped."""
    path = str(path)
    if not Path(path).is_file():
        raise InputError(path, None, None, "an existing file", "no such file")
    rows = read_tsv_text(path)  # BOM, CRLF, ragged rows and other delimiters handled there
    header, body = rows[0], rows[1:]
    for column in columns:
        if column not in header:
            raise InputError(path, "line 1", column, "a column of this name in the header", header)
    raw = pd.DataFrame(body, columns=header, dtype=object)
    frame = pd.DataFrame({column: _convert(raw, path, column, kind) for column, kind in columns.items()})
    frame.attrs["source"] = path
    return frame


def read_spectra(path: str | Path) -> pd.DataFrame:
    """results/qc/mrs_spectra.tsv: one row per spectrum with ratio, QC decision and quality measures."""
    return read_table(path, SPECTRA_COLUMNS)


def read_participants(path: str | Path) -> pd.DataFrame:
    """results/tidy/participants.tsv: participant_id and sex."""
    return read_table(path, PARTICIPANT_COLUMNS)


def read_scores(path: str | Path) -> pd.DataFrame:
    """results/tidy/clinical_scores.tsv: one row per participant x condition x time point x outcome."""
    return read_table(path, SCORE_COLUMNS)


def read_flow(path: str | Path) -> pd.DataFrame:
    """results/qc/participant_flow.tsv: stages of the participant flow."""
    return read_table(path, FLOW_COLUMNS)


def require_columns(frame: pd.DataFrame, columns) -> None:
    """Frames built in memory get the same column check as files read from disk."""
    for column in columns:
        if column not in frame.columns:
            raise InputError(source_of(frame), "header", column, "a column of this name", list(frame.columns))


def check_levels(frame: pd.DataFrame, column: str, allowed, what: str, where_column: str = "participant_id") -> None:
    """Every value of `column` is one of `allowed` (e.g. the configured conditions)."""
    allowed = list(allowed)
    bad = frame.loc[~frame[column].isin(allowed)]
    if len(bad):
        row = bad.iloc[0]
        where = (f"{where_column.removesuffix('_id')} {row[where_column]}" if where_column in frame.columns
                 else f"row {bad.index[0] + 1}")
        raise InputError(source_of(frame), where, column, f"one of {', '.join(map(str, allowed))} ({what})",
                         row[column])


def check_unique(frame: pd.DataFrame, keys: list[str]) -> None:
    """One row per key, e.g. per participant x condition x block."""
    duplicated = frame.duplicated(keys, keep="first")
    if duplicated.any():
        row = frame.loc[duplicated].iloc[0]
        key = ", ".join(f"{k}={row[k]}" for k in keys)
        raise InputError(source_of(frame), f"participant {row['participant_id']}", None,
                         f"one row per {' x '.join(keys)}", f"a second row for {key}")
