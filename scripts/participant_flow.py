"""CONSORT-style participant flow from the participants table and the QC decisions."""

import _package  # noqa: F401  (puts src/ on the import path)


from crossover_fmrs.flow import participant_flow
from crossover_fmrs.step import run_step, write_tsv
from crossover_fmrs.tables import read_table


def main(io):
    participants, spectra, scores = (read_table(io.input[name]) for name in ("participants", "spectra", "scores"))
    p = io.params
    flow = participant_flow(participants, spectra, scores, p["conditions"], p["primary_outcome"], p["ratio_label"])
    write_tsv(flow, io.output["flow"])


run_step(main, globals().get("snakemake"))
