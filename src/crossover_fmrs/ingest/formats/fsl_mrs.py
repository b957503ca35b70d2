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
fsl_dynmrs writes dyn_results.csv (free parameters per sample, not per time point),
init_results.csv, free_parameters.csv, dyn_cov.csv (covariance of the free parameters
conc_<metabolite>_t<k>, conc_<metabolite>, ...; FSL-MRS >= 2.1) and
    mapped_parameters.csv   rows = mapped parameters (conc_<metabolite>, gamma_00, eps_00, ...);
                            two header rows: each time value of the time variable twice, then
                            'mean','std' under it, columns sorted by time.
fsl_dynmrs neither combines metabolites nor computes SNR or FWHM.

Tidy values: concentration = the 'raw' mean (tool units; Glx/tNAA is unaffected by scaling),
ratio_to_tcr = raw / raw Cr+PCr (equal to fsl_mrs' 'internal' scaling with its default
reference), crlb_percent = summary.csv's %CRLB (else 100 * std / mean, capped at 999 as FSL-MRS
does). One spectrum has one FWHM and one SNR in the tidy table: those of the NAA basis spectrum
in qc.csv (QC_METABOLITE), FWHM converted with config mrs.larmor_mhz. fsl_dynmrs: time points
go to the sidecar's blocks by config mrs.dynmrs_time (block_of_points); several time points of
one block (per-transient fits) are refused unless mrs.dynmrs_aggregate is mean (_aggregate).
Glx, tNAA, tCr and tCho are summed here from their parts, with crlb_percent from dyn_cov.csv
where the folder has it (_sum_sd), else NaN; fwhm_ppm and snr are NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
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
QC_METABOLITE = (
    "NAA"  # the peak whose FWHM and SNR stand for the spectrum [A: NAA singlet, as Osprey 1]
)
SNR_DEFINITION = (
    "FSL-MRS qc.csv SNR of the fitted NAA basis spectrum: its peak height after apodisation by its "
    "own linewidth (matched filter) divided by the noise SD (sqrt 2 x SD of the real spectrum in a "
    "signal-free region)"
)
DYN_SNR_DEFINITION = "not reported: fsl_dynmrs writes no SNR and no FWHM"
METAB_HEADERS = ("Metabs", "Metab")


def _require_larmor(larmor_mhz: float | None) -> float:
    if larmor_mhz is None or not larmor_mhz > 0:
        raise InputError(
            "config",
            "mrs",
            "larmor_mhz",
            "the spectrometer frequency in MHz (fsl_mrs writes FWHM in Hz)",
            larmor_mhz,
        )
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
        raise InputError(
            label,
            None,
            None,
            "two header rows (statistic, then scaling) and one row per metabolite",
            "one line",
        )
    top, sub = rows[0][1:], rows[1][1:]
    if top[0] not in METAB_HEADERS or sub[0] != "" or len(top) != len(sub):
        raise InputError(
            label,
            f"line {rows[0][0]}",
            None,
            "fsl_mrs' two header rows 'Metabs,mean,...,std,...' and ',raw,...,raw,...'",
            f"{','.join(top[:3])} / {','.join(sub[:3])}",
        )
    columns = {(a, b): index for index, (a, b) in enumerate(zip(top, sub)) if index > 0}
    if ("mean", "raw") not in columns:
        raise InputError(
            label,
            f"lines {rows[0][0]}-{rows[1][0]}",
            "mean/raw",
            "a 'mean' column with scaling 'raw'",
            sorted(f"{a}/{b}" for a, b in columns),
        )
    out = []
    for row in rows[2:]:
        where, values = f"line {row[0]}", row[1:]
        if len(values) != len(top):
            raise InputError(label, where, None, f"{len(top)} comma-separated fields", len(values))
        mean = parse_number(
            values[columns[("mean", "raw")]], label, where, "mean/raw", missing_ok=True
        )
        std = math.nan
        if ("std", "raw") in columns:
            std = parse_number(
                values[columns[("std", "raw")]], label, where, "std/raw", missing_ok=True
            )
        out.append((values[0], mean, std, where))
    if not out:
        raise InputError(
            label, None, None, "one row per metabolite after the two header rows", "none"
        )
    return out


