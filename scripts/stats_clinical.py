"""MADRS and each secondary outcome: mixed model condition x time point, and rm-ANOVA."""

import pandas as pd

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.schemas import clinical_scores_schema, participants_schema, read_checked
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import write_tsv
from crossover_fmrs.stats.analyses import (
    clinical_model_data,
    impute_missing,
    rm_anova_rows,
    run_models,
)


def main(io):
    p = io.params
    participants = read_checked(io.input["participants"], participants_schema(p["conditions"]))
    scores = read_checked(io.input["scores"], clinical_scores_schema(p["conditions"], p["scales"]))
    # The paper imputed missing pre-dose TEPS-A values; the method is a setting, every fill is
    # listed.
    imputation = p["imputation"]
    scores, imputed = impute_missing(
        scores, imputation["outcomes"], imputation["timepoint"], imputation["method"]
    )
    tests, models, anovas = [], [], []
    outcomes = scores[["scale", "outcome"]].drop_duplicates()
    for scale, outcome in outcomes.itertuples(index=False):
        data = clinical_model_data(scores, participants, outcome, p["scales"][scale]["timepoints"])
        t, m = run_models(
            data,
            p["formula"],
            "clinical_lmm",
            outcome,
            p["conditions"],
            p["reference"],
            ddf=p["ddf"],
            site_term=p.get("site_term"),
        )
        tests.append(t)
        models.append(m)
        anovas.append(
            rm_anova_rows(data, "value", ["condition", "timepoint"], "clinical_rm_anova", outcome)
        )
    write_tsv(pd.concat(tests, ignore_index=True), io.output["lmm"])
    write_tsv(pd.concat(models, ignore_index=True), io.output["models"])
    write_tsv(pd.concat(anovas, ignore_index=True), io.output["rm_anova"])
    write_tsv(imputed, io.output["imputed"])


run_step(main, globals().get("snakemake"))
