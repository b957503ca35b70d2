"""Percent attenuation of the day-1 MADRS reduction under the treatment, with a bootstrap CI."""

import _package  # noqa: F401  (puts src/ on the import path)

from crossover_fmrs.analysis import attenuation, clinical_model_data
from crossover_fmrs.step import run_step, write_tsv
from crossover_fmrs.tables import read_table


def main(io):
    p = io.params
    primary = p["primary_outcome"]
    timepoints = p["timepoints"][primary]
    data = clinical_model_data(read_table(io.input["scores"]), read_table(io.input["participants"]), primary, timepoints)
    treatment = [c for c in p["conditions"] if c != p["reference"]][0]
    boot = p["bootstrap"]
    table = attenuation(data, p["reference"], treatment, timepoints[0], timepoints[-1],
                        boot["n_resamples"], boot["confidence"], boot["seed"])
    table.insert(0, "subset", "all")
    table.insert(0, "outcome", primary)
    table.insert(0, "analysis", "madrs_attenuation")
    write_tsv(table, io.output["attenuation"])


run_step(main, globals().get("snakemake"))