def _header_table(
    path: Path, label: str, required: tuple[str, ...], what: str
) -> tuple[list[str], list[list[str]]]:
    rows = read_delimited(path, label, ",", what)
    header = rows[0][1:]
    for column in required:
        if column not in header:
            raise InputError(
                label, f"line {rows[0][0]}", column, "a column of this name in the header", header
            )
    for row in rows[1:]:
        if len(row) - 1 != len(header):
            raise InputError(
                label, f"line {row[0]}", None, f"{len(header)} comma-separated fields", len(row) - 1
            )
    return header, rows[1:]


def read_qc(path: Path, label: str, larmor_mhz: float) -> tuple[float, float]:
    """(fwhm_ppm, snr) of QC_METABOLITE from qc.csv; 0 (FSL-MRS: not computable) becomes NaN."""
    header, rows = _header_table(path, label, ("Metab", "SNR", "FWHM"), "an fsl_mrs qc.csv")
    at = {name: header.index(name) + 1 for name in ("Metab", "SNR", "FWHM")}
    for row in rows:
        if row[at["Metab"]] == QC_METABOLITE:
            where = f"line {row[0]}"
            snr = parse_number(row[at["SNR"]], label, where, "SNR", missing_ok=True)
            fwhm_hz = parse_number(
                row[at["FWHM"]], label, where, "FWHM", "a linewidth in Hz", missing_ok=True
            )
            if fwhm_hz < 0 or snr < 0:
                raise InputError(
                    label,
                    where,
                    "FWHM" if fwhm_hz < 0 else "SNR",
                    "a value >= 0",
                    min(fwhm_hz, snr),
                )
            fwhm_ppm = fwhm_hz / larmor_mhz if fwhm_hz > 0 else math.nan
            return fwhm_ppm, (snr if snr > 0 else math.nan)
    raise InputError(
        label,
        None,
        "Metab",
        f"a row for {QC_METABOLITE} (its FWHM and SNR stand for the spectrum)",
        "no such row",
    )


def read_summary_crlb(path: Path, label: str) -> dict[str, tuple[float, str]]:
    """{metabolite: (%CRLB, where)} from summary.csv."""
    header, rows = _header_table(path, label, ("Metab", "%CRLB"), "an fsl_mrs summary.csv")
    name_at, crlb_at = header.index("Metab") + 1, header.index("%CRLB") + 1
    return {
        row[name_at]: (
            parse_number(row[crlb_at], label, f"line {row[0]}", "%CRLB", missing_ok=True),
            f"line {row[0]}",
        )
        for row in rows
    }


def read_fsl_mrs_block(
    folder: Path, data_dir: Path, larmor_mhz: float
) -> tuple[list[Measure], float, float, str]:
    """(measures, fwhm_ppm, snr, source_file) of one fsl_mrs output folder."""
    folder_label = relative(folder, data_dir)
    for name in FSL_MRS_REQUIRED:
        if not (folder / name).is_file():
            raise InputError(
                folder_label + "/",
                None,
                name,
                "an fsl_mrs output folder with " + " and ".join(FSL_MRS_REQUIRED),
                "no such file",
            )
    conc_path = folder / "concentrations.csv"
    conc_label = relative(conc_path, data_dir)
    concentrations = read_concentrations(conc_path, conc_label)
    summary_path = folder / "summary.csv"
    summary = (
        read_summary_crlb(summary_path, relative(summary_path, data_dir))
        if summary_path.is_file()
        else None
    )
    measures = []
    for name, mean, std, where in concentrations:
        if summary is not None:
            if name not in summary:
                raise InputError(
                    relative(summary_path, data_dir),
                    None,
                    "Metab",
                    f"a row for {name} (listed in concentrations.csv)",
                    "no such row",
                )
            percent, _ = summary[name]
            label, column = relative(summary_path, data_dir), "%CRLB"
        else:
            percent, label, column = _percent(std, mean), conc_label, "std/raw"
        crlb, undetermined = crlb_fields(percent, mean, label, where, column)
        measures.append(Measure(name, mean, crlb, undetermined, None, where))
    fwhm_ppm, snr = read_qc(folder / "qc.csv", relative(folder / "qc.csv", data_dir), larmor_mhz)
    return measures, fwhm_ppm, snr, conc_label


