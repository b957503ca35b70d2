"""A table of the pipeline as an HTML page for the report (readable in place, TSV as a download)."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import atomic_write_text
from crossover_fmrs.report.tables import table_page


def main(io):
    atomic_write_text(
        io.output["page"], table_page(io.input["table"], io.params["title"], io.params["synthetic"])
    )


run_step(main, globals().get("snakemake"))
