"""The run's configuration as a readable report page (sections, keys, values; YAML a download)."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import atomic_write_text
from crossover_fmrs.report.pages import render_caption
from crossover_fmrs.report.run_config import config_page


def main(io):
    labels = io.params["labels"]
    page = config_page(
        io.input["config"], io.params["title"], labels, render_caption(io.input["caption"], labels)
    )
    atomic_write_text(io.output["page"], page)


run_step(main, globals().get("snakemake"))
