"""Figure: FWHM, S/N and %SD of the ratio's metabolites by condition against the QC thresholds
of the QC flags table."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.schemas import qc_flags_schema, read_checked, spectra_schema
from crossover_fmrs.common.step import run_step
from crossover_fmrs.figures.qc import qc_spectral_quality
from crossover_fmrs.figures.style import Labels, Sizes, write_figure


def main(io):
    conditions = io.params["conditions"]
    figure, table = qc_spectral_quality(
        read_checked(io.input["spectra"], spectra_schema(conditions)),
        read_checked(io.input["flags"], qc_flags_schema(conditions)),
        conditions,
        synthetic=io.params["synthetic"],
        labels=Labels.from_config(io.params["labels"]),
        sizes=Sizes.from_params(io.params),
    )
    write_figure(
        figure, table, io.output, dpi=io.params["dpi"], max_side_px=io.params["max_side_px"]
    )


run_step(main, globals().get("snakemake"))
