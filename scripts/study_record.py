"""<results_dir>/study.json: which study this results folder holds (data folder, hash of the raw
files' bytes, labels); the guard in rules/common.smk reads it at every start, with the listing
hash (names, sizes, modification times) of this record in study_listing.sha256 beside it."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.provenance import json_bytes, study_record
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import atomic_write_text
from crossover_fmrs.ingest.formats.layout import format_inputs, study_inputs


def main(io):
    p = io.params
    mrs_files = format_inputs(p["data_dir"], p["mrs_format"], p["osprey_subspectrum"])
    files = study_inputs(p["data_dir"], mrs_files, p["sheets"])
    atomic_write_text(
        io.output["record"], json_bytes(study_record(p["data_dir"], files, p["labels"]))
    )
    atomic_write_text(io.output["listing"], p["listing_sha256"] + "\n")


run_step(main, globals().get("snakemake"))
