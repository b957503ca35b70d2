"""The simulator's effects in natural units, and their derivation from the published statistics.

The settings under `simulation:` give every effect in the outcome's own units: the naltrexone -
placebo difference of Glx/tNAA (ratio units, averaged over a session's blocks), the MADRS points
by which the placebo day-1 reduction is smaller under naltrexone, and the MADRS
within-participant SD in points. A study of any size draws with these, so its per-participant
noise and effect are those of the embedded study.

The embedded study's values come from the published statistics at the published sample size
(simulation.published_n_participants, 26) [V], here and nowhere else (docs/simulator.md):

Glx/tNAA, F(1,253) = 4.83 of the condition main effect, tested against the within-participant
    residual sigma (mrs.glx_tnaa_within_sd). With N usable spectra (2 x n x n_blocks -
    n_failing_spectra, 290 at n = 26) the condition difference averaged over blocks has
    SE ~ 2 sigma / sqrt(N), so the difference whose noncentrality equals the published F is
    Delta = -sqrt(F) x 2 sigma / sqrt(N) (negative: a smaller rise under naltrexone).
    Defaults: -sqrt(4.83) x 0.12 / sqrt(290) = -0.01549.
MADRS, F(1,74) = 5.39 of condition x time: the difference is published_attenuation x
    madrs_placebo_reduction (0.28 x 11 = 3.08 points); each participant's interaction contrast
    has variance 4 sigma^2, so F = (d sqrt(n) / (2 sigma))^2 gives
    sigma = d sqrt(n) / (2 sqrt(F)) = 3.08 x sqrt(26) / (2 sqrt(5.39)) = 3.382 points.

config.yaml holds these results (a test keeps them equal to this derivation at their written
precision); with simulation.calibrate they are the starting point of the search.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np


def n_blocks(settings: Mapping) -> int:
    """Blocks per session: the baseline block and the infusion blocks."""
    return 1 + int(settings["mrs"]["n_infusion_blocks"])


def derived_from_published(settings: Mapping) -> dict[str, float]:
    """The natural-unit effects implied by the published statistics at the published n."""
    mrs, clinical = settings["mrs"], settings["clinical"]
    n = int(settings["published_n_participants"])
    n_usable = 2 * n * n_blocks(settings) - int(mrs["n_failing_spectra"])
    glx = -math.sqrt(float(mrs["published_condition_F"])) * 2.0 * float(mrs["glx_tnaa_within_sd"])
    glx /= math.sqrt(n_usable)
    madrs = float(clinical["published_attenuation"]) * float(clinical["madrs_placebo_reduction"])
    madrs_sd = madrs * math.sqrt(n) / (2.0 * math.sqrt(float(clinical["published_interaction_F"])))
    return {
        "glx_naltrexone_minus_placebo": glx,
        "madrs_naltrexone_difference": madrs,
        "madrs_within_sd": madrs_sd,
        "n_usable_spectra": n_usable,
    }


def configured(settings: Mapping) -> dict[str, float]:
    """The natural-unit effects a draw uses: config, replaced by calibrated values when given
    (only those of the parts the settings have: mrs, clinical)."""
    calibrated = settings.get("calibrated", {})
    given = {
        "glx_male_to_female_ratio": settings["male_to_female_effect_ratio"],
        "glx_naltrexone_minus_placebo": settings.get("mrs", {}).get("naltrexone_minus_placebo"),
        "madrs_naltrexone_difference": settings.get("clinical", {}).get(
            "madrs_naltrexone_difference"
        ),
        "madrs_within_sd": settings.get("clinical", {}).get("madrs_within_sd"),
    }
    values = {name: calibrated.get(name, value) for name, value in given.items()}
    return {name: float(value) for name, value in values.items() if value is not None}


def split_by_sex(mean: float, ratio: float, n_male: int, n_female: int) -> dict[str, float]:
    """{'M': d_M, 'F': d_F} with d_M / d_F = ratio and the sample-weighted mean
    (n_M d_M + n_F d_F) / n = mean (an effect larger in males [V direction, A ratio])."""
    if ratio <= 0:
        raise ValueError(f"male_to_female_effect_ratio must be > 0, got {ratio}")
    n = n_male + n_female
    female = mean * n / (n_male * ratio + n_female) if n else mean
    return {"M": ratio * female, "F": female}


def scaled_count(count: int, n_participants: int, published_n: int) -> int:
    """A count given for the published n (spectra failing QC, missing ratings) at another n: the
    same share, rounded (half to even)."""
    return int(np.rint(int(count) * n_participants / published_n))
