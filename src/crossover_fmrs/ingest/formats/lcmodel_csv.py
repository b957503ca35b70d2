"""LCModel's -csv spreadsheet (mrs.format lcmodel_csv), one per block.

The spreadsheet is
written by LCModel when LCSV > 0 (file FILCSV); its layout, from subroutine FINOUT of
LCModel.f 6.3-1N (source public since 2021, github.com/schorschinho/LCModel source/LCModel.f):

    line 1   'Row, Col' then, per concentration-table line, ', <name>, <name> %SD, <name>/<NAMREL>'
             (names cut to 13 characters; NAMREL becomes Cr+PCr when PCr is fitted)
    line 2+  one line per voxel: FORMAT (i3, ', ', i3) for row and column, then per metabolite
             ', ' conc (F8.3 or 1PE8.2), ', ' %SD (I4, capped at 999, no '%'), ', ' ratio
             (F8.3 or 1PE8.1)

The spreadsheet carries no FWHM and no S/N (those are in the .table's $$MISC section), so
fwhm_ppm and snr are NaN for this format and QC cannot apply its FWHM and S/N criteria.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ...common.errors import InputError
from .common import (
    Measure,
    Spectrum,
    parse_number,
    read_delimited,
    relative,
    study_table,
    timed_sessions,
)
from .lcmodel_table import SOURCE_TOOL, UNDETERMINED_SD, ConcRow, tcr_ratio

CSV_SNR_DEFINITION = (
    "not reported: LCModel's -csv spreadsheet has no S/N (and no FWHM); the .table output has both"
)


def parse_csv(path: Path, label: str) -> tuple[str, tuple[ConcRow, ...]]:
    """(NAMREL, rows) of a single-voxel LCModel spreadsheet; InputError names line and column."""
    rows = read_delimited(path, label, ",", "an LCModel -csv spreadsheet (LCSV)")
    header_line, header = rows[0][0], rows[0][1:]
    names, reference = _header_metabolites(header, header_line, label)
    if len(rows) != 2:
        got = "no voxel line" if len(rows) == 1 else f"{len(rows) - 1} voxel lines"
        raise InputError(
            label, None, None, "one voxel line after the header (single-voxel fit)", got
        )
    line, values = rows[1][0], rows[1][1:]
    where = f"line {line}"
    if len(values) != len(header):
        raise InputError(
            label, where, None, f"{len(header)} comma-separated fields like the header", len(values)
        )
    parsed = [
        _voxel_values(values[2 + 3 * index : 5 + 3 * index], name, reference, int(line), label)
        for index, name in enumerate(names)
    ]
    seen = set()
    for row in parsed:
        if row.metabolite in seen:
            raise InputError(
                label,
                f"line {header_line}",
                row.metabolite,
                "each metabolite once",
                "a repeated name",
            )
        seen.add(row.metabolite)
    return reference, tuple(parsed)


def _header_metabolites(header: list[str], header_line: int, label: str) -> tuple[list[str], str]:
    """The metabolite names of the header and the one reference of their ratio columns (NAMREL):
    'Row, Col', then three columns per metabolite as FINOUT writes them."""
    if header[:2] != ["Row", "Col"] or (len(header) - 2) % 3 != 0 or len(header) < 5:
        raise InputError(
            label,
            f"line {header_line}",
            None,
            "an LCModel -csv header 'Row, Col, <met>, <met> %SD, <met>/<ref>, ...'",
            ", ".join(header[:5]),
        )
    names, reference = [], None
    for start in range(2, len(header), 3):
        name, sd_name, ratio_name = header[start : start + 3]
        if sd_name != f"{name} %SD" or "/" not in ratio_name or ratio_name.split("/", 1)[0] != name:
            raise InputError(
                label,
                f"line {header_line}",
                name,
                f"the three columns '{name}, {name} %SD, {name}/<ref>'",
                ", ".join(header[start : start + 3]),
            )
        this_reference = ratio_name.split("/", 1)[1]
        if reference not in (None, this_reference):
            raise InputError(
                label,
                f"line {header_line}",
                ratio_name,
                f"one ratio reference ({reference})",
                this_reference,
            )
        reference = this_reference
        names.append(name)
    return names, reference


def _voxel_values(fields: list[str], name: str, reference: str, line: int, label: str) -> ConcRow:
    """One metabolite's concentration, %SD (999 = undetermined, as in the .table) and ratio on the
    voxel line."""
    where = f"line {line}"
    conc_text, sd_text, ratio_text = fields
    concentration = parse_number(
        conc_text, label, where, name, "a concentration (F8.3 or E format)"
    )
    if not sd_text.isdigit():
        raise InputError(
            label, where, f"{name} %SD", "an integer %SD (999 = undetermined)", sd_text
        )
    ratio = parse_number(
        ratio_text, label, where, f"{name}/{reference}", "a ratio (F8.3 or E format)"
    )
    sd = int(sd_text)
    undetermined = sd >= UNDETERMINED_SD
    return ConcRow(
        metabolite=name,
        concentration=concentration,
        crlb_percent=math.nan if undetermined else float(sd),
        ratio_to_reference=ratio,
        crlb_undetermined=undetermined,
        line=line,
    )


def read_csv_study(
    data_dir: Path,
    participants: pd.DataFrame,
    conditions: list[str],
    larmor_mhz: float | None = None,
    batch: bool = False,
    **_,
) -> pd.DataFrame:
    """mrs.format lcmodel_csv: one spreadsheet per block, timing from the session sidecars."""
    spectra = []
    for session, timing, _ in timed_sessions(
        data_dir, "lcmodel_csv", participants, conditions, batch
    ):
        for row in timing.itertuples(index=False):
            path = session.fits[row.block]
            label = relative(path, data_dir)
            reference, conc_rows = parse_csv(path, label)
            ratios = tcr_ratio(conc_rows, reference)
            measures = [
                Measure(
                    r.metabolite,
                    r.concentration,
                    r.crlb_percent,
                    r.crlb_undetermined,
                    ratios[r.metabolite],
                    f"line {r.line}",
                )
                for r in conc_rows
            ]
            spectra.append(
                Spectrum(
                    session.participant_id,
                    session.condition,
                    int(row.block),
                    row.onset_min,
                    row.offset_min,
                    measures,
                    math.nan,
                    math.nan,
                    CSV_SNR_DEFINITION,
                    SOURCE_TOOL,
                    label,
                )
            )
    return study_table(spectra, conditions)
