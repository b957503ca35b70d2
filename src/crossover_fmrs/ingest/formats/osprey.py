"""Osprey outputs (mrs.format osprey): study-wide tables, one row per Osprey dataset.

Osprey fits all datasets of a job at once and writes tables whose rows follow the job file's
order, with no participant or session column. Layout (github.com/schorschinho/osprey:
quantify/OspreyQuantify.m osp_createTable, quantify/exportQuant.m, utilities/osp_WriteBIDsTable.m,
process/OspreyProcess.m / job/OspreyLoad calculate_QM):

    QuantifyResults/<sub>_<quant>_Voxel_1_Basis_1.tsv   Osprey 2: MATLAB writetable, tab-separated,
                                                         header = metabolite names, one row per
                                                         dataset
    QuantifyResults/<sub>_<quant>_Voxel_1.csv or <sub>_<quant>.csv
                                                        Osprey 1 (exportCSV), same table
        <sub> is the sub-spectrum ('A' in Osprey 2, 'off' in Osprey 1 for unedited data; edited
        MEGA/HERMES data add diff1, diff2, sum: config mrs.osprey_subspectrum picks one), <quant>
        'amplMets' (raw amplitudes) or 'tCr' (amplitude / (Cr + PCr)). Osprey appends tNAA, Glx,
        tCho, tCr as sums of their parts. Rows of datasets excluded in Osprey are removed.
        In LCModel mode the columns are LCModel's names made MATLAB-valid (Glu_Gln, NAA_NAAG,
        Cr_PCr, PCh_GPC, CrCH2) and a <sub>_CRLB_... table holds LCModel's %SD per column.
    QM_processed_spectra.tsv (Osprey 2): Cr_SNR, Cr_FWHM (Hz), [water_FWHM,] residual_water_ampl,
                                         freqShift
    QM_processed_spectra.csv (Osprey 1): NAA_SNR, NAA_FWHM (Hz, FID-A op_getLW), ...
                                         -- no rows removed

This pipeline's mapping, <data_dir>/osprey_datasets.tsv, names each Osprey dataset in the same
row order: columns participant_id, condition, block, and optionally onset_min, offset_min (else
the sidecars sub-XX/ses-C/mrs/sub-XX_ses-C_blocks.tsv give the timing). The Osprey output
folder itself is <data_dir>/osprey/. Every table must have one row per mapped dataset: exclude
spectra in this pipeline's QC (flag, then exclude by pre-set criteria), not in Osprey.

Tidy values: concentration = amplitude (amplMets), ratio_to_tcr = the tCr table, fwhm_ppm and
snr from the QM table (FWHM Hz / mrs.larmor_mhz). Osprey's own fit reports no CRLB: without a
CRLB table crlb_percent is NaN for every row, so QC cannot evaluate its %CRLB criterion;
crlb_undetermined is False except for an amplitude <= 0 (a fitted zero, undetermined in every
format) or a %SD of 999 in the CRLB table.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ...common.errors import InputError
from .common import (
    Measure,
    Spectrum,
    check_study_file,
    crlb_fields,
    parse_key,
    parse_number,
    read_delimited,
    read_listing,
    relative,
    study_table,
    study_timing,
)
from .layout import (
    OSPREY_CRLB,
    OSPREY_FOLDER,
    OSPREY_QUANTITIES,
    osprey_found_subspectra,
    osprey_qm_table,
    osprey_quant_table,
)
from .vocabulary import canonical_name

SOURCE_TOOL = "Osprey"
# QM columns -> SNR definition, per Osprey's JSON sidecar and osp_processUnEdited.
QM_PEAKS = {
    "Cr": (
        "Osprey QM Cr_SNR: maximum amplitude of the creatine peak divided by twice the SD of the "
        "noise (sub-spectrum A)"
    ),
    "NAA": (
        "Osprey 1 QM NAA_SNR: maximum magnitude of the NAA peak (1.8-2.2 ppm) divided by the SD of "
        "the detrended noise (-2 to 0 ppm), FID-A op_getSNR"
    ),
}
# Version rule: every Osprey version writes the QM FWHM in Hz: Osprey 1.x NAA_FWHM and Osprey 2.x
# Cr_FWHM both come from FID-A op_getLW, which returns Hz (OspreyProcess.m; real Osprey 1 tables
# hold 7-19 Hz). Both are converted to ppm with mrs.larmor_mhz.
MIN_PLAUSIBLE_FWHM_HZ = (
    1.0  # a narrower in-vivo line is not measurable: such a value was written in ppm
)
OSPREY_SUMS = ("tNAA", "Glx", "tCho", "tCr")  # appended by Osprey's addMetabComb


def _read_table(path: Path, label: str) -> tuple[list[str], list[list[str]]]:
    """Header and data rows (line number first) of a MATLAB writetable output (.tsv or .csv)."""
    rows = read_delimited(path, label, "\t" if path.suffix == ".tsv" else ",", "an Osprey table")
    header = rows[0][1:]
    if len(set(header)) != len(header):
        raise InputError(label, f"line {rows[0][0]}", None, "each column name once", header)
    for row in rows[1:]:
        if len(row) - 1 != len(header):
            raise InputError(
                label, f"line {row[0]}", None, f"{len(header)} fields like the header", len(row) - 1
            )
    return header, rows[1:]


def read_mapping(path: Path, label: str, participant_ids: set[str], conditions: list[str]):
    header, body, timed = read_listing(path, label, ("participant_id", "condition", "block"))
    keys, given, seen = [], {} if timed else None, {}
    for number, values in enumerate(body, start=2):
        row = dict(zip(header, (value.strip() for value in values)))
        where = f"line {number}"
        key = parse_key(row, label, where, participant_ids, conditions)
        spectrum = (key.participant_id, key.condition, key.block)
        if spectrum in seen:
            raise InputError(
                label,
                where,
                "block",
                f"one dataset per spectrum (also on {seen[spectrum]})",
                "/".join(map(str, spectrum)),
            )
        seen[spectrum] = where
        keys.append(key)
        if given is not None:
            given[key] = (row["onset_min"], row["offset_min"], where)
    if not keys:
        raise InputError(label, "line 2", None, "one row per Osprey dataset", "no rows")
    return keys, given


def _quant_tables(folder: Path, data_dir: Path, subspectrum: str) -> dict:
    """{quantity: (path, label, header, rows)} of the amplitude and tCr tables, and the CRLB table
    where Osprey wrote one (LCModel mode); InputError listing the sub-spectra that are there."""
    tables = {}
    for quant in (*OSPREY_QUANTITIES, OSPREY_CRLB):
        path = osprey_quant_table(folder, quant, subspectrum)
        if path is None and quant == OSPREY_CRLB:
            continue
        if path is None:
            found = osprey_found_subspectra(folder)
            wanted = (
                "the unedited sub-spectrum (A or off)"
                if subspectrum == "auto"
                else f"sub-spectrum {subspectrum}"
            )
            raise InputError(
                f"{OSPREY_FOLDER}/QuantifyResults/",
                None,
                quant,
                f"Osprey's {quant} table of {wanted}, e.g. A_{quant}_Voxel_1_Basis_1.tsv "
                f"(Osprey 2) or off_{quant}_Voxel_1.csv (Osprey 1); "
                f"set mrs.osprey_subspectrum to one of the "
                f"sub-spectra found",
                f"sub-spectra {found}" if found else "no such file",
            )
        label = relative(path, data_dir)
        tables[quant] = (path, label, *_read_table(path, label))
    return tables


def _dropped_sums(header: list[str]) -> set[str]:
    """Osprey appends tNAA, Glx, tCr, tCho to every table; in LCModel mode the table already holds
    LCModel's own combinations (NAA_NAAG, Glu_Gln, ...) with their %SD, which are kept instead."""
    names = [canonical_name(name) for name in header]
    return {
        name for name in header if name in OSPREY_SUMS and names.count(canonical_name(name)) > 1
    }


