"""Flag every spectrum of one batch against the configured QC criteria and decide which enter
the statistics (each spectrum's criteria need only its own session)."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.schemas import mrs_long_schema, read_checked
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import write_table
from crossover_fmrs.qc.mrs import apply_qc, mark_phase, qc_flags, spectrum_table


def main(io):
    # conditions were checked against config when the batch was ingested
    mrs = read_checked(io.input["mrs"], mrs_long_schema())
    spectra = spectrum_table(
        mrs, io.params["ratio"]["numerator"], io.params["ratio"]["denominator"]
    )
    spectra = mark_phase(spectra, io.params["baseline_blocks"])
    flags = qc_flags(spectra, io.params["thresholds"])
    spectra = apply_qc(spectra, flags, io.params["thresholds"]["exclude_on"])
    write_table(spectra, io.output["spectra"])
    write_table(flags, io.output["flags"])


run_step(main, globals().get("snakemake"))
