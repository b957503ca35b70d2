"""Figure: power curves of the study's tests with the Monte Carlo CI and the study's own n."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.schemas import power_schema, read_checked
from crossover_fmrs.common.step import run_step
from crossover_fmrs.figures.power import power_curves
from crossover_fmrs.figures.style import write_figure


def main(io):
    figure, table = power_curves(
        read_checked(io.input["power"], power_schema()),
        observed_n=io.params["observed_n"],
        targets=io.params["targets"],
        synthetic=io.params["synthetic"],
    )
    write_figure(figure, table, io.output, dpi=io.params["dpi"])


run_step(main, globals().get("snakemake"))