def read_fsl_mrs_study(
    data_dir: Path,
    participants: pd.DataFrame,
    conditions: list[str],
    larmor_mhz: float | None = None,
    batch: bool = False,
    **_,
) -> pd.DataFrame:
    """mrs.format fsl_mrs: one fsl_mrs output folder per block, timing from the session sidecars."""
    larmor = _require_larmor(larmor_mhz)
    spectra = []
    for session, timing, _ in timed_sessions(data_dir, "fsl_mrs", participants, conditions, batch):
        for row in timing.itertuples(index=False):
            measures, fwhm_ppm, snr, source = read_fsl_mrs_block(
                session.fits[row.block], data_dir, larmor
            )
            spectra.append(
                Spectrum(
                    session.participant_id,
                    session.condition,
                    int(row.block),
                    row.onset_min,
                    row.offset_min,
                    measures,
                    fwhm_ppm,
                    snr,
                    SNR_DEFINITION,
                    SOURCE_TOOL,
                    source,
                )
            )
    return study_table(spectra, conditions)


# ---------------------------------------------------------------------------------------------
# fsl_dynmrs (one folder per session)


@dataclass(frozen=True)
class TimePoint:
    time: float
    mean_column: int
    std_column: int


def read_mapped_parameters(
    path: Path, label: str
) -> tuple[list[TimePoint], list[tuple[str, list[tuple[float, float]], str]]]:
    """(time points in file order, [(metabolite, [(mean, std) per time point], where)]) of conc_*
    rows.

    A time value may repeat (a block indicator 0, 1, 0, 1, or one value per transient of a block):
    fsl_dynmrs sorts the columns by time, so the k-th 'mean' and the k-th 'std' of a value belong
    to the same time point.
    """
    rows = read_delimited(path, label, ",", "an fsl_dynmrs mapped_parameters.csv")
    if len(rows) < 3:
        raise InputError(
            label,
            None,
            None,
            "two header rows (time, then mean/std) and one row per parameter",
            f"{len(rows)} lines",
        )
    times_text, stats = rows[0][2:], rows[1][2:]
    header_where = f"lines {rows[0][0]}-{rows[1][0]}"
    if rows[0][1] != "" or rows[1][1] != "" or len(times_text) != len(stats) or not times_text:
        raise InputError(
            label,
            header_where,
            None,
            "fsl_dynmrs' two header rows: time values, then 'mean'/'std' under each",
            rows[0][1:4],
        )
    columns: dict[float, dict[str, list[int]]] = {}
    for index, (time_text, stat) in enumerate(zip(times_text, stats)):
        time = parse_number(
            time_text, label, f"line {rows[0][0]}", f"column {index + 2}", "a time value"
        )
        if stat not in ("mean", "std"):
            raise InputError(
                label, f"line {rows[1][0]}", f"column {index + 2}", "'mean' or 'std'", stat
            )
        columns.setdefault(time, {"mean": [], "std": []})[stat].append(index)
    points = []
    for time, stat_columns in sorted(columns.items()):
        if len(stat_columns["mean"]) != len(stat_columns["std"]):
            raise InputError(
                label,
                header_where,
                None,
                f"as many 'mean' as 'std' columns for time {time:g}",
                f"{len(stat_columns['mean'])} and {len(stat_columns['std'])}",
            )
        points += [
            TimePoint(time, m, sd) for m, sd in zip(stat_columns["mean"], stat_columns["std"])
        ]
    out = []
    for row in rows[2:]:
        name, values, where = row[1], row[2:], f"line {row[0]}"
        if len(values) != len(times_text):
            raise InputError(
                label, where, None, f"{len(times_text) + 1} comma-separated fields", len(values) + 1
            )
        if not name.startswith("conc_"):
            continue  # lineshape, shift, phase and baseline parameters
        series = []
        for point in points:
            mean = parse_number(
                values[point.mean_column], label, where, f"{point.time:g}/mean", missing_ok=True
            )
            std = parse_number(
                values[point.std_column], label, where, f"{point.time:g}/std", missing_ok=True
            )
            series.append((mean, std))
        out.append((name[len("conc_") :], series, where))
    if not out:
        raise InputError(
            label, None, None, "rows conc_<metabolite> (fitted concentrations)", "none"
        )
    return points, out


