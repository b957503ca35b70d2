"""Validate participants.tsv and write it tidy; record which columns the data dictionary
describes."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import write_tsv
from crossover_fmrs.ingest.participants import column_record, read_participants


def main(io):
    participants = read_participants(
        io.input["participants"], io.params["conditions"], io.params.get("site_column")
    )
    write_tsv(participants, io.output["participants"])
    write_tsv(column_record(io.input["participants"]), io.output["columns"])


run_step(main, globals().get("snakemake"))
