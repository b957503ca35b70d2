"""Readers of the common fMRS fitting tools' outputs, all returning the tidy MRS table.

Selected by config `mrs.format`; `crossover_fmrs.mrs.read_study_mrs` dispatches here. Each
format, where its files live and what it cannot provide (NaN in the tidy table):

    lcmodel_table  sub-XX/ses-C/mrs/sub-XX_ses-C_block-NN.table          everything
    lcmodel_csv    sub-XX/ses-C/mrs/sub-XX_ses-C_block-NN.csv            fwhm_ppm, snr
    fsl_mrs        sub-XX/ses-C/mrs/sub-XX_ses-C_block-NN_fsl_mrs/       (FWHM in Hz -> needs larmor_mhz)
    fsl_dynmrs     sub-XX/ses-C/mrs/sub-XX_ses-C_fsl_dynmrs/             fwhm_ppm, snr, %CRLB of sums
    osprey         osprey_datasets.tsv + osprey/ (Osprey output folder)  crlb_percent
    tidy_tsv       mrs.tsv                                               whatever the user leaves NA

Block timing comes from the sidecars sub-XX/ses-C/mrs/sub-XX_ses-C_blocks.tsv, or for the two
study-level formats optionally from onset_min/offset_min columns of their table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import InputError
from . import fsl_mrs, lcmodel, osprey, tidy_tsv


@dataclass(frozen=True)
class Format:
    read: Callable[..., pd.DataFrame]  # (data_dir, participants, conditions, larmor_mhz) -> tidy table
    inputs: Callable[[Path], list[Path]]  # the raw files the reader would read (for Snakemake)
    not_provided: tuple[str, ...]  # tidy columns the format leaves NaN by construction
    summary: str


FORMATS: dict[str, Format] = {
    "lcmodel_table": Format(lcmodel.read_table_study, lcmodel.table_inputs, (),
                            "LCModel .table per block (LTABLE)"),
    "lcmodel_csv": Format(lcmodel.read_csv_study, lcmodel.csv_inputs, ("fwhm_ppm", "snr"),
                          "LCModel -csv spreadsheet per block (LCSV): no FWHM, no S/N"),
    "fsl_mrs": Format(fsl_mrs.read_fsl_mrs_study, fsl_mrs.fsl_mrs_inputs, (),
                      "fsl_mrs output folder per block: concentrations.csv, qc.csv, summary.csv"),
    "fsl_dynmrs": Format(fsl_mrs.read_fsl_dynmrs_study, fsl_mrs.fsl_dynmrs_inputs,
                         ("fwhm_ppm", "snr", "crlb_percent of summed metabolites"),
                         "fsl_dynmrs output folder per session: mapped_parameters.csv"),
    "osprey": Format(osprey.read_study, osprey.inputs, ("crlb_percent",),
                     "Osprey QuantifyResults amplitude and tCr tables + QM table, rows named by "
                     "osprey_datasets.tsv"),
    "tidy_tsv": Format(tidy_tsv.read_study, tidy_tsv.inputs, (),
                       "one study-level mrs.tsv in the pipeline's own long layout"),
}


def read_format(fmt: str, data_dir: str | Path, participants: pd.DataFrame, conditions: list[str],
                larmor_mhz: float | None = None) -> pd.DataFrame:
    """The tidy MRS table of a study stored in format `fmt` (see the module docstring)."""
    if fmt not in FORMATS:
        raise InputError("config", "mrs", "format", f"one of {list(FORMATS)}", fmt)
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise InputError(data_dir, None, None, "a folder holding the raw study")
    return FORMATS[fmt].read(data_dir, participants, list(conditions), larmor_mhz)


def raw_inputs(data_dir: str | Path, fmt: str) -> list[str]:
    """Sorted paths of the raw files format `fmt` reads, as they exist now (never raises for
    missing files), so Snakemake reruns ingestion when one of them changes."""
    if fmt not in FORMATS:
        raise InputError("config", "mrs", "format", f"one of {list(FORMATS)}", fmt)
    return sorted({str(path) for path in FORMATS[fmt].inputs(Path(data_dir))})
