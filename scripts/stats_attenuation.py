"""Percent attenuation of an outcome's reduction under each non-reference condition, with a
bootstrap CI."""

import pandas as pd

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.schemas import clinical_scores_schema, participants_schema, read_checked
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import write_tsv
from crossover_fmrs.stats.analyses import attenuation, outcome_model_data


def main(io):
    p = io.params
    settings = p["attenuation"]
    outcome = settings["outcome"]
    data = outcome_model_data(
        read_checked(io.input["scores"], clinical_scores_schema(p["conditions"])),
        read_checked(io.input["participants"], participants_schema(p["conditions"])),
        outcome,
        p["timepoints"],
    )
    tables = []
    for treatment in [c for c in p["conditions"] if c != p["reference"]]:
        table = attenuation(
            data,
            p["reference"],
            treatment,
            settings["before"],
            settings["after"],
            settings["n_resamples"],
            settings["confidence"],
            settings["seed"],
        )
        table.insert(0, "condition", treatment)
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    table.insert(0, "subset", "all")
    table.insert(0, "outcome", outcome)
    table.insert(0, "analysis", "attenuation")
    write_tsv(table, io.output["attenuation"])


run_step(main, globals().get("snakemake"))
