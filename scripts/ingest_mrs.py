"""Parse the fMRS fit outputs and block-timing sidecars of one batch of participants (or of the
whole study, where its format is read in one job) into a tidy table."""

from pathlib import Path

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import write_table
from crossover_fmrs.ingest.mrs import read_study_mrs
from crossover_fmrs.ingest.participants import read_participants


def main(io):
    p = io.params
    participants = read_participants(io.input["participants"], p["conditions"])
    batch = p.get("batch")
    if batch is not None:
        participants = participants[participants["participant_id"].isin(batch)]
    tidy = read_study_mrs(
        Path(p["data_dir"]),
        participants,
        p["conditions"],
        fmt=p["format"],
        larmor_mhz=p["larmor_mhz"],
        options=p.get("options"),
        workdir_paths=True,
        batch=batch is not None,
    )
    write_table(tidy, io.output["mrs"])


run_step(main, globals().get("snakemake"))