def read_study(
    data_dir: Path,
    participants: pd.DataFrame,
    conditions: list[str],
    larmor_mhz: float | None = None,
    osprey_subspectrum: str = "auto",
    **_,
) -> pd.DataFrame:
    """mrs.format osprey: Osprey's study tables, rows named by osprey_datasets.tsv."""
    mapping = check_study_file(data_dir, "osprey")
    mapping_label = relative(mapping, data_dir)
    participant_ids = set(participants["participant_id"].astype(str))
    keys, given = read_mapping(mapping, mapping_label, participant_ids, conditions)
    timing = study_timing(data_dir, keys, given, mapping_label)
    folder = data_dir / OSPREY_FOLDER
    tables = _quant_tables(folder, data_dir, osprey_subspectrum)
    qm_label, qm_header, qm_rows, peak = _qm_table(folder, data_dir)
    snr_definition = QM_PEAKS[peak]
    if larmor_mhz is None or not larmor_mhz > 0:
        raise InputError(
            "config",
            "mrs",
            "larmor_mhz",
            f"the spectrometer frequency in MHz ({qm_label} gives {peak}_FWHM in Hz)",
            larmor_mhz,
        )
    _check_one_row_per_dataset(tables, qm_label, qm_rows, len(keys), mapping_label)
    _, amp_label, amp_header, amp_rows = tables["amplMets"]
    _, tcr_label, _, tcr_rows = tables["tCr"]
    dropped = _dropped_sums(amp_header)
    spectra = []
    for index, (key, qm_row) in enumerate(zip(keys, qm_rows)):
        measures = _dataset_measures(tables, index, dropped)
        fwhm, snr = _dataset_quality(qm_row, qm_header, qm_label, peak)
        onset, offset = timing[(key.participant_id, key.condition, key.block)]
        spectra.append(
            Spectrum(
                key.participant_id,
                key.condition,
                key.block,
                onset,
                offset,
                measures,
                fwhm / larmor_mhz,
                snr,
                snr_definition,
                SOURCE_TOOL,
                amp_label,
            )
        )
    return study_table(spectra, conditions)


