"""Write the synthetic study (participants, LCModel fit tables, block timing, clinical sheets,
dataset_description.json) from config `simulation:`: the same code path as
`python -m crossover_fmrs.simulate`."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.simulate.study import (
    model_formulas,
    simulate_files,
    stderr_progress,
    study_settings,
    write_study,
)


def main(io):
    files = simulate_files(
        study_settings(io.params["settings"]),
        io.params["conditions"],
        io.params["scales"],
        io.params["reference"],
        io.params["qc_thresholds"],
        site_column=io.params["site_column"],
        progress=stderr_progress,
        formulas=model_formulas(io.params["stats"]),
    )
    write_study(files, io.output["study"], progress=stderr_progress)
    stderr_progress(f"wrote {len(files)} files to {io.output['study']}")


run_step(main, globals().get("snakemake"))
