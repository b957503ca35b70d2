"""The columns each figure reads from the pipeline's tables, and checks of their values.

Tables are read by common.tables.read_table with the kinds below, so a malformed cell is a
one-line InputError naming its line; only the columns a figure uses are checked, so an extra
column upstream breaks nothing. The path travels with the frame in `frame.attrs["source"]`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..common.errors import InputError
from ..common.tables import read_table

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
# results/qc/mrs_qc_flags.tsv: the QC decision of every spectrum x criterion (qc.mrs.qc_flags)
FLAG_COLUMNS = {
    "participant_id": "str!",
    "condition": "str!",
    "block": "int!",
    "criterion": "str!",
    "value": "float",
    "threshold": "float!",
    "rule": "str",
    "available": "bool!",
    "flagged": "bool!",
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
    "tier": "int!",
    "arm": "str!",
    "stage": "str!",
    "condition": "str!",
    "n_participants": "int!",
    "n_observations": "float",
    "unit": "str",
    "note": "str",
}


def source_of(frame: pd.DataFrame, default: str = "<table>") -> str:
    return frame.attrs.get("source", default)


def read_spectra(path: str | Path) -> pd.DataFrame:
    """results/qc/mrs_spectra.tsv: one row per spectrum with ratio, QC decision and quality
    measures."""
    return read_table(path, SPECTRA_COLUMNS)


def read_flags(path: str | Path) -> pd.DataFrame:
    """results/qc/mrs_qc_flags.tsv: one row per spectrum x QC criterion with value, threshold and
    whether it is flagged."""
    return read_table(path, FLAG_COLUMNS)


def read_participants(path: str | Path) -> pd.DataFrame:
    """results/tidy/participants.tsv: participant_id and sex."""
    return read_table(path, PARTICIPANT_COLUMNS)


def read_scores(path: str | Path) -> pd.DataFrame:
    """results/tidy/clinical_scores.tsv: one row per participant x condition x time point x
    outcome."""
    return read_table(path, SCORE_COLUMNS)


def read_flow(path: str | Path) -> pd.DataFrame:
    """results/stats/participant_flow.tsv: stages of the participant flow."""
    return read_table(path, FLOW_COLUMNS)


def require_columns(frame: pd.DataFrame, columns) -> None:
    """Frames built in memory get the same column check as files read from disk."""
    for column in columns:
        if column not in frame.columns:
            raise InputError(
                source_of(frame), "header", column, "a column of this name", list(frame.columns)
            )


def check_levels(
    frame: pd.DataFrame, column: str, allowed, what: str, where_column: str = "participant_id"
) -> None:
    """Every value of `column` is one of `allowed` (e.g. the configured conditions)."""
    allowed = list(allowed)
    bad = frame.loc[~frame[column].isin(allowed)]
    if len(bad):
        row = bad.iloc[0]
        where = (
            f"{where_column.removesuffix('_id')} {row[where_column]}"
            if where_column in frame.columns
            else f"row {bad.index[0] + 1}"
        )
        raise InputError(
            source_of(frame),
            where,
            column,
            f"one of {', '.join(map(str, allowed))} ({what})",
            row[column],
        )


def check_unique(frame: pd.DataFrame, keys: list[str]) -> None:
    """One row per key, e.g. per participant x condition x block."""
    duplicated = frame.duplicated(keys, keep="first")
    if duplicated.any():
        row = frame.loc[duplicated].iloc[0]
        key = ", ".join(f"{k}={row[k]}" for k in keys)
        raise InputError(
            source_of(frame),
            f"participant {row['participant_id']}",
            None,
            f"one row per {' x '.join(keys)}",
            f"a second row for {key}",
        )
