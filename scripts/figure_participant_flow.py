"""Figure: CONSORT-style participant flow diagram of results/qc/participant_flow.tsv."""

import _package  # noqa: F401  (puts src/ on the import path)

from crossover_fmrs.figures.data import read_flow
from crossover_fmrs.figures.flow import participant_flow
from crossover_fmrs.figures.style import save_figure
from crossover_fmrs.step import run_step, write_tsv


def main(io):
    figure, table = participant_flow(read_flow(io.input["flow"]), io.params["conditions"],
                                     synthetic=io.params["synthetic"])
    save_figure(figure, io.output["png"], io.output["svg"], dpi=io.params["dpi"])
    write_tsv(table, io.output["tsv"])


run_step(main, globals().get("snakemake"))
