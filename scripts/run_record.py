"""The configuration of this run and the versions of the software that produced its results."""

import pandas as pd
import yaml

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.provenance import software_versions
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import atomic_write_text, write_tsv


def main(io):
    atomic_write_text(
        io.output["config"], yaml.safe_dump(dict(io.params["config"]), sort_keys=False)
    )
    versions = pd.DataFrame(software_versions(), columns=["software", "version"])
    write_tsv(versions, io.output["versions"])


run_step(main, globals().get("snakemake"))
