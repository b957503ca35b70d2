"""Figure: MADRS mean ± SEM at each time point by condition, with individual lines."""

import _package  # noqa: F401  (puts src/ on the import path)

from crossover_fmrs.figures.clinical import madrs_timecourse
from crossover_fmrs.figures.data import read_scores
from crossover_fmrs.figures.style import save_figure
from crossover_fmrs.step import run_step, write_tsv


def main(io):
    figure, table = madrs_timecourse(read_scores(io.input["scores"]), io.params["conditions"], io.params["scales"],
                                     outcome=io.params["outcome"], synthetic=io.params["synthetic"])
    save_figure(figure, io.output["png"], io.output["svg"], dpi=io.params["dpi"])
    write_tsv(table, io.output["tsv"])


run_step(main, globals().get("snakemake"))
