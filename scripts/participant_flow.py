"""Participant flow of the crossover (CONSORT for crossover trials) from the participants, the QC
decisions and flags, the ratings and the analyses: every box the flow diagram draws."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import read_table, write_tsv
from crossover_fmrs.stats.flow import participant_flow


def main(io):
    participants, spectra, flags, scores, glx_rm_anova, clinical_rm_anova = (
        read_table(io.input[name])
        for name in (
            "participants",
            "spectra",
            "flags",
            "scores",
            "glx_rm_anova",
            "clinical_rm_anova",
        )
    )
    p = io.params
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
