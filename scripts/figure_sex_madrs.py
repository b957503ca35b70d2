"""Figure: MADRS change (day 1 - pre) by condition, males vs females."""

import _package  # noqa: F401  (puts src/ on the import path)

from crossover_fmrs.figures.clinical import sex_madrs
from crossover_fmrs.figures.data import read_participants, read_scores
from crossover_fmrs.figures.style import save_figure
from crossover_fmrs.step import run_step, write_tsv


def main(io):
    figure, table = sex_madrs(read_scores(io.input["scores"]), read_participants(io.input["participants"]),
                              io.params["conditions"], io.params["scales"], outcome=io.params["outcome"],
                              synthetic=io.params["synthetic"])
    save_figure(figure, io.output["png"], io.output["svg"], dpi=io.params["dpi"])
    write_tsv(table, io.output["tsv"])


run_step(main, globals().get("snakemake"))
