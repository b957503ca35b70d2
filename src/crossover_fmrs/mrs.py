"""A whole study's fMRS fit files -> the tidy MRS table (tidy.MRS_COLUMNS).

Raw layout (BIDS-like, sessions named by condition):

    <data_dir>/sub-01/ses-placebo/mrs/sub-01_ses-placebo_block-01.table   one LCModel fit per block
    <data_dir>/sub-01/ses-placebo/mrs/sub-01_ses-placebo_blocks.tsv       block timing sidecar

The sidecar has columns block (1, 2, ...), onset_min, offset_min (minutes from the start of the
ketamine infusion; the baseline block ends at or before 0) and phase (baseline|infusion).
A missing session is legitimate (returned as absent, for QC to report); a file of an unknown
participant or condition, a table without a sidecar row and a sidecar row without a table
are errors.

Other fitting tools' outputs (LCModel -csv, FSL-MRS, fsl_dynmrs, Osprey, a plain tidy TSV) are
read by crossover_fmrs.formats, selected by config mrs.format; every reader returns this table.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from .errors import InputError
from .participants import read_tsv_text
from .tidy import CANONICAL_METABOLITES, MRS_COLUMNS

SOURCE_TOOL = "LCModel"
# LCModel FINOUT: S/N = 0.5 * max|fit - baseline| over the analysis window / rms of the residuals.
SNR_DEFINITION = (
    "LCModel S/N: maximum of the fitted spectrum minus baseline over the analysis window, "
    "divided by twice the rms of the fit residuals"
)
# Config mrs.format values; crossover_fmrs.formats.FORMATS holds their readers (kept equal by a test).
FORMATS = ("lcmodel_table", "lcmodel_csv", "fsl_mrs", "fsl_dynmrs", "osprey", "tidy_tsv")
PHASES = ("baseline", "infusion")
SIDECAR_COLUMNS = ["block", "onset_min", "offset_min", "phase"]
SPECTRUM_KEYS = ["participant_id", "condition", "block"]
# Ratio columns LCModel computes against total creatine (NAMREL 'Cr' becomes 'Cr+PCr' when PCr is fitted).
_TCR_REFERENCES = {"Cr", "Cre"}

_TABLE_NAME = re.compile(
    r"^(?P<participant>sub-[A-Za-z0-9]+)_ses-(?P<condition>[A-Za-z0-9]+)_block-(?P<block>\d+)\.table$"
)
_SIDECAR_NAME = re.compile(r"^(?P<participant>sub-[A-Za-z0-9]+)_ses-(?P<condition>[A-Za-z0-9]+)_blocks\.tsv$")
_DECIMAL = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")

_FLOAT_COLUMNS = ["onset_min", "offset_min", "concentration", "crlb_percent", "ratio_to_tcr", "fwhm_ppm", "snr"]
_STRING_COLUMNS = ["participant_id", "condition", "metabolite", "tool_metabolite", "snr_definition",
                   "source_tool", "source_file"]


def canonical_name(tool_name: str) -> str:
    """Canonical metabolite name (Glu+Gln -> Glx, NAA+NAAG -> tNAA, ...); others keep theirs."""
    return CANONICAL_METABOLITES.get(tool_name, tool_name)


def _relative(path: Path, data_dir: Path) -> str:
    return path.relative_to(data_dir).as_posix()


def read_blocks_sidecar(path: str | Path, label: str | None = None) -> pd.DataFrame:
    """Validated block timing: sorted, non-overlapping blocks, baseline before the infusion starts."""
    path = Path(path)
    label = label or path.name
    rows = read_tsv_text(path)
    header, body = rows[0], rows[1:]
    for column in SIDECAR_COLUMNS:
        if column not in header:
            raise InputError(label, "line 1", column, "a column of this name in the header", header)
    if not body:
        raise InputError(label, "line 2", None, "one row per block", "no rows")
    position = {column: header.index(column) for column in SIDECAR_COLUMNS}
    records = []
    for number, row in enumerate(body, start=2):
        where = f"line {number}"
        block_text = row[position["block"]].strip()
        if not block_text.isdigit() or int(block_text) < 1:
            raise InputError(label, where, "block", "a block number 1, 2, ...", block_text)
        record = {"block": int(block_text), "line": number}
        for column in ("onset_min", "offset_min"):
            text = row[position[column]].strip()
            if not _DECIMAL.match(text):
                raise InputError(label, where, column, "minutes from the start of the infusion (a number)", text)
            record[column] = float(text)
        phase = row[position["phase"]].strip()
        if phase not in PHASES:
            raise InputError(label, where, "phase", "one of baseline, infusion", phase)
        record["phase"] = phase
        if not record["onset_min"] < record["offset_min"]:
            raise InputError(label, where, "offset_min", f"a time after onset_min ({record['onset_min']:g})",
                             row[position["offset_min"]].strip())
        if phase == "baseline" and record["offset_min"] > 0:
            raise InputError(label, where, "offset_min", "a baseline block ending at or before 0 (infusion start)",
                             record["offset_min"])
        if phase == "infusion" and record["onset_min"] < 0:
            raise InputError(label, where, "onset_min", "an infusion block starting at or after 0 (infusion start)",
                             record["onset_min"])
        if records:
            previous = records[-1]
            if record["block"] <= previous["block"]:
                after = f"after block {previous['block']} on line {previous['line']}"
                raise InputError(label, where, "block", f"blocks in increasing order ({after})", record["block"])
            if record["onset_min"] < previous["offset_min"]:
                raise InputError(label, where, "onset_min",
                                 f"no overlap with block {previous['block']}, which ends at {previous['offset_min']:g}",
                                 record["onset_min"])
        records.append(record)
    return pd.DataFrame.from_records(records)


def _tcr_ratio(rows, reference: str) -> dict[str, float]:
    """ratio_to_tcr per tool name: the printed column when it is relative to total creatine."""
    names = {row.metabolite for row in rows}
    if canonical_name(reference) == "tCr" or (reference in _TCR_REFERENCES and "PCr" not in names):
        return {row.metabolite: row.ratio_to_reference for row in rows}
    tcr = next((row.concentration for row in rows if canonical_name(row.metabolite) == "tCr"), math.nan)
    return {row.metabolite: (row.concentration / tcr if tcr > 0 else math.nan) for row in rows}


def _empty_tidy() -> pd.DataFrame:
    frame = pd.DataFrame({column: pd.Series([], dtype=object) for column in MRS_COLUMNS})
    return _typed(frame)


def tidy_frame(records: list[dict]) -> pd.DataFrame:
    """The tidy MRS table (MRS_COLUMNS, fixed dtypes) from row dicts in the order given."""
    if not records:
        return _empty_tidy()
    return _typed(pd.DataFrame.from_records(records)).reset_index(drop=True)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame[MRS_COLUMNS].copy()
    frame["block"] = frame["block"].astype("int64")
    for column in _FLOAT_COLUMNS:
        frame[column] = frame[column].astype("float64")
    frame["crlb_undetermined"] = frame["crlb_undetermined"].astype(bool)
    for column in _STRING_COLUMNS:
        frame[column] = frame[column].astype("str")
    return frame


def read_study_mrs(data_dir: str | Path, participants: pd.DataFrame, conditions: list[str],
                   fmt: str = "lcmodel_table", larmor_mhz: float | None = None) -> pd.DataFrame:
    """Tidy MRS table of a study: one row per participant x condition x block x metabolite.

    Sorted by participant_id, condition (in the configured order), block, then the tool's row
    order. Sessions without files are absent (see mrs_sessions); values are as the tool printed
    them, with crlb_percent NaN and crlb_undetermined True where LCModel gave 999%.
    `fmt` is config mrs.format; `larmor_mhz` (config mrs.larmor_mhz) converts linewidths that a
    tool writes in Hz (fsl_mrs, Osprey 2) to ppm.
    """
    from .formats import read_format  # formats builds on this module: import on use

    return read_format(fmt, data_dir, participants, list(conditions), larmor_mhz=larmor_mhz)


def mrs_sessions(tidy: pd.DataFrame, participants: pd.DataFrame, conditions: list[str]) -> pd.DataFrame:
    """Every participant x condition with its number of fMRS blocks; n_blocks 0 = session absent."""
    counts = tidy.groupby(["participant_id", "condition"], sort=True)["block"].nunique()
    records = [
        {"participant_id": participant, "condition": condition,
         "n_blocks": int(counts.get((participant, condition), 0))}
        for participant in sorted(participants["participant_id"].astype(str))
        for condition in conditions
    ]
    frame = pd.DataFrame.from_records(records, columns=["participant_id", "condition", "n_blocks"])
    frame["present"] = frame["n_blocks"] > 0
    return frame


def ratio_table(tidy: pd.DataFrame, numerator: str = "Glx", denominator: str = "tNAA") -> pd.DataFrame:
    """One row per participant x condition x block with numerator/denominator concentrations.

    The ratio is NaN, with the reason, where either metabolite is missing, has an undetermined
    %SD (LCModel 999%) or the denominator is not positive. Order follows the tidy table.
    """
    keys = SPECTRUM_KEYS + ["onset_min", "offset_min", "source_file"]
    spectra = tidy[keys].drop_duplicates(SPECTRUM_KEYS).reset_index(drop=True)
    for metabolite, label in ((numerator, "numerator"), (denominator, "denominator")):
        part = tidy.loc[tidy["metabolite"] == metabolite, SPECTRUM_KEYS + ["concentration", "crlb_undetermined"]]
        part = part.rename(columns={"concentration": f"{label}_concentration",
                                    "crlb_undetermined": f"{label}_undetermined"})
        spectra = spectra.merge(part, on=SPECTRUM_KEYS, how="left", validate="one_to_one")
    reasons = []
    for row in spectra.itertuples(index=False):
        why = []
        for metabolite, label in ((numerator, "numerator"), (denominator, "denominator")):
            value = getattr(row, f"{label}_concentration")
            if pd.isna(value):
                why.append(f"{metabolite} missing")
            elif bool(getattr(row, f"{label}_undetermined")):
                why.append(f"{metabolite} %SD undetermined (999)")
        if not why and not row.denominator_concentration > 0:
            why.append(f"{denominator} concentration not positive")
        reasons.append("; ".join(why))
    spectra["reason"] = reasons
    usable = spectra["reason"] == ""
    spectra["ratio"] = (spectra["numerator_concentration"] / spectra["denominator_concentration"]).where(usable)
    spectra["numerator"] = numerator
    spectra["denominator"] = denominator
    columns = keys[:5] + ["numerator", "denominator", "numerator_concentration", "denominator_concentration",
                          "ratio", "reason", "source_file"]
    return spectra[columns]
