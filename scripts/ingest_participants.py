"""Validate participants.tsv and write it tidy, with each condition's period."""

from crossover_fmrs.participants import read_participants
from crossover_fmrs.step import run_step, write_tsv


def main(io):
    participants = read_participants(io.input["participants"], io.params["conditions"])
    write_tsv(participants, io.output["participants"])


run_step(main, globals().get("snakemake"))