def read_covariance(path: Path, label: str) -> dict[tuple[str, str], float]:
    """{(free parameter, free parameter): covariance} of dyn_cov.csv (pandas to_csv of a square
    DataFrame: header ',name,...', then one row per name)."""
    rows = read_delimited(path, label, ",", "an fsl_dynmrs dyn_cov.csv")
    names = rows[0][2:]
    if rows[0][1] != "" or not names:
        raise InputError(
            label, f"line {rows[0][0]}", None, "a header ',<free parameter>,...'", rows[0][1:4]
        )
    out = {}
    for row in rows[1:]:
        where = f"line {row[0]}"
        if len(row) - 2 != len(names):
            raise InputError(
                label, where, None, f"{len(names) + 1} comma-separated fields", len(row) - 1
            )
        for name, text in zip(names, row[2:]):
            out[(row[1], name)] = parse_number(
                text, label, where, name, "a covariance", missing_ok=True
            )
    return out


def block_of_points(
    points: list[TimePoint], timing: pd.DataFrame, rule: str, label: str, sidecar: str
) -> list[list[int]]:
    """Indices of the time points of each block (sidecar order) under config mrs.dynmrs_time:
    'order' maps the distinct time values, ascending, to the blocks in order (a block indicator
    0, 1, 2 or block centres); 'minutes' puts each time point in the block whose
    onset <= t < offset."""
    blocks = list(timing.itertuples(index=False))
    if rule == "minutes":
        groups: list[list[int]] = [[] for _ in blocks]
        for index, point in enumerate(points):
            inside = [
                i
                for i, b in enumerate(blocks)
                if b.onset_min <= point.time < b.offset_min
                or (i == len(blocks) - 1 and point.time == b.offset_min)
            ]
            if not inside:
                raise InputError(
                    label,
                    "line 1",
                    "time",
                    f"a time in minutes inside a block of {sidecar} (mrs.dynmrs_time minutes)",
                    point.time,
                )
            groups[inside[0]].append(index)
        for group, block in zip(groups, blocks):
            if not group:
                raise InputError(
                    label,
                    "line 1",
                    "time",
                    f"a time point in block {block.block} "
                    f"({block.onset_min:g} to {block.offset_min:g} min, {sidecar}; mrs.dynmrs_time "
                    "minutes)",
                    "none",
                )
        return groups
    distinct = sorted({point.time for point in points})
    if len(distinct) != len(blocks):
        raise InputError(
            label,
            "line 1",
            "time",
            f"{len(blocks)} distinct time values, one per block in {sidecar} "
            "(mrs.dynmrs_time order; use minutes for time points in minutes)",
            len(distinct),
        )
    return [[i for i, p in enumerate(points) if p.time == value] for value in distinct]


def _aggregate(series: list[tuple[float, float]], group: list[int]) -> tuple[float, float]:
    """(mean, std) of a block from its time points: the mean of the means, and the mean of the SDs
    (exact for time points that share one estimate, as a block-indicator time variable gives with a
    fixed or dynamic model; an upper bound for independent per-transient fits)."""
    means = [series[i][0] for i in group]
    stds = [series[i][1] for i in group]
    return sum(means) / len(means), sum(stds) / len(stds)


