"""A plain study-level table (mrs.format tidy_tsv) for any tool without a reader here.

<data_dir>/mrs.tsv, tab-separated UTF-8, one row per participant x condition x block x metabolite:

    required  participant_id, condition, block, metabolite, concentration, crlb_percent,
              fwhm_ppm, snr
    optional  onset_min, offset_min   block timing (both or neither; without them the sidecars
                                      sub-XX/ses-C/mrs/sub-XX_ses-C_blocks.tsv are read, never both)
              ratio_to_tcr            else concentration / the spectrum's tCr concentration
              snr_definition, source_tool   else 'not stated in mrs.tsv' and 'mrs.tsv'
    other columns are ignored.

Missing values are written NA, n/a or left empty and become NaN. Names are mapped to canonical
ones (Glu+Gln -> Glx, ...); the written name is kept as tool_metabolite. crlb_percent >= 999 or
a concentration <= 0 marks the %CRLB undetermined, as LCModel does. fwhm_ppm, snr and the
optional per-spectrum columns must be the same on every row of a spectrum.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...common.errors import InputError
from .common import (
    MISSING_TEXT,
    Measure,
    Spectrum,
    check_study_file,
    crlb_fields,
    parse_key,
    parse_number,
    read_listing,
    relative,
    study_table,
    study_timing,
)

TABLE = "mrs.tsv"
REQUIRED = (
    "participant_id",
    "condition",
    "block",
    "metabolite",
    "concentration",
    "crlb_percent",
    "fwhm_ppm",
    "snr",
)
SNR_DEFINITION = "not stated in mrs.tsv"
SOURCE_TOOL = "mrs.tsv"
_PER_SPECTRUM = ("fwhm_ppm", "snr", "snr_definition", "source_tool", "onset_min", "offset_min")


def read_study(
    data_dir: Path,
    participants: pd.DataFrame,
    conditions: list[str],
    larmor_mhz: float | None = None,
    **_,
) -> pd.DataFrame:
    """mrs.format tidy_tsv: <data_dir>/mrs.tsv (see the module docstring)."""
    path = check_study_file(data_dir, "tidy_tsv")
    label = relative(path, data_dir)
    header, body, timed = read_listing(path, label, REQUIRED)
    participant_ids = set(participants["participant_id"].astype(str))
    spectra: dict[tuple, dict] = {}
    for number, values in enumerate(body, start=2):
        row = dict(zip(header, (value.strip() for value in values)))
        where = f"line {number}"
        key = parse_key(row, label, where, participant_ids, conditions)
        spectrum_key = (key.participant_id, key.condition, key.block)
        spectrum = spectra.setdefault(spectrum_key, {"key": key, "measures": [], "fixed": {}})
        _check_per_spectrum_values(spectrum["fixed"], row, header, label, where)
        spectrum["measures"].append(_row_measure(row, header, label, where))
    if not spectra:
        raise InputError(label, "line 2", None, "one row per spectrum and metabolite", "no rows")
    keys = [spectrum["key"] for spectrum in spectra.values()]
    given = None
    if timed:
        given = {
            s["key"]: (s["fixed"]["onset_min"][0], s["fixed"]["offset_min"][0], s["key"].where)
            for s in spectra.values()
        }
    timing = study_timing(data_dir, keys, given, label)
    out = []
    for spectrum_key, spectrum in spectra.items():
        fwhm, snr, definition, tool = _spectrum_quality(spectrum["fixed"], label)
        onset, offset = timing[spectrum_key]
        out.append(
            Spectrum(
                spectrum_key[0],
                spectrum_key[1],
                spectrum_key[2],
                onset,
                offset,
                spectrum["measures"],
                fwhm,
                snr,
                definition,
                tool,
                label,
            )
        )
    return study_table(out, conditions)


def _check_per_spectrum_values(
    fixed: dict, row: dict, header: list[str], label: str, where: str
) -> None:
    """The per-spectrum columns (linewidth, SNR, timing, ...) hold one value on every row of a
    spectrum; `fixed` keeps each one's first (value, where)."""
    for column in _PER_SPECTRUM:
        if column not in header:
            continue
        first = fixed.setdefault(column, (row[column], where))
        if first[0] != row[column]:
            raise InputError(
                label,
                where,
                column,
                f"the same value on every row of the spectrum (as on {first[1]})",
                row[column],
            )


def _row_measure(row: dict, header: list[str], label: str, where: str) -> Measure:
    """One metabolite of a spectrum: concentration, %CRLB (undetermined as LCModel marks it) and
    the ratio to tCr where the table has that column (else computed later)."""
    name = row["metabolite"]
    if not name:
        raise InputError(label, where, "metabolite", "a metabolite name", "an empty cell")
    concentration = parse_number(
        row["concentration"], label, where, "concentration", missing_ok=True
    )
    percent = parse_number(row["crlb_percent"], label, where, "crlb_percent", missing_ok=True)
    crlb, undetermined = crlb_fields(percent, concentration, label, where, "crlb_percent")
    ratio = None
    if "ratio_to_tcr" in header:
        ratio = parse_number(row["ratio_to_tcr"], label, where, "ratio_to_tcr", missing_ok=True)
    return Measure(name, concentration, crlb, undetermined, ratio, where)


def _spectrum_quality(fixed: dict, label: str) -> tuple[float, float, str, str]:
    """(fwhm_ppm, snr, snr_definition, source_tool) of a spectrum: the linewidth and SNR > 0 or
    NA; the definition and tool default to saying mrs.tsv did not state them."""
    where = fixed["fwhm_ppm"][1]
    fwhm = parse_number(
        fixed["fwhm_ppm"][0], label, where, "fwhm_ppm", "a linewidth in ppm", missing_ok=True
    )
    snr = parse_number(fixed["snr"][0], label, where, "snr", missing_ok=True)
    for column, value in (("fwhm_ppm", fwhm), ("snr", snr)):
        if value <= 0:
            raise InputError(label, where, column, "a value > 0 (NA where unknown)", value)
    definition = fixed.get("snr_definition", ("", ""))[0]
    definition = SNR_DEFINITION if definition in MISSING_TEXT else definition
    tool = fixed.get("source_tool", ("", ""))[0]
    tool = SOURCE_TOOL if tool in MISSING_TEXT else tool
    return fwhm, snr, definition, tool
