"""The configuration of this run and the versions of the software that produced its results."""

import platform
from importlib import metadata

import pandas as pd
import yaml

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs import __version__
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import atomic_write_text, write_tsv


def main(io):
    atomic_write_text(
        io.output["config"], yaml.safe_dump(dict(io.params["config"]), sort_keys=False)
    )
    rows = [("python", platform.python_version()), ("crossover_fmrs", __version__)]
    rows += [(name, metadata.version(name)) for name in io.params["packages"]]
    write_tsv(pd.DataFrame(rows, columns=["software", "version"]), io.output["versions"])


run_step(main, globals().get("snakemake"))
