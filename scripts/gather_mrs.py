"""Gather the batches of the tidy fMRS table into the one TSV people open, after checking that
no participant folder is missing from participants.tsv (a batch reads only its own folders)."""

from pathlib import Path

import pandas as pd

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.errors import InputError
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import gather_tsv
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
    # read in batches: the whole study's conditions are checked here, over every batch (a failed
    # check removes the gathered file: run_step)
    seen = {"condition": set(), "rows": 0}

    def note(batch):
        seen["condition"] |= set(batch["condition"])
        seen["rows"] += len(batch)

    gather_tsv(io.input["batches"], io.output["tsv"], note)
    if p["check_folders"]:
        conditions = pd.DataFrame({"condition": sorted(seen["condition"])})
        try:
            require_every_condition(
                conditions if seen["rows"] else conditions.iloc[:0],
                p["conditions"],
                data_dir,
                p["format"],
            )
        except InputError as err:
            raise in_data_dir(err, data_dir) from None


run_step(main, globals().get("snakemake"))
