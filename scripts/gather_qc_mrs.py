"""Gather the QC'd batches: the spectra and flags as the TSVs people open, and the spectra as one
Parquet table that the later rules read."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import gather_table, gather_tsv, write_parquet, write_tsv


def main(io):
    # one row per spectrum: small enough to hold; one row per spectrum and criterion: streamed
    spectra = gather_table(io.input["spectra"])
    write_tsv(spectra, io.output["spectra"])
    write_parquet(spectra, io.output["columnar"])
    gather_tsv(io.input["flags"], io.output["flags"])


run_step(main, globals().get("snakemake"))