def _qm_table(folder: Path, data_dir: Path) -> tuple[str, list[str], list[list[str]], str]:
    """(label, header, rows, peak) of Osprey's quality table; `peak` is the one whose SNR and
    FWHM it holds (Cr in Osprey 2, NAA in Osprey 1)."""
    qm_path = osprey_qm_table(folder)
    if qm_path is None:
        raise InputError(
            f"{OSPREY_FOLDER}/",
            None,
            "QM_processed_spectra",
            "Osprey's QM_processed_spectra.tsv (Osprey 2) or .csv (Osprey 1)",
            "no such file",
        )
    qm_label = relative(qm_path, data_dir)
    qm_header, qm_rows = _read_table(qm_path, qm_label)
    peak = next((p for p in QM_PEAKS if f"{p}_SNR" in qm_header and f"{p}_FWHM" in qm_header), None)
    if peak is None:
        raise InputError(
            qm_label,
            "line 1",
            None,
            "columns Cr_SNR and Cr_FWHM (Osprey 2) or NAA_SNR and NAA_FWHM",
            qm_header,
        )
    return qm_label, qm_header, qm_rows, peak


def _check_one_row_per_dataset(
    tables: dict, qm_label: str, qm_rows: list, n_datasets: int, mapping_label: str
) -> None:
    """Osprey's tables line up by row with the datasets of the mapping: the amplitude and tCr
    tables have the same metabolite columns, and every table one row per dataset."""
    _, amp_label, amp_header, amp_rows = tables["amplMets"]
    _, tcr_label, tcr_header, tcr_rows = tables["tCr"]
    if amp_header != tcr_header:
        raise InputError(
            tcr_label, "line 1", None, f"the metabolite columns of {amp_label}", tcr_header
        )
    crlb = tables.get(OSPREY_CRLB)
    row_tables = [(amp_label, amp_rows), (tcr_label, tcr_rows), (qm_label, qm_rows)]
    if crlb is not None:
        row_tables.append((crlb[1], crlb[3]))
    for label, rows in row_tables:
        if len(rows) != n_datasets:
            raise InputError(
                label,
                None,
                None,
                f"one row per dataset of {mapping_label} ({n_datasets}; do not exclude datasets "
                f"in Osprey: QC here flags and excludes)",
                f"{len(rows)} rows",
            )


def _dataset_measures(tables: dict, index: int, dropped: set[str]) -> list[Measure]:
    """Each metabolite's amplitude, ratio to tCr and (LCModel mode) %CRLB on row `index` of
    Osprey's tables; Osprey's own sums are left out where LCModel's are kept (_dropped_sums)."""
    _, amp_label, amp_header, amp_rows = tables["amplMets"]
    _, tcr_label, _, tcr_rows = tables["tCr"]
    crlb = tables.get(OSPREY_CRLB)
    amp_row, tcr_row = amp_rows[index], tcr_rows[index]
    measures = []
    for column, name in enumerate(amp_header, start=1):
        if name in dropped:
            continue
        where = f"line {amp_row[0]}"
        amplitude = parse_number(amp_row[column], amp_label, where, name, missing_ok=True)
        ratio = parse_number(
            tcr_row[column], tcr_label, f"line {tcr_row[0]}", name, missing_ok=True
        )
        percent = math.nan
        if crlb is not None and name in crlb[2]:
            crlb_row = crlb[3][index]
            percent = parse_number(
                crlb_row[crlb[2].index(name) + 1],
                crlb[1],
                f"line {crlb_row[0]}",
                name,
                "a %CRLB",
                missing_ok=True,
            )
        crlb_percent, undetermined = crlb_fields(percent, amplitude, amp_label, where, name)
        measures.append(Measure(name, amplitude, crlb_percent, undetermined, ratio, where))
    return measures


def _dataset_quality(
    qm_row: list[str], qm_header: list[str], qm_label: str, peak: str
) -> tuple[float, float]:
    """(FWHM in Hz, SNR) of one dataset from the QM table: both > 0, the FWHM in Hz as Osprey
    writes it (a value below MIN_PLAUSIBLE_FWHM_HZ was written in ppm)."""
    qm_where = f"line {qm_row[0]}"
    snr = parse_number(
        qm_row[qm_header.index(f"{peak}_SNR") + 1],
        qm_label,
        qm_where,
        f"{peak}_SNR",
        missing_ok=True,
    )
    fwhm = parse_number(
        qm_row[qm_header.index(f"{peak}_FWHM") + 1],
        qm_label,
        qm_where,
        f"{peak}_FWHM",
        "a linewidth in Hz",
        missing_ok=True,
    )
    if fwhm <= 0 or snr <= 0:
        raise InputError(
            qm_label,
            qm_where,
            f"{peak}_FWHM" if fwhm <= 0 else f"{peak}_SNR",
            "a value > 0",
            fwhm if fwhm <= 0 else snr,
        )
    if fwhm < MIN_PLAUSIBLE_FWHM_HZ:
        raise InputError(
            qm_label,
            qm_where,
            f"{peak}_FWHM",
            f"a linewidth in Hz as Osprey writes it (>= "
            f"{MIN_PLAUSIBLE_FWHM_HZ:g} Hz; a smaller value looks like ppm)",
            fwhm,
        )
    return fwhm, snr
