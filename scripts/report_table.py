"""A table of the pipeline as an HTML page for the report: caption above, numbers rounded for
reading, the TSV at full precision as a download."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import atomic_write_text
from crossover_fmrs.report.pages import render_caption
from crossover_fmrs.report.tables import table_page


def main(io):
    labels = io.params["labels"]
    page = table_page(
        io.input["table"],
        io.params["title"],
        labels,
        render_caption(io.input["caption"], labels),
        io.params["ratio_label"],
        io.params["outcome"],
    )
    atomic_write_text(io.output["page"], page)


run_step(main, globals().get("snakemake"))
