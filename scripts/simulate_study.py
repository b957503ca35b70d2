"""Write the synthetic study (participants, LCModel fit tables, block timing, clinical sheets)."""

import sys

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.simulate.study import simulate_files, write_study


def main(io):
    files = simulate_files(
        io.params["settings"],
        io.params["conditions"],
        io.params["scales"],
        io.params["reference"],
        io.params["qc_thresholds"],
    )
    write_study(files, io.output["study"])
    print(f"wrote {len(files)} files to {io.output['study']}", file=sys.stderr)


run_step(main, globals().get("snakemake"))