def _sum_sd(covariance: dict | None, time_index: int | None):
    """SD of a sum of metabolites at one time point from dyn_cov.csv: a metabolite's free parameter
    is conc_<m>_t<k> (variable over time; k = position in the time variable, taken as ascending)
    or conc_<m> (fixed). A dynamic model's parameters (conc_<m>_<dynamic parameter>) do not give
    it: NaN.

    Names as fsl_dynmrs writes them: dyn_cov.csv is dynRes.save's cov_free.to_csv, indexed by
    VariableMapping.free_names (github.com/wtclarke/fsl_mrs fsl_mrs/dynamic/dyn_results.py,
    fsl_mrs/dynamic/variable_mapping.py _calculate_free_params, commit 2f1f1697: f'{cat}_{x}' fixed,
    f'{cat}_{x}_t{t}' variable, x the metabolite). No version read wrote the conc_<m>_0_t<k> this
    reader took before: the older fsl_mrs/utils/dynamic/variable_mapping.py (create_free_names,
    commit 018be4d8) named by basis index (conc_<i>_t<k>), and the dynRes.save of that package
    wrote dyn_std.csv, not dyn_cov.csv."""
    if covariance is None or time_index is None:
        return None

    def free_name(metabolite: str) -> str | None:
        for name in (f"conc_{metabolite}_t{time_index}", f"conc_{metabolite}"):
            if (name, name) in covariance:
                return name
        return None

    def sd(members: list[Measure]) -> float:
        names = [free_name(m.tool_metabolite) for m in members]
        if None in names:
            return math.nan
        variance = sum(covariance[(a, b)] for a in names for b in names)
        return math.sqrt(variance) if variance >= 0 else math.nan

    return sd


def read_fsl_dynmrs_study(
    data_dir: Path,
    participants: pd.DataFrame,
    conditions: list[str],
    larmor_mhz: float | None = None,
    dynmrs_time: str = "order",
    dynmrs_aggregate: str = "none",
    batch: bool = False,
    **_,
) -> pd.DataFrame:
    """mrs.format fsl_dynmrs: one folder per session, time points mapped to the sidecar's blocks
    (block_of_points); a block of several time points needs mrs.dynmrs_aggregate mean."""
    spectra = []
    for session, timing, sidecar_label in timed_sessions(
        data_dir, "fsl_dynmrs", participants, conditions, batch
    ):
        folder = session.fits[0]
        path = folder / "mapped_parameters.csv"
        label = relative(path, data_dir)
        if not path.is_file():
            raise InputError(
                relative(folder, data_dir) + "/",
                None,
                "mapped_parameters.csv",
                "an fsl_dynmrs output folder with mapped_parameters.csv",
                "no such file",
            )
        points, metabolites = read_mapped_parameters(path, label)
        timing = timing.sort_values("block")
        groups = block_of_points(points, timing, dynmrs_time, label, sidecar_label)
        cov_path = folder / "dyn_cov.csv"
        covariance = (
            read_covariance(cov_path, relative(cov_path, data_dir)) if cov_path.is_file() else None
        )
        for group, row in zip(groups, timing.itertuples(index=False)):
            if len(group) > 1 and dynmrs_aggregate != "mean":
                raise InputError(
                    label,
                    "line 1",
                    "time",
                    f"one time point per block (block {row.block} has "
                    f"{len(group)}: set mrs.dynmrs_aggregate to mean to average them)",
                    len(group),
                )
            measures = []
            for name, series, where in metabolites:
                mean, std = _aggregate(series, group)
                crlb, undetermined = crlb_fields(
                    _percent(std, mean), mean, label, where, f"{points[group[0]].time:g}/std"
                )
                measures.append(Measure(name, mean, crlb, undetermined, None, where))
            sum_sd = _sum_sd(covariance, group[0] if len(group) == 1 else None)
            spectra.append(
                Spectrum(
                    session.participant_id,
                    session.condition,
                    int(row.block),
                    row.onset_min,
                    row.offset_min,
                    add_sums(measures, sum_sd),
                    math.nan,
                    math.nan,
                    DYN_SNR_DEFINITION,
                    SOURCE_TOOL,
                    label,
                )
            )
    return study_table(spectra, conditions)
