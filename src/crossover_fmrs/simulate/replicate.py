"""One simulated study as tidy tables, for simulation-based power: the same generative model as
the embedded study (participants, the Glx/tNAA spectra of simulate.mrs, the MADRS totals of
simulate.clinical), with the design's features as settings, and no raw files written.

The effects are the simulator's natural-unit ones (config simulation:, derived from the published
statistics at the published n: simulate/effects.py), the same at every n, and multiplied
by `effect`: 0 is no naltrexone effect at all (no condition effect on Glx/tNAA, no condition x
time interaction on MADRS, no difference between the sexes), 1 the published effects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..common.tables import order_conditions
from .clinical import _latent, _whole, madrs_parameters
from .effects import configured, split_by_sex
from .mrs import latent_spectra
from .study import simulate_participants

MADRS_RANGE = (0, 60)


@dataclass(frozen=True)
class Design:
    """What a simulated study looks like besides its effect size."""

    n_participants: int
    male_fraction: float = 0.5
    qc_failure_rate: float = 22 / 312  # the embedded study: 22 of 312 spectra fail QC
    missing_visit_rate: float = 1 / 52  # the embedded study: 1 of 52 day-1 MADRS ratings missing
    session_sd: float = 0.0  # Glx/tNAA SD of a session's own offset (simulation.mrs)


def published_effects(settings: dict) -> dict[str, float]:
    """The naltrexone effects in natural units (config simulation:): the Glx/tNAA naltrexone -
    placebo difference, the MADRS difference and within-participant SD (points), and the
    male:female ratio."""
    effects = configured({k: v for k, v in settings.items() if k != "calibrated"})
    return {
        "glx_naltrexone_minus_placebo": effects["glx_naltrexone_minus_placebo"],
        "madrs_naltrexone_difference": effects["madrs_naltrexone_difference"],
        "male_to_female_ratio": effects["glx_male_to_female_ratio"],
        "madrs_within_sd": effects["madrs_within_sd"],
    }


def replicate_tables(
    settings: dict, conditions: list[str], design: Design, effect: float, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(participants, spectra, scores) of one simulated study, in the pipeline's tidy layout:
    spectra with ratio and included (QC failures excluded), scores of MADRS with NaN for a
    missed day-1 rating."""
    effects = published_effects(settings)
    n = int(design.n_participants)
    n_male = int(round(design.male_fraction * n))
    reference = settings["reference_condition"]
    people_rng, mrs_rng, madrs_rng, missing_rng = rng.spawn(4)
    participants = simulate_participants(
        {**settings, "n_participants": n, "n_male": n_male}, conditions, people_rng
    )
    spectra = _replicate_spectra(
        settings, participants, design, effect, effects, reference, mrs_rng
    )
    scores = _replicate_madrs(
        settings, participants, design, effect, effects, reference, madrs_rng, missing_rng
    )
    return participants, spectra, scores


def _replicate_spectra(
    settings: dict,
    participants: pd.DataFrame,
    design: Design,
    effect: float,
    effects: dict[str, float],
    reference: str,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """The Glx/tNAA of every spectrum, the QC failures of the design's rate excluded."""
    n = len(participants)
    n_male = int((participants["sex"] == "M").sum())
    n_spectra = 2 * n * (1 + int(settings["mrs"]["n_infusion_blocks"]))
    mrs = {
        **settings["mrs"],
        "n_failing_spectra": int(round(design.qc_failure_rate * n_spectra)),
        "glx_tnaa_session_sd": design.session_sd,
    }
    split = split_by_sex(
        effect * effects["glx_naltrexone_minus_placebo"],
        effects["male_to_female_ratio"],
        n_male,
        n - n_male,
    )
    spectra, _ = latent_spectra(
        participants, {**settings, "mrs": mrs, "reference_condition": reference}, rng, split
    )
    return spectra.assign(ratio=spectra["true_ratio"], included=spectra["failure"] == "")[
        [
            "participant_id",
            "condition",
            "block",
            "onset_min",
            "offset_min",
            "phase",
            "ratio",
            "included",
        ]
    ]


def _replicate_madrs(
    settings: dict,
    participants: pd.DataFrame,
    design: Design,
    effect: float,
    effects: dict[str, float],
    reference: str,
    rng: np.random.Generator,
    missing_rng: np.random.Generator,
) -> pd.DataFrame:
    """The MADRS total before and on day 1 in each condition, the design's share of day-1
    ratings missed (NaN)."""
    n = len(participants)
    n_male = int((participants["sex"] == "M").sum())
    rows = [
        {
            "participant_id": p.participant_id,
            "sex": p.sex,
            "condition": condition,
            "timepoint": timepoint,
            "after": timepoint == "day1",
        }
        for p in participants.itertuples(index=False)
        for condition in order_conditions(p.order)
        for timepoint in ("pre", "day1")
    ]
    frame = pd.DataFrame(rows)
    params = madrs_parameters(settings["clinical"], effects["madrs_within_sd"])
    difference = split_by_sex(
        effect * effects["madrs_naltrexone_difference"],
        effects["male_to_female_ratio"],
        n_male,
        n - n_male,
    )
    values = _whole(_latent(frame, params, difference, reference, rng), *MADRS_RANGE).astype(float)
    day1 = np.flatnonzero(frame["after"].to_numpy())
    missed = missing_rng.choice(
        day1, size=int(round(design.missing_visit_rate * len(day1))), replace=False
    )
    values[missed] = np.nan
    return frame[["participant_id", "condition", "timepoint"]].assign(
        scale="MADRS", outcome="MADRS", value=values
    )
