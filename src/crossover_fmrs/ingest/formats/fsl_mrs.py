"""FSL-MRS outputs: one `fsl_mrs` folder per block, or one `fsl_dynmrs` folder per session.

Layouts (github.com/wtclarke/fsl_mrs: fsl_mrs/utils/results.py FitRes.to_file, fsl_mrs/utils/qc.py,
fsl_mrs/scripts/fsl_mrs.py; fsl_mrs/utils/dynamic/dyn_results.py dynRes.save; pandas to_csv):

fsl_mrs writes, among others,
    concentrations.csv  two header rows from a (statistic, scaling) column MultiIndex:
                            Metabs,mean,mean,std,std[,...]
                            ,raw,internal,raw,internal[,...]     (+ molality, molarity with water)
                        one row per metabolite, combinations (--combine Glu Gln -> 'Glu+Gln';
                        Cr+PCr always) after the basis spectra. 'std' is the absolute SD.
    summary.csv         Metab, /Cr+PCr, /Cr+PCr CRLB, [mMol/kg ...,] %CRLB, SNR, FWHM; %CRLB is
                        100 * SD / mean, set to 999 when larger or not computable ("like LCModel").
    qc.csv              Metab, SNR, FWHM: per basis spectrum (no combinations) a matched-filter
                        SNR and the FWHM in Hz; both 0 where FSL-MRS could not compute them.
fsl_dynmrs writes dyn_results.csv (free parameters per sample, not per time point), init_results.csv,
free_parameters.csv and
    mapped_parameters.csv   rows = mapped parameters (conc_<metabolite>, gamma_00, eps_00, ...);
                            two header rows: each time value of the time variable twice, then
                            'mean','std' under it, columns sorted by time.
fsl_dynmrs neither combines metabolites nor computes SNR or FWHM.

Tidy values: concentration = the 'raw' mean (tool units; Glx/tNAA is unaffected by scaling),
ratio_to_tcr = raw / raw Cr+PCr (equal to fsl_mrs' 'internal' scaling with its default
reference), crlb_percent = summary.csv's %CRLB (else 100 * std / mean, capped at 999 as FSL-MRS
does). One spectrum has one FWHM and one SNR in the tidy table: those of the NAA basis spectrum
in qc.csv (QC_METABOLITE), FWHM converted with config mrs.larmor_mhz. fsl_dynmrs: blocks are
the time points in ascending time, matched in order to the sidecar's blocks; Glx, tNAA, tCr and
tCho are summed here from their parts with crlb_percent NaN (the SD of a sum needs the
covariance, not written); fwhm_ppm and snr are NaN.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ...common.errors import InputError
from .common import (
    UNDETERMINED_PERCENT,
    Measure,
    Spectrum,
    add_sums,
    crlb_fields,
    parse_number,
    read_delimited,
    relative,
    study_table,
    timed_sessions,
)
from .layout import FSL_MRS_REQUIRED

SOURCE_TOOL = "FSL-MRS"
QC_METABOLITE = "NAA"  # the peak whose FWHM and SNR stand for the spectrum [A: NAA singlet, as Osprey 1]
SNR_DEFINITION = (
    "FSL-MRS qc.csv SNR of the fitted NAA basis spectrum: its peak height after apodisation by its own "
    "linewidth (matched filter) divided by the noise SD (sqrt 2 x SD of the real spectrum in a signal-free region)"
)
DYN_SNR_DEFINITION = "not reported: fsl_dynmrs writes no SNR and no FWHM"
METAB_HEADERS = ("Metabs", "Metab")


def _require_larmor(larmor_mhz: float | None) -> float:
    if larmor_mhz is None or not larmor_mhz > 0:
        raise InputError("config", "mrs", "larmor_mhz",
                         "the spectrometer frequency in MHz (fsl_mrs writes FWHM in Hz)", larmor_mhz)
    return float(larmor_mhz)


def _percent(std: float, mean: float) -> float:
    """FSL-MRS %CRLB from an SD: 100 * SD / mean, 999 when larger or not computable."""
    if math.isnan(std):
        return math.nan
    if not mean > 0:
        return UNDETERMINED_PERCENT
    return min(UNDETERMINED_PERCENT, 100.0 * std / mean)


# ---------------------------------------------------------------------------------------------
# fsl_mrs (one folder per block)


def read_concentrations(path: Path, label: str) -> list[tuple[str, float, float, str]]:
    """[(metabolite, raw mean, raw std, where)] from concentrations.csv."""
    rows = read_delimited(path, label, ",", "an fsl_mrs concentrations.csv")
    if len(rows) < 2:
        raise InputError(label, None, None, "two header rows (statistic, then scaling) and one row per metabolite",
                         "one line")
    top, sub = rows[0][1:], rows[1][1:]
    if top[0] not in METAB_HEADERS or sub[0] != "" or len(top) != len(sub):
        raise InputError(label, f"line {rows[0][0]}", None,
                         "fsl_mrs' two header rows 'Metabs,mean,...,std,...' and ',raw,...,raw,...'",
                         f"{','.join(top[:3])} / {','.join(sub[:3])}")
    columns = {(a, b): index for index, (a, b) in enumerate(zip(top, sub)) if index > 0}
    if ("mean", "raw") not in columns:
        raise InputError(label, f"lines {rows[0][0]}-{rows[1][0]}", "mean/raw", "a 'mean' column with scaling 'raw'",
                         sorted(f"{a}/{b}" for a, b in columns))
    out = []
    for row in rows[2:]:
        where, values = f"line {row[0]}", row[1:]
        if len(values) != len(top):
            raise InputError(label, where, None, f"{len(top)} comma-separated fields", len(values))
        mean = parse_number(values[columns[("mean", "raw")]], label, where, "mean/raw", missing_ok=True)
        std = math.nan
        if ("std", "raw") in columns:
            std = parse_number(values[columns[("std", "raw")]], label, where, "std/raw", missing_ok=True)
        out.append((values[0], mean, std, where))
    if not out:
        raise InputError(label, None, None, "one row per metabolite after the two header rows", "none")
    return out


def _header_table(path: Path, label: str, required: tuple[str, ...], what: str) -> tuple[list[str], list[list[str]]]:
    rows = read_delimited(path, label, ",", what)
    header = rows[0][1:]
    for column in required:
        if column not in header:
            raise InputError(label, f"line {rows[0][0]}", column, "a column of this name in the header", header)
    for row in rows[1:]:
        if len(row) - 1 != len(header):
            raise InputError(label, f"line {row[0]}", None, f"{len(header)} comma-separated fields", len(row) - 1)
    return header, rows[1:]


def read_qc(path: Path, label: str, larmor_mhz: float) -> tuple[float, float]:
    """(fwhm_ppm, snr) of QC_METABOLITE from qc.csv; 0 (FSL-MRS: not computable) becomes NaN."""
    header, rows = _header_table(path, label, ("Metab", "SNR", "FWHM"), "an fsl_mrs qc.csv")
    at = {name: header.index(name) + 1 for name in ("Metab", "SNR", "FWHM")}
    for row in rows:
        if row[at["Metab"]] == QC_METABOLITE:
            where = f"line {row[0]}"
            snr = parse_number(row[at["SNR"]], label, where, "SNR", missing_ok=True)
            fwhm_hz = parse_number(row[at["FWHM"]], label, where, "FWHM", "a linewidth in Hz", missing_ok=True)
            if fwhm_hz < 0 or snr < 0:
                raise InputError(label, where, "FWHM" if fwhm_hz < 0 else "SNR", "a value >= 0",
                                 min(fwhm_hz, snr))
            fwhm_ppm = fwhm_hz / larmor_mhz if fwhm_hz > 0 else math.nan
            return fwhm_ppm, (snr if snr > 0 else math.nan)
    raise InputError(label, None, "Metab", f"a row for {QC_METABOLITE} (its FWHM and SNR stand for the spectrum)",
                     "no such row")


def read_summary_crlb(path: Path, label: str) -> dict[str, tuple[float, str]]:
    """{metabolite: (%CRLB, where)} from summary.csv."""
    header, rows = _header_table(path, label, ("Metab", "%CRLB"), "an fsl_mrs summary.csv")
    name_at, crlb_at = header.index("Metab") + 1, header.index("%CRLB") + 1
    return {row[name_at]: (parse_number(row[crlb_at], label, f"line {row[0]}", "%CRLB", missing_ok=True),
                           f"line {row[0]}") for row in rows}


def read_fsl_mrs_block(folder: Path, data_dir: Path, larmor_mhz: float) -> tuple[list[Measure], float, float, str]:
    """(measures, fwhm_ppm, snr, source_file) of one fsl_mrs output folder."""
    folder_label = relative(folder, data_dir)
    for name in FSL_MRS_REQUIRED:
        if not (folder / name).is_file():
            raise InputError(folder_label + "/", None, name, "an fsl_mrs output folder with "
                             + " and ".join(FSL_MRS_REQUIRED), "no such file")
    conc_path = folder / "concentrations.csv"
    conc_label = relative(conc_path, data_dir)
    concentrations = read_concentrations(conc_path, conc_label)
    summary_path = folder / "summary.csv"
    summary = read_summary_crlb(summary_path, relative(summary_path, data_dir)) if summary_path.is_file() else None
    measures = []
    for name, mean, std, where in concentrations:
        if summary is not None:
            if name not in summary:
                raise InputError(relative(summary_path, data_dir), None, "Metab",
                                 f"a row for {name} (listed in concentrations.csv)", "no such row")
            percent, _ = summary[name]
            label, column = relative(summary_path, data_dir), "%CRLB"
        else:
            percent, label, column = _percent(std, mean), conc_label, "std/raw"
        crlb, undetermined = crlb_fields(percent, mean, label, where, column)
        measures.append(Measure(name, mean, crlb, undetermined, None, where))
    fwhm_ppm, snr = read_qc(folder / "qc.csv", relative(folder / "qc.csv", data_dir), larmor_mhz)
    return measures, fwhm_ppm, snr, conc_label


def read_fsl_mrs_study(data_dir: Path, participants: pd.DataFrame, conditions: list[str],
                       larmor_mhz: float | None = None) -> pd.DataFrame:
    """mrs.format fsl_mrs: one fsl_mrs output folder per block, timing from the session sidecars."""
    larmor = _require_larmor(larmor_mhz)
    spectra = []
    for session, timing, _ in timed_sessions(data_dir, "fsl_mrs", participants, conditions):
        for row in timing.itertuples(index=False):
            measures, fwhm_ppm, snr, source = read_fsl_mrs_block(session.fits[row.block], data_dir, larmor)
            spectra.append(Spectrum(session.participant_id, session.condition, int(row.block), row.onset_min,
                                    row.offset_min, measures, fwhm_ppm, snr, SNR_DEFINITION, SOURCE_TOOL, source))
    return study_table(spectra, conditions)


# ---------------------------------------------------------------------------------------------
# fsl_dynmrs (one folder per session)


def read_mapped_parameters(path: Path, label: str) -> tuple[list[float], list[tuple[str, list[tuple[float, float]], str]]]:
    """(time values ascending, [(metabolite, [(mean, std) per time], where)]) of conc_* rows."""
    rows = read_delimited(path, label, ",", "an fsl_dynmrs mapped_parameters.csv")
    if len(rows) < 3:
        raise InputError(label, None, None, "two header rows (time, then mean/std) and one row per parameter",
                         f"{len(rows)} lines")
    times_text, stats = rows[0][2:], rows[1][2:]
    header_where = f"lines {rows[0][0]}-{rows[1][0]}"
    if rows[0][1] != "" or rows[1][1] != "" or len(times_text) != len(stats) or not times_text:
        raise InputError(label, header_where, None,
                         "fsl_dynmrs' two header rows: time values, then 'mean'/'std' under each", rows[0][1:4])
    columns: dict[float, dict[str, int]] = {}
    for index, (time_text, stat) in enumerate(zip(times_text, stats)):
        time = parse_number(time_text, label, f"line {rows[0][0]}", f"column {index + 2}", "a time value")
        if stat not in ("mean", "std"):
            raise InputError(label, f"line {rows[1][0]}", f"column {index + 2}", "'mean' or 'std'", stat)
        if stat in columns.setdefault(time, {}):
            raise InputError(label, header_where, f"column {index + 2}", f"one '{stat}' column per time value",
                             time_text)
        columns[time][stat] = index
    for time, stat_columns in columns.items():
        if set(stat_columns) != {"mean", "std"}:
            raise InputError(label, header_where, None, f"a 'mean' and a 'std' column for time {time:g}",
                             sorted(stat_columns))
    times = sorted(columns)
    out = []
    for row in rows[2:]:
        name, values, where = row[1], row[2:], f"line {row[0]}"
        if len(values) != len(times_text):
            raise InputError(label, where, None, f"{len(times_text) + 1} comma-separated fields", len(values) + 1)
        if not name.startswith("conc_"):
            continue  # lineshape, shift, phase and baseline parameters
        series = []
        for time in times:
            mean = parse_number(values[columns[time]["mean"]], label, where, f"{time:g}/mean", missing_ok=True)
            std = parse_number(values[columns[time]["std"]], label, where, f"{time:g}/std", missing_ok=True)
            series.append((mean, std))
        out.append((name[len("conc_"):], series, where))
    if not out:
        raise InputError(label, None, None, "rows conc_<metabolite> (fitted concentrations)", "none")
    return times, out


def read_fsl_dynmrs_study(data_dir: Path, participants: pd.DataFrame, conditions: list[str],
                          larmor_mhz: float | None = None) -> pd.DataFrame:
    """mrs.format fsl_dynmrs: one folder per session, time points matched in order to the sidecar's blocks."""
    spectra = []
    for session, timing, sidecar_label in timed_sessions(data_dir, "fsl_dynmrs", participants, conditions):
        folder = session.fits[0]
        path = folder / "mapped_parameters.csv"
        label = relative(path, data_dir)
        if not path.is_file():
            raise InputError(relative(folder, data_dir) + "/", None, "mapped_parameters.csv",
                             "an fsl_dynmrs output folder with mapped_parameters.csv", "no such file")
        times, metabolites = read_mapped_parameters(path, label)
        if len(times) != len(timing):
            raise InputError(label, "line 1", "time", f"{len(timing)} time points, one per block in {sidecar_label}",
                             len(times))
        for index, row in enumerate(timing.sort_values("block").itertuples(index=False)):
            measures = []
            for name, series, where in metabolites:
                mean, std = series[index]
                crlb, undetermined = crlb_fields(_percent(std, mean), mean, label, where, f"{times[index]:g}/std")
                measures.append(Measure(name, mean, crlb, undetermined, None, where))
            spectra.append(Spectrum(session.participant_id, session.condition, int(row.block), row.onset_min,
                                    row.offset_min, add_sums(measures), math.nan, math.nan, DYN_SNR_DEFINITION,
                                    SOURCE_TOOL, label))
    return study_table(spectra, conditions)
