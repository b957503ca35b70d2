"""Parse the item-level rating-scale sheets; score each scale by its own published rule."""

from pathlib import Path

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import write_tsv
from crossover_fmrs.ingest.clinical import read_clinical_sheets, tidy_clinical
from crossover_fmrs.ingest.participants import read_participants


def main(io):
    p = io.params
    participants = read_participants(io.input["participants"], p["conditions"])
    clinical_config = {
        "scales": p["scales"],
        "madrs_max_missing_items": p["madrs_max_missing_items"],
    }
    sheets = read_clinical_sheets(
        Path(p["clinical_dir"]), clinical_config, participants, p["conditions"]
    )
    items, scores = tidy_clinical(sheets, clinical_config, p["conditions"])
    write_tsv(items, io.output["item_scores"])
    write_tsv(scores, io.output["scores"])


run_step(main, globals().get("snakemake"))
