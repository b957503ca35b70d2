"""Glx/tNAA over the fMRS blocks: mixed model (Satterthwaite F) and rm-ANOVA (GG, complete
cases). The same step fits the session sensitivity model (params analysis glx_lmm_sensitivity,
the primary formula plus a session random intercept), which has no rm-ANOVA complement."""

import pandas as pd

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.schemas import participants_schema, read_checked, spectra_schema
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import write_tsv
from crossover_fmrs.stats.analyses import (
    glx_model_data,
    phase_cell_means,
    rm_anova_rows,
    run_models,
)


def main(io):
    p = io.params
    data = glx_model_data(
        read_checked(io.input["spectra"], spectra_schema(p["conditions"])),
        read_checked(io.input["participants"], participants_schema(p["conditions"])),
    )
    tests, models = run_models(
        data,
        p["formula"],
        p["analysis"],
        p["outcome"],
        p["conditions"],
        p["reference"],
        ddf=p["ddf"],
        site_term=p.get("site_term"),
    )
    write_tsv(tests, io.output["lmm"])
    write_tsv(models, io.output["models"])
    if "rm_anova" not in io.output:
        return
    # Classical complements: condition x phase on each participant's cell means keeps everyone with
    # a spectrum in every cell; the block-level one needs all 12 cells and so keeps few.
    phase = rm_anova_rows(
        phase_cell_means(data),
        "ratio",
        ["condition", "phase"],
        "glx_rm_anova_phase",
        p["outcome"],
        values="each participant's mean of the included spectra per cell",
    )
    block = rm_anova_rows(
        data,
        "ratio",
        ["condition", "block"],
        "glx_rm_anova_block",
        p["outcome"],
        why_small="QC exclusions spread over participants leave few with every condition x block "
        "cell",
    )
    write_tsv(pd.concat([phase, block], ignore_index=True), io.output["rm_anova"])


run_step(main, globals().get("snakemake"))
