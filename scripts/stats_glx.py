"""Glx/tNAA over the fMRS blocks: mixed model (Satterthwaite F) and rm-ANOVA (GG, complete cases)."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import read_table, write_tsv
from crossover_fmrs.stats.analyses import glx_model_data, rm_anova_rows, run_models


def main(io):
    p = io.params
    data = glx_model_data(read_table(io.input["spectra"]), read_table(io.input["participants"]))
    tests, models = run_models(data, p["formula"], "glx_lmm", p["outcome"], p["conditions"], p["reference"],
                               ddf=p["ddf"])
    write_tsv(tests, io.output["lmm"])
    write_tsv(models, io.output["models"])
    write_tsv(rm_anova_rows(data, "ratio", ["condition", "block"], "glx_rm_anova", p["outcome"]), io.output["rm_anova"])


run_step(main, globals().get("snakemake"))
