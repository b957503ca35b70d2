"""Figure: CONSORT-style participant flow diagram, drawn from results/stats/participant_flow.tsv
(every box and count is the table's, from enrolment to the analyses)."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.schemas import flow_schema, read_checked
from crossover_fmrs.common.step import run_step
from crossover_fmrs.figures.flow import participant_flow
from crossover_fmrs.figures.style import write_figure


def main(io):
    figure, table = participant_flow(
        read_checked(io.input["flow"], flow_schema()),
        io.params["conditions"],
        synthetic=io.params["synthetic"],
    )
    write_figure(
        figure, table, io.output, dpi=io.params["dpi"], max_side_px=io.params["max_side_px"]
    )


run_step(main, globals().get("snakemake"))
