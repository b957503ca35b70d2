"""Gather the QC'd batches: the spectra and flags as the TSVs people open, and the spectra as one
Parquet table that the later rules read."""

import pandas as pd

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import read_table, write_parquet, write_tsv


def gathered(paths) -> pd.DataFrame:
    paths = [paths] if isinstance(paths, str) else list(paths)
    return pd.concat([read_table(path) for path in paths], ignore_index=True)


def main(io):
    spectra = gathered(io.input["spectra"])
    write_tsv(spectra, io.output["spectra"])
    write_tsv(gathered(io.input["flags"]), io.output["flags"])
    write_parquet(spectra, io.output["columnar"])


run_step(main, globals().get("snakemake"))
