"""Participant flow of the crossover (CONSORT for crossover trials) from the participants, the QC
decisions and flags, the ratings and the analyses: every box the flow diagram draws."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.schemas import (
    clinical_scores_schema,
    participants_schema,
    qc_flags_schema,
    read_checked,
    spectra_schema,
    stats_schema,
)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import write_tsv
from crossover_fmrs.stats.flow import participant_flow


def main(io):
    p = io.params
    participants = read_checked(io.input["participants"], participants_schema(p["conditions"]))
    spectra = read_checked(io.input["spectra"], spectra_schema(p["conditions"]))
    flags = read_checked(io.input["flags"], qc_flags_schema(p["conditions"]))
    scores = read_checked(io.input["scores"], clinical_scores_schema(p["conditions"]))
    glx_rm_anova, clinical_rm_anova = (
        read_checked(io.input[name], stats_schema())
        for name in ("glx_rm_anova", "clinical_rm_anova")
    )
    flow = participant_flow(
        participants,
        spectra,
        flags,
        scores,
        glx_rm_anova,
        clinical_rm_anova,
        p["conditions"],
        p["primary_outcome"],
        p["ratio_label"],
    )
    write_tsv(flow, io.output["flow"])


run_step(main, globals().get("snakemake"))
