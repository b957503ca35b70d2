"""CONSORT-style participant flow from the participants table and the QC decisions."""

import _package  # noqa: F401  (puts src/ on the import path)

import pandas as pd

from crossover_fmrs.flow import participant_flow
from crossover_fmrs.step import run_step, write_tsv


def main(io):
    participants = pd.read_csv(io.input["participants"], sep="\t", dtype={"participant_id": str})
    spectra = pd.read_csv(io.input["spectra"], sep="\t", dtype={"participant_id": str})
    scores = pd.read_csv(io.input["scores"], sep="\t", dtype={"participant_id": str})
    write_tsv(participant_flow(participants, spectra, scores, io.params["conditions"]), io.output["flow"])


run_step(main, globals().get("snakemake"))
