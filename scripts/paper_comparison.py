"""Every published number beside the reproduced one, with the difference and whether the
conclusion agrees."""

import pandas as pd

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.schemas import (
    attenuation_schema,
    models_schema,
    power_schema,
    read_checked,
    stats_schema,
)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import atomic_write_text, write_tsv
from crossover_fmrs.stats.comparison import compare, to_markdown

# The layout of each table the comparison reads, by its input name (the rest are F tests).
SCHEMAS = {
    "glx_sensitivity_models": models_schema,
    "attenuation": attenuation_schema,
    "power": power_schema,
}


def main(io):
    published = pd.read_csv(io.input["published"], sep="\t", dtype=str, keep_default_na=False)
    tables = {
        name: read_checked(path, SCHEMAS.get(name, stats_schema)())
        for name, path in io.input.items()
        if name != "published" and path  # power: an empty list unless it was run
    }
    synthetic, calibrated = io.params["labels"]["synthetic"], io.params["labels"]["calibrated"]
    table = compare(published, tables, synthetic, calibrated)
    write_tsv(table, io.output["table"])
    atomic_write_text(io.output["markdown"], to_markdown(table, synthetic, calibrated))


run_step(main, globals().get("snakemake"))
