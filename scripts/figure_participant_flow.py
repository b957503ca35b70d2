"""Figure: CONSORT-style participant flow diagram of results/stats/participant_flow.tsv, from
enrolment (participants.tsv) to the analyses per condition (spectra and ratings)."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.schemas import (
    clinical_scores_schema,
    flow_schema,
    participants_schema,
    read_checked,
    spectra_schema,
)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.figures.flow import participant_flow
from crossover_fmrs.figures.style import write_figure
from crossover_fmrs.figures.summary import analysed_by_condition


def main(io):
    conditions = io.params["conditions"]
    analysed = analysed_by_condition(
        read_checked(io.input["spectra"], spectra_schema(conditions)),
        read_checked(io.input["scores"], clinical_scores_schema(conditions)),
        conditions,
        io.params["outcome"],
    )
    figure, table = participant_flow(
        read_checked(io.input["flow"], flow_schema()),
        conditions,
        participants=read_checked(io.input["participants"], participants_schema(conditions)),
        analysed=analysed,
        synthetic=io.params["synthetic"],
    )
    write_figure(
        figure, table, io.output, dpi=io.params["dpi"], max_side_px=io.params["max_side_px"]
    )


run_step(main, globals().get("snakemake"))
