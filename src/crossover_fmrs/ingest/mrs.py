"""A whole study's fMRS fit outputs -> the tidy MRS table (formats.common.MRS_COLUMNS).

config mrs.format names the fitting tool whose outputs are read; every reader in `formats`
returns the same table, and `not_provided` says which columns a format leaves NaN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..common.errors import InputError
from .formats import fsl_mrs, lcmodel_csv, lcmodel_table, osprey, tidy_tsv
from .formats.layout import FORMAT_NAMES, MANIFEST, STUDY_FILES

# Settings of config mrs that a reader takes (each reader ignores the others).
READER_OPTIONS = ("osprey_subspectrum", "dynmrs_time", "dynmrs_aggregate")


@dataclass(frozen=True)
class Format:
    read: Callable[
        ..., pd.DataFrame
    ]  # (data_dir, participants, conditions, larmor_mhz) -> tidy table
    not_provided: tuple[str, ...]  # tidy columns the format leaves NaN by construction
    summary: str


# The reader of each format of layout.FORMAT_NAMES, in its order (tests/test_formats.py checks).
FORMATS: dict[str, Format] = {
    "lcmodel_table": Format(
        lcmodel_table.read_table_study, (), "LCModel .table per block (LTABLE)"
    ),
    "lcmodel_csv": Format(
        lcmodel_csv.read_csv_study,
        ("fwhm_ppm", "snr"),
        "LCModel -csv spreadsheet per block (LCSV): no FWHM, no S/N",
    ),
    "fsl_mrs": Format(
        fsl_mrs.read_fsl_mrs_study,
        (),
        "fsl_mrs output folder per block: concentrations.csv, qc.csv, summary.csv",
    ),
    # %CRLB of sums: only from dyn_cov.csv, which older FSL-MRS versions do not write
    "fsl_dynmrs": Format(
        fsl_mrs.read_fsl_dynmrs_study,
        ("fwhm_ppm", "snr", "crlb_percent of summed metabolites"),
        "fsl_dynmrs output folder per session: mapped_parameters.csv, dyn_cov.csv if present",
    ),
    "osprey": Format(
        osprey.read_study,
        ("crlb_percent",),
        "Osprey QuantifyResults amplitude and tCr tables + QM table, "
        "rows named by osprey_datasets.tsv",
    ),
    "tidy_tsv": Format(
        tidy_tsv.read_study, (), "one study-level mrs.tsv in the pipeline's own long layout"
    ),
}


def read_study_mrs(
    data_dir: str | Path,
    participants: pd.DataFrame,
    conditions: list[str],
    fmt: str = "lcmodel_table",
    larmor_mhz: float | None = None,
    options: dict | None = None,
    workdir_paths: bool = False,
    batch: bool = False,
) -> pd.DataFrame:
    """Tidy MRS table of a study: one row per participant x condition x block x metabolite.

    Sorted by participant_id, condition (in the configured order), block, then the tool's row
    order. Sessions without files are absent; values are as the tool printed them, with
    crlb_percent NaN and crlb_undetermined True where the tool gave an undetermined %SD (999).
    `fmt` is config mrs.format; `larmor_mhz` (config mrs.larmor_mhz) converts linewidths that a
    tool writes in Hz (fsl_mrs, Osprey) to ppm; `options` are the format settings of config mrs
    (READER_OPTIONS). Messages name files relative to data_dir, or with `workdir_paths` as seen
    from the working directory, like every other step's messages. With `batch`, `participants`
    is one batch of a study read in batches (a per-session format without a manifest): only
    their folders are read.
    """
    if fmt not in FORMATS:
        raise InputError("config", "mrs", "format", f"one of {list(FORMAT_NAMES)}", fmt)
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise InputError(data_dir, None, None, "a folder holding the raw study")
    options = {key: value for key, value in (options or {}).items() if key in READER_OPTIONS}
    try:
        tidy = FORMATS[fmt].read(
            data_dir, participants, list(conditions), larmor_mhz, batch=batch, **options
        )
        if not batch:  # a batch may hold one condition only: its gathering step checks the study
            require_every_condition(tidy, list(conditions), data_dir, fmt)
        return tidy
    except InputError as err:
        if not workdir_paths:
            raise
        raise in_data_dir(err, data_dir) from None


def require_every_condition(
    tidy: pd.DataFrame, conditions: list[str], data_dir: Path, fmt: str
) -> None:
    """A condition of study.conditions with no fMRS session in the whole study: named here, not
    left to fail a model later."""
    absent = [c for c in conditions if c not in set(tidy["condition"])]
    if not absent or tidy.empty:  # no fMRS at all: QC names the fit outputs it searched
        return
    if fmt in STUDY_FILES:
        where = STUDY_FILES[fmt]
    elif (data_dir / MANIFEST).is_file():
        where = MANIFEST
    else:
        where = f"sub-*/ses-{absent[0]}/mrs/"
    raise InputError(
        where,
        None,
        "condition",
        f"fMRS sessions of every condition in study.conditions {conditions}",
        f"no session of {absent[0]}",
    )


def in_data_dir(err: InputError, data_dir: Path) -> InputError:
    """The error with a file named relative to data_dir prefixed by data_dir (settings and paths
    that already include it are left alone)."""
    name = err.file
    if (
        name in ("config", "config.yaml")
        or Path(name).is_absolute()
        or name == str(data_dir)
        or name.startswith(str(data_dir).rstrip("/") + "/")
    ):
        return err
    return InputError(
        (data_dir / name).as_posix() + ("/" if name.endswith("/") else ""),
        err.where,
        err.column,
        err.expected,
        err.got,
    )
