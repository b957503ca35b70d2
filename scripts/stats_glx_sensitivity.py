"""Glx/tNAA sensitivity analysis: the primary model plus a session random intercept, so that the
condition effect is tested against the variation between a participant's sessions."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import read_table, write_tsv
from crossover_fmrs.stats.analyses import glx_model_data, run_models


def main(io):
    p = io.params
    data = glx_model_data(read_table(io.input["spectra"]), read_table(io.input["participants"]))
    tests, models = run_models(
        data,
        p["formula"],
        "glx_lmm_sensitivity",
        p["outcome"],
        p["conditions"],
        p["reference"],
        ddf=p["ddf"],
        site_term=p.get("site_term"),
    )
    write_tsv(tests, io.output["lmm"])
    write_tsv(models, io.output["models"])


run_step(main, globals().get("snakemake"))
