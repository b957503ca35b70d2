"""Test helper: the model data of a study built from its raw files in one call (ingest -> QC ->
model data). Used to tie the stored R reference values (tests/fixtures/stats) to the embedded
dataset.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from crossover_fmrs.ingest.clinical import read_clinical_sheets, scale_specs, tidy_clinical
from crossover_fmrs.ingest.mrs import read_study_mrs
from crossover_fmrs.ingest.participants import read_participants
from crossover_fmrs.qc.mrs import apply_qc, mark_phase, qc_flags, spectrum_table
from crossover_fmrs.stats.analyses import clinical_model_data, glx_model_data

OUTCOMES = ("MADRS", "QIDS_SR16")


def embedded_model_data(root: Path, config: dict | None = None) -> dict[str, pd.DataFrame]:
    config = config or yaml.safe_load((root / "config.yaml").read_text())
    data_dir = root / config["data_dir"]
    conditions = config["study"]["conditions"]
    participants = read_participants(data_dir / "participants.tsv", conditions)
    mrs = read_study_mrs(
        data_dir, participants, conditions, config["mrs"]["format"], config["mrs"]["larmor_mhz"]
    )
    spectra = spectrum_table(
        mrs, config["mrs"]["ratio"]["numerator"], config["mrs"]["ratio"]["denominator"]
    )
    spectra = mark_phase(spectra, config["mrs"]["baseline_blocks"])
    thresholds = config["qc"]["mrs"]
    spectra = apply_qc(spectra, qc_flags(spectra, thresholds), thresholds["exclude_on"])
    clinical_config = {**config["clinical"], "scales": scale_specs(config["clinical"]["scales"])}
    sheets = read_clinical_sheets(data_dir / "clinical", clinical_config, participants, conditions)
    _, scores = tidy_clinical(sheets, clinical_config, conditions)
    out = {"glx": glx_model_data(spectra, participants)}
    for outcome in OUTCOMES:
        scale = scores.loc[scores["outcome"] == outcome, "scale"].iloc[0]
        out[outcome.lower()] = clinical_model_data(
            scores, participants, outcome, clinical_config["scales"][scale]["timepoints"]
        )
    return out
