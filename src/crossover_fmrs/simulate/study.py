"""Write the whole synthetic study: participants, fMRS fit tables, clinical sheets.

The generative models live in simulate_mrs and simulate_clinical; this module draws the
participants, hands each part its own random stream (so that a change in one part does not
shift the numbers of another) and writes every file deterministically.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from .calibrate import calibrate, calibration_tsv
from .clinical import simulate_clinical, write_sheet
from .mrs import simulate_mrs

SYNTHETIC_NOTICE = """\
# SYNTHETIC DATA: not the trial's data

Every file in this folder was written by this project's simulator (`snakemake -f simulate_study`,
settings under `simulation:` in config.yaml, seed {seed}). The design and the effect sizes follow
the published design and statistics of Jelen et al., Nat Med 2025 (NCT04977674); no value comes
from a real participant. The trial's participant-level data are not public.

Layout (see the project README for every column):
- participants.tsv, participants.json: one row per participant, and the data dictionary
- sub-XX/ses-<condition>/mrs/sub-XX_ses-<condition>_block-NN.table: LCModel fit tables
- sub-XX/ses-<condition>/mrs/sub-XX_ses-<condition>_blocks.tsv: block timing, minutes from the \
start of the infusion
- clinical/<scale>.tsv: item-level rating-scale sheets
"""

CALIBRATION_NOTICE = """\
- calibration.tsv: the effect sizes the simulator's calibration found (simulation.calibrate: the
  pipeline, run on these files, reproduces the published statistics); no stage of the pipeline \
reads it
"""

PARTICIPANTS_DICTIONARY = {
    "participant_id": {"Description": "Participant label"},
    "sex": {"Description": "Sex", "Levels": {"M": "male", "F": "female"}},
    "age": {"Description": "Age at screening", "Units": "years"},
    "order": {
        "Description": "Randomised order of the conditions, first-second",
        "Levels": {
            "placebo-naltrexone": "placebo at visit 1, naltrexone at visit 2",
            "naltrexone-placebo": "naltrexone at visit 1, placebo at visit 2",
        },
    },
    "hamd17_screening": {
        "Description": "17-item Hamilton Depression Rating Scale at screening (inclusion >= 18)"
    },
    "n_failed_treatments": {
        "Description": (
            "Antidepressant treatments (medication or psychotherapy) with inadequate response"
        )
    },
    "on_antidepressant": {
        "Description": "Taking a regular antidepressant during the study",
        "Levels": {"yes": "yes", "no": "no"},
    },
}


def simulate_participants(
    settings: dict, conditions: list[str], rng: np.random.Generator
) -> pd.DataFrame:
    """Participants with sex, age, counterbalanced order and baseline characteristics."""
    n = int(settings["n_participants"])
    n_male = int(settings["n_male"])
    if not 0 <= n_male <= n:
        raise ValueError(
            f"simulation.n_male must be between 0 and n_participants ({n}), got {n_male}"
        )
    sex = np.array(["M"] * n_male + ["F"] * (n - n_male))
    rng.shuffle(sex)
    # Counterbalanced: the two orders alternate over the participants listed by sex, so each order
    # has half of the sample (and of each sex, up to one), then are shuffled within sex.
    order = np.empty(n, dtype=object)
    pair = ["-".join(conditions), "-".join(reversed(conditions))]
    by_sex = np.concatenate([np.flatnonzero(sex == "M"), np.flatnonzero(sex == "F")])
    order[by_sex] = [pair[i % 2] for i in range(n)]
    for code in ("M", "F"):
        index = np.flatnonzero(sex == code)
        order[index] = rng.permutation(order[index])
    age = np.clip(np.round(rng.normal(settings["age_mean"], settings["age_sd"], n)), 18, 50).astype(
        int
    )
    hamd = rng.integers(18, 27, n)
    failed = rng.integers(2, 6, n)
    on_ad = np.where(rng.random(n) < 0.6, "yes", "no")
    width = max(2, len(str(n)))
    return pd.DataFrame(
        {
            "participant_id": [f"sub-{i:0{width}d}" for i in range(1, n + 1)],
            "sex": sex,
            "age": age,
            "order": order,
            "hamd17_screening": hamd,
            "n_failed_treatments": failed,
            "on_antidepressant": on_ad,
        }
    )


def simulate_files(
    settings: dict,
    conditions: list[str],
    scales: dict | None = None,
    reference: str | None = None,
    qc_thresholds: dict | None = None,
    calibration: dict | None = None,
) -> dict[str, bytes]:
    """Every file of the synthetic study as relative path -> bytes.

    scales (config clinical.scales) names the sheets and their time points; reference is the
    reference condition; qc_thresholds (config qc.mrs) are the criteria the few poor spectra
    are made to fail. All default to the simulator's own (the paper's design).
    With settings["calibrate"] the effect sizes are searched (simulate/calibrate.py) and written
    to calibration.tsv; `calibration` (read_calibration of that file) skips the search.
    """
    settings = dict(settings)
    if qc_thresholds is not None:
        settings["qc_thresholds"] = qc_thresholds
    if scales is not None:
        settings["clinical"] = {**settings.get("clinical", {}), "scales": scales}
    if reference is not None:
        settings["reference_condition"] = reference

    def stream(part: int) -> np.random.Generator:
        # A fresh SeedSequence each time: spawning children advances it, and every candidate of
        # the calibration must draw the same noise as the final study.
        return np.random.default_rng(np.random.SeedSequence(int(settings["seed"])).spawn(3)[part])

    participants = simulate_participants(settings, conditions, stream(0))
    calibrated = bool(settings.get("calibrate", False))
    files: dict[str, bytes] = {
        "README.md": (
            SYNTHETIC_NOTICE.format(seed=settings["seed"])
            + (CALIBRATION_NOTICE if calibrated else "")
        ).encode(),
        "participants.tsv": participants.to_csv(
            sep="\t", index=False, lineterminator="\n"
        ).encode(),
        "participants.json": (json.dumps(PARTICIPANTS_DICTIONARY, indent=2) + "\n").encode(),
    }

    def draw_mrs(values: dict) -> dict[str, bytes]:
        drawn = simulate_mrs(participants, values, stream(1))
        return {path: text.encode() for path, text in drawn.items()}

    def draw_clinical(values: dict) -> dict[str, bytes]:
        out = {}
        with tempfile.TemporaryDirectory() as scratch:
            for sheet, frame in simulate_clinical(participants, values, stream(2)).items():
                target = Path(scratch) / sheet
                write_sheet(frame, target)
                out[f"clinical/{sheet}"] = target.read_bytes()
        return out

    if calibrated:
        if calibration is None:
            calibration = calibrate(settings, conditions, files, draw_mrs, draw_clinical)
        settings["calibrated"] = calibration
        files["calibration.tsv"] = calibration_tsv(calibration)
    files.update(draw_mrs(settings))
    files.update(draw_clinical(settings))
    return dict(sorted(files.items()))


def write_study(files: dict[str, bytes], out_dir: str | Path) -> None:
    """Write the files into out_dir via a scratch folder, so a failure leaves no half-written
    study."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".simulate-", dir=out_dir.parent))
    try:
        for relative, content in files.items():
            target = scratch / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        scratch.rename(out_dir)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch)
