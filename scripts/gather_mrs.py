"""Gather the batches of the tidy fMRS table into the one TSV people open, after checking that
no participant folder is missing from participants.tsv (a batch reads only its own folders)."""

from pathlib import Path

import pandas as pd

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.errors import InputError
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import read_table, write_tsv
from crossover_fmrs.ingest.formats.common import unlisted_participant_folders
from crossover_fmrs.ingest.mrs import in_data_dir, require_every_condition
from crossover_fmrs.ingest.participants import read_participants


def main(io):
    p = io.params
    if p["check_folders"]:
        data_dir = Path(p["data_dir"])
        participants = read_participants(io.input["participants"], p["conditions"])
        try:
            unlisted_participant_folders(data_dir, set(participants["participant_id"]))
        except InputError as err:
            raise in_data_dir(err, data_dir) from None
    batches = io.input["batches"]
    batches = [batches] if isinstance(batches, str) else list(batches)
    tidy = pd.concat([read_table(path) for path in batches], ignore_index=True)
    if p["check_folders"]:  # read in batches: the whole study's conditions are checked here
        try:
            require_every_condition(tidy, p["conditions"], data_dir, p["format"])
        except InputError as err:
            raise in_data_dir(err, data_dir) from None
    write_tsv(tidy, io.output["tsv"])


run_step(main, globals().get("snakemake"))
