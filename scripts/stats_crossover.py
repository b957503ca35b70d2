"""Crossover checks: period effect and carry-over (sequence effect) for Glx/tNAA and MADRS."""

import pandas as pd

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.schemas import (
    clinical_scores_schema,
    participants_schema,
    read_checked,
    spectra_schema,
)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import write_tsv
from crossover_fmrs.stats.analyses import primary_model_data, run_models


def main(io):
    p = io.params
    primary = p["primary_outcome"]
    data = primary_model_data(
        read_checked(io.input["spectra"], spectra_schema(p["conditions"])),
        read_checked(io.input["scores"], clinical_scores_schema(p["conditions"])),
        read_checked(io.input["participants"], participants_schema(p["conditions"])),
        primary,
        p["timepoints"],
    )
    common = dict(
        conditions=p["conditions"],
        reference=p["reference"],
        ddf=p["ddf"],
        site_term=p.get("site_term"),
    )
    parts = [
        run_models(data["glx"], p["glx_formula"], "crossover_checks", p["outcome"], **common),
        run_models(data["clinical"], p["clinical_formula"], "crossover_checks", primary, **common),
    ]
    write_tsv(pd.concat([t for t, _ in parts], ignore_index=True), io.output["checks"])
    write_tsv(pd.concat([m for _, m in parts], ignore_index=True), io.output["models"])


run_step(main, globals().get("snakemake"))
