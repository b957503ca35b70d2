"""Validate participants.tsv and write it tidy, with each condition's period."""

import _package  # noqa: F401  (puts src/ on the import path)

from crossover_fmrs.participants import read_participants
from crossover_fmrs.step import run_step, write_tsv


def main(io):
    participants = read_participants(io.input["participants"], io.params["conditions"])
    write_tsv(participants, io.output["participants"])


run_step(main, globals().get("snakemake"))
