"""A pooled multi-site study: each site's Glx/tNAA condition effect from its own model, the
pooled estimate (one-stage model with a site intercept, and a random-effects meta-analysis of the
sites) and the between-site heterogeneity."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.schemas import participants_schema, read_checked, spectra_schema
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import write_tsv
from crossover_fmrs.stats.analyses import glx_model_data
from crossover_fmrs.stats.sites import site_effects


def main(io):
    p = io.params
    data = glx_model_data(
        read_checked(io.input["spectra"], spectra_schema(p["conditions"])),
        read_checked(io.input["participants"], participants_schema(p["conditions"])),
    )
    table = site_effects(
        data, p["formula"], p["site_term"], p["conditions"], p["reference"], ddf=p["ddf"]
    )
    write_tsv(table, io.output["effects"])


run_step(main, globals().get("snakemake"))
