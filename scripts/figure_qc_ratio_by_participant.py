"""Figure: map of every spectrum's Glx/tNAA by participant, condition and block, exclusions
coded."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.schemas import read_checked, spectra_schema
from crossover_fmrs.common.step import run_step
from crossover_fmrs.figures.qc import qc_ratio_by_participant
from crossover_fmrs.figures.style import Labels, Sizes, write_figure


def main(io):
    figure, table = qc_ratio_by_participant(
        read_checked(io.input["spectra"], spectra_schema(io.params["conditions"])),
        io.params["conditions"],
        synthetic=io.params["synthetic"],
        labels=Labels.from_config(io.params["labels"]),
        sizes=Sizes.from_params(io.params),
    )
    write_figure(
        figure, table, io.output, dpi=io.params["dpi"], max_side_px=io.params["max_side_px"]
    )


run_step(main, globals().get("snakemake"))
