"""Sex: the models within males and within females, and the interaction with sex in the whole
sample."""

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
from crossover_fmrs.stats.analyses import (
    primary_model_data,
    require_sex_models,
    run_models,
    sex_subsets,
)


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
    glx, madrs = data["glx"], data["clinical"]
    common = dict(
        conditions=p["conditions"],
        reference=p["reference"],
        ddf=p["ddf"],
        site_term=p.get("site_term"),
    )
    require_sex_models(
        [
            (glx, p["glx_formula"], "sex_stratified", p["outcome"]),
            (madrs, p["clinical_formula"], "sex_stratified", primary),
            (glx, p["glx_sex_formula"], "sex_interaction", p["outcome"]),
            (madrs, p["clinical_sex_formula"], "sex_interaction", primary),
        ],
        p["conditions"],
        p["reference"],
        io.input["participants"],
    )
    parts = [
        run_models(
            glx,
            p["glx_formula"],
            "sex_stratified",
            p["outcome"],
            subsets=sex_subsets(glx),
            **common,
        ),
        run_models(
            madrs,
            p["clinical_formula"],
            "sex_stratified",
            primary,
            subsets=sex_subsets(madrs),
            **common,
        ),
    ]
    interaction = [
        run_models(glx, p["glx_sex_formula"], "sex_interaction", p["outcome"], **common),
        run_models(madrs, p["clinical_sex_formula"], "sex_interaction", primary, **common),
    ]
    write_tsv(pd.concat([t for t, _ in parts], ignore_index=True), io.output["stratified"])
    write_tsv(pd.concat([t for t, _ in interaction], ignore_index=True), io.output["interaction"])
    write_tsv(
        pd.concat([m for _, m in parts + interaction], ignore_index=True), io.output["models"]
    )


run_step(main, globals().get("snakemake"))
