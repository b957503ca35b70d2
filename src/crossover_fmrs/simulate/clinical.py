"""Clinical part of the study simulator: item-level rating-scale sheets in the raw format.

Generative model (settings = config `simulation`; [V]/[I]/[A] as in the paper README)
------------------------------------------------------------------------------------
Every scale has two time points per condition, `before` (pre) and `after` (day1 for the
depression scales, post = just after the infusion for CADSS and PSI). For participant i under
condition c at time t the latent score is

    y = baseline_mean + v_k + u_i + [t = after] * (change + s_i + [c = naltrexone] * d_sex) + e,
    u_i ~ N(0, between_sd^2),  s_i ~ N(0, response_sd^2),  e ~ N(0, within_sd^2)

with d the naltrexone_difference in the score's points (the condition x time interaction:
naltrexone's change minus placebo's) and v_k a site's MADRS intercept (sites.madrs_site_sd,
only with n_sites > 1). It is rounded, clipped to the score's range and spread over the items so
that the items give back exactly that score under the scale's own scoring rule
(crossover_fmrs.ingest.scales).

MADRS follows the published model `MADRS ~ condition * time + (1 | participant)`:
baseline_mean = madrs_baseline_mean, between_sd = madrs_between_sd, change = -R with
R = madrs_placebo_reduction, response_sd = 0, d = madrs_naltrexone_difference (3.08 points:
0.28 x 11 [V: about 28%]) and within_sd = madrs_within_sd (3.382 points, which gives the
published F(1,74) = 5.39 at n = 26; the derivation is in simulate/effects.py). Both are points,
the same at any size.

- Split by sex [V direction, A ratio]: with r = male_to_female_effect_ratio and n_M, n_F the
  participants of each sex, d_F = d * n / (n_M * r + n_F) and d_M = r * d_F, so d_M / d_F = r
  and the sample-weighted mean (n_M d_M + n_F d_F) / n equals d (effects.split_by_sex).

Secondary scales take their parameters from SECONDARY (module constants, all [A]: plausible
levels for treatment-resistant depression and ketamine 0.5 mg/kg, not published for this
trial), overridable per score by settings["clinical"]["secondary"][<score>][<key>]. The
self-rated scales move in the same direction as MADRS with a smaller naltrexone difference
(a fifth of the placebo change, same sex split) and so an expected interaction t near 1 or
below: not significant [V direction only]. CADSS and PSI are low before and rise just after the
infusion under both conditions, with no naltrexone effect (d = 0), as in Williams et al. 2018.
s_i (a participant's own response, the same in both conditions) cancels from the condition x
time contrast.

Items [A]: a total is spread over the items by a capped sequential multinomial (distribute_totals,
all rows at once)
with fixed item weights (MADRS_ITEM_WEIGHTS, uniform for the other scales); QIDS-SR16 spreads its
total over the nine domains, then the highest item of a multi-item domain carries the domain
score; SHAPS marks the scored items "disagree" (response 1 or 2) and the others "agree" (3 or
4); TEPS spreads (total - n_items) over items 1-6 and writes item 13 as 7 - scored value;
M3VAS items are each their own latent score in whole mm.

Missing data, as configured: `madrs_missing_assessments` day-1 MADRS rows with every item
and hours_from_infusion empty; `madrs_missing_items` other MADRS assessments with one unrated
item each (prorated when scored); `teps_anticipatory_missing_pre` participants with all ten
TEPS-A items empty at pre in one condition (chosen at random). Nothing else is missing.

Timing [A, around V]: pre = -(pretreatment_min / 60) - U(0.1, 0.4) h (before the tablet);
post = end of the 40-min infusion + U(0, 0.2) h; day1 = 24 + N(0, 0.5) h, with a 10% chance
of a visit moved by 1-3.5 h, clipped to 20.5-27.5 h (within the +-4 h window). Every scale
rated at the same visit shares its time. Hours are rounded to 0.01.

Each part draws from its own child stream of `rng`, so changing one scale does not shift the
numbers of another.

Calibration (simulation.calibrate, simulate/calibrate.py): settings["calibrated"] may replace the
MADRS difference and within-participant SD and the QIDS-SR16 difference by searched values, and
list single item changes (apply_item_changes) made after the draw; the draws themselves are the
same.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..common.errors import InputError
from ..common.tables import order_conditions
from ..ingest.scales import (
    QIDS_DOMAINS,
    SCALES,
    TEPS_ANTICIPATORY,
    TEPS_CONSUMMATORY,
    TEPS_REVERSED,
    item_column,
)
from .effects import configured, split_by_sex

# Sheet and (before, after) time points of each scale, as in config.yaml clinical.scales.
DEFAULT_SHEETS = {
    "MADRS": ("madrs.tsv", ("pre", "day1")),
    "QIDS_SR16": ("qids_sr16.tsv", ("pre", "day1")),
    "M3VAS": ("m3vas.tsv", ("pre", "day1")),
    "SHAPS": ("shaps.tsv", ("pre", "day1")),
    "TEPS": ("teps.tsv", ("pre", "day1")),
    "CADSS": ("cadss.tsv", ("pre", "post")),
    "PSI": ("psi.tsv", ("pre", "post")),
}
INFUSION_MIN = 40.0  # [V] ketamine 0.5 mg/kg over 40 minutes

# [A] relative MADRS item severity in treatment-resistant depression (apparent sadness, reported
# sadness, inner tension, reduced sleep, reduced appetite, concentration, lassitude, inability
# to feel, pessimistic thoughts, suicidal thoughts): appetite and suicidal thoughts rated lower.
MADRS_ITEM_WEIGHTS = (1.1, 1.2, 1.0, 0.9, 0.6, 1.0, 1.0, 1.1, 1.0, 0.6)

# [A] secondary scores, in each score's points: change is the placebo change from before to
# after (negative = fewer symptoms; TEPS rises with more pleasure); naltrexone_difference is the
# condition x time interaction, naltrexone's change minus placebo's (a fifth of the placebo
# change lost: +1 QIDS-SR16 point; CADSS and PSI none). Expected interaction t at n = 26:
# |naltrexone_difference| * sqrt(26) / (2 * within_sd).
SECONDARY: dict[str, dict[str, float]] = {
    "QIDS_SR16": {
        "baseline_mean": 17.0,
        "between_sd": 3.0,
        "within_sd": 2.5,
        "response_sd": 2.0,
        "change": -5.0,
        "naltrexone_difference": 1.0,
    },
    "M3VAS_mood": {
        "baseline_mean": 65.0,
        "between_sd": 15.0,
        "within_sd": 12.0,
        "response_sd": 10.0,
        "change": -20.0,
        "naltrexone_difference": 4.0,
    },
    "M3VAS_pleasure": {
        "baseline_mean": 65.0,
        "between_sd": 15.0,
        "within_sd": 12.0,
        "response_sd": 10.0,
        "change": -18.0,
        "naltrexone_difference": 3.6,
    },
    "M3VAS_suicidality": {
        "baseline_mean": 35.0,
        "between_sd": 20.0,
        "within_sd": 10.0,
        "response_sd": 8.0,
        "change": -12.0,
        "naltrexone_difference": 2.4,
    },
    "SHAPS": {
        "baseline_mean": 7.0,
        "between_sd": 3.0,
        "within_sd": 2.0,
        "response_sd": 1.5,
        "change": -2.5,
        "naltrexone_difference": 0.5,
    },
    "TEPS_A": {
        "baseline_mean": 36.0,
        "between_sd": 7.0,
        "within_sd": 4.0,
        "response_sd": 3.0,
        "change": 3.0,
        "naltrexone_difference": -0.6,
    },
    "TEPS_C": {
        "baseline_mean": 31.0,
        "between_sd": 6.0,
        "within_sd": 3.5,
        "response_sd": 2.5,
        "change": 2.0,
        "naltrexone_difference": -0.4,
    },
    "CADSS": {
        "baseline_mean": 1.0,
        "between_sd": 1.5,
        "within_sd": 1.5,
        "response_sd": 8.0,
        "change": 18.0,
        "naltrexone_difference": 0.0,
    },
    "PSI": {
        "baseline_mean": 12.0,
        "between_sd": 6.0,
        "within_sd": 4.0,
        "response_sd": 7.0,
        "change": 15.0,
        "naltrexone_difference": 0.0,
    },
}
SECONDARY_KEYS = (
    "baseline_mean",
    "between_sd",
    "within_sd",
    "response_sd",
    "change",
    "naltrexone_difference",
)


def distribute_total(total: int, weights, cap: int, rng: np.random.Generator) -> np.ndarray:
    """Integers 0..cap, one per weight, summing exactly to total (capped sequential multinomial).

    Units are drawn multinomially with the weights of the items still below the cap; units that
    overflow a full item are drawn again among the others, until none is left.
    """
    weights = np.asarray(weights, dtype=float)
    if not 0 <= total <= cap * len(weights):
        raise ValueError(f"total {total} outside 0..{cap * len(weights)}")
    counts = np.zeros(len(weights), dtype=int)
    remaining = int(total)
    while remaining > 0:
        open_weights = np.where(counts < cap, weights, 0.0)
        counts += rng.multinomial(remaining, open_weights / open_weights.sum())
        overflow = np.maximum(counts - cap, 0)
        counts -= overflow
        remaining = int(overflow.sum())
    return counts


def distribute_totals(totals, weights, cap: int, rng: np.random.Generator) -> np.ndarray:
    """distribute_total for many totals at once: one row of integers 0..cap per total, each row
    summing exactly to its total (the same capped sequential multinomial, drawn for all rows
    together)."""
    totals = np.asarray(totals, dtype=np.int64)
    weights = np.asarray(weights, dtype=float)
    if len(totals) and (totals.min() < 0 or totals.max() > cap * len(weights)):
        raise ValueError(f"totals outside 0..{cap * len(weights)}")
    counts = np.zeros((len(totals), len(weights)), dtype=np.int64)
    remaining = totals.copy()
    while (remaining > 0).any():
        rows = np.flatnonzero(remaining > 0)
        open_weights = np.where(counts[rows] < cap, weights, 0.0)
        drawn = rng.multinomial(remaining[rows], open_weights / open_weights.sum(axis=1)[:, None])
        counts[rows] += drawn
        overflow = np.maximum(counts[rows] - cap, 0)
        counts[rows] -= overflow
        remaining[rows] = overflow.sum(axis=1)
    return counts


def secondary_settings(settings: Mapping) -> dict[str, dict[str, float]]:
    """Generative parameters of each secondary score: SECONDARY with the configured overrides."""
    overrides = settings.get("clinical", {}).get("secondary", {}) or {}
    merged = {}
    for score, defaults in SECONDARY.items():
        given = overrides.get(score, {}) or {}
        unknown = sorted(set(given) - set(SECONDARY_KEYS))
        if unknown:
            raise InputError(
                "config.yaml",
                f"simulation.clinical.secondary.{score}",
                unknown[0],
                "one of " + ", ".join(SECONDARY_KEYS),
                unknown[0],
            )
        merged[score] = {key: float(given.get(key, value)) for key, value in defaults.items()}
    return merged


def sheet_specs(settings: Mapping) -> dict[str, dict]:
    """Sheet and time points per scale in the form of config clinical.scales
    (ingest.scale_specs)."""
    return {
        name: {"sheet": sheet, "timepoints": list(pair)}
        for name, (sheet, pair) in _sheets(settings).items()
    }


def _sheets(settings: Mapping) -> dict[str, tuple[str, tuple[str, str]]]:
    """Sheet and time points per scale; settings['clinical']['scales'] (config clinical.scales
    form) overrides."""
    given = settings.get("clinical", {}).get("scales")
    if not given:
        return dict(DEFAULT_SHEETS)
    sheets = {}
    for name, spec in given.items():
        if name not in DEFAULT_SHEETS or len(spec["timepoints"]) != 2:
            raise InputError(
                "config.yaml",
                "clinical.scales",
                name,
                "a scale the simulator knows ("
                + ", ".join(DEFAULT_SHEETS)
                + ") with two time points",
                spec.get("timepoints"),
            )
        sheets[name] = (spec["sheet"], tuple(spec["timepoints"]))
    return sheets


def _visit_hours(timepoint: str, pretreatment_min: float, rng: np.random.Generator, n: int):
    """Hours from the start of the infusion of n visits at one time point."""
    if timepoint == "pre":
        hours = -pretreatment_min / 60.0 - rng.uniform(0.1, 0.4, n)
    elif timepoint == "post":
        hours = INFUSION_MIN / 60.0 + rng.uniform(0.0, 0.2, n)
    elif timepoint == "day1":
        hours = 24.0 + rng.normal(0.0, 0.5, n)
        moved = rng.random(n) < 0.1
        hours += moved * rng.choice([-1.0, 1.0], n) * rng.uniform(1.0, 3.5, n)
        hours = np.clip(hours, 20.5, 27.5)
    else:
        raise InputError(
            "config.yaml",
            "clinical.scales",
            "timepoints",
            "pre, post or day1 for the simulator",
            timepoint,
        )
    return np.round(hours, 2)


def _latent(
    design: pd.DataFrame,
    params: Mapping[str, float],
    difference: Mapping[str, float],
    reference: str,
    rng: np.random.Generator,
    offsets: np.ndarray | None = None,
) -> np.ndarray:
    """Latent scores (unrounded) for the rows of `design` (participant_id, sex, condition,
    after): baseline + u_i + after x (change + s_i + [not reference] x difference[sex]) + e.
    offsets (one per participant, in participant_id order) add a site's shift to u_i."""
    participants, person = np.unique(design["participant_id"].to_numpy(), return_inverse=True)
    intercept = rng.normal(0.0, params["between_sd"], len(participants))
    response = rng.normal(0.0, params["response_sd"], len(participants))
    residual = rng.normal(0.0, params["within_sd"], len(design))
    if offsets is not None:
        intercept = intercept + np.asarray(offsets, dtype=float)
    after = design["after"].to_numpy(dtype=bool)
    active = design["condition"].to_numpy() != reference
    lost = np.where(design["sex"].to_numpy() == "M", difference["M"], difference["F"]) * active
    change = np.where(after, params["change"] + response[person] + lost, 0.0)
    return params["baseline_mean"] + intercept[person] + change + residual


def _whole(values: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.clip(np.rint(values), low, high).astype(int)


def madrs_parameters(clinical: Mapping, within_sd: float) -> dict[str, float]:
    """_latent's parameters of the MADRS total in the published model (no response of a
    participant's own: response_sd 0), from config simulation.clinical and the study's
    within-participant SD (configured or calibrated)."""
    return {
        "baseline_mean": float(clinical["madrs_baseline_mean"]),
        "between_sd": float(clinical["madrs_between_sd"]),
        "within_sd": within_sd,
        "response_sd": 0.0,
        "change": -float(clinical["madrs_placebo_reduction"]),
    }


def _visits(
    people: pd.DataFrame, sheets: Mapping, settings: Mapping, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(participant index, condition, hours per time point) of each participant x condition,
    the conditions in the order received: one visit time per time point, shared by every scale
    rated then."""
    orders = [order_conditions(order) for order in people["order"]]
    n = len(people)
    person = np.repeat(np.arange(n), 2)
    condition = np.array([c for pair in orders for c in pair], dtype=object)
    known = ("pre", "post", "day1")
    timepoints = sorted(
        {t for _, pair in sheets.values() for t in pair},
        key=lambda t: (known.index(t) if t in known else len(known), t),
    )
    hours = {
        t: _visit_hours(t, float(settings["pretreatment_min"]), rng, 2 * n) for t in timepoints
    }
    return person, condition, hours


def _scale_rows(
    people: pd.DataFrame,
    person: np.ndarray,
    condition: np.ndarray,
    hours: Mapping[str, np.ndarray],
    timepoints: tuple[str, str],
) -> pd.DataFrame:
    """One row per participant x condition x (before, after) of a scale, with what _latent
    needs (sex, after) and the visit's hours."""
    before, after = timepoints
    n = len(people)
    return pd.DataFrame(
        {
            "participant_id": people["participant_id"].to_numpy()[np.repeat(person, 2)],
            "sex": people["sex"].to_numpy()[np.repeat(person, 2)],
            "condition": np.repeat(condition, 2),
            "timepoint": np.tile(np.array([before, after], dtype=object), 2 * n),
            "after": np.tile([False, True], 2 * n),
            "hours_from_infusion": np.column_stack([hours[before], hours[after]]).ravel(),
        }
    )


def _raw_sheet(scale: str, frame: pd.DataFrame, items: np.ndarray) -> pd.DataFrame:
    """The sheet as the study's files hold it: the visit's columns, then the items."""
    out = frame[["participant_id", "condition", "timepoint", "hours_from_infusion"]].copy()
    columns = SCALES[scale].item_columns
    for j, column in enumerate(columns):
        out[column] = pd.array(items[:, j], dtype="Int64")
    return out


def simulate_clinical(
    participants: pd.DataFrame,
    settings: Mapping,
    rng: np.random.Generator,
    site_offsets: np.ndarray | None = None,
    only: Collection[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Sheet file name -> raw sheet (participant_id, condition, timepoint, hours_from_infusion,
    items).

    Items are nullable integers (<NA> = unrated), hours are floats (NaN for a missed assessment).
    Rows follow participant_id, then the conditions in the order each participant received them.
    site_offsets (MADRS points, one per participant in participant_id order) shift a site's
    MADRS totals at every time point. only (scale names) draws just those sheets, the same as in
    the whole study: every scale has its own random stream (the calibration's searches use it).
    """
    clinical = settings["clinical"]
    reference = settings["reference_condition"]
    people = participants.sort_values("participant_id", kind="stable").reset_index(drop=True)
    sheets = _sheets(settings)
    n_male = int((people["sex"] == "M").sum())
    ratio = float(settings["male_to_female_effect_ratio"])
    # A calibrated study (simulation.calibrate, simulate/calibrate.py) replaces the MADRS
    # difference, its within-participant SD and the QIDS-SR16 difference by found values, and
    # changes a few items.
    calibrated = settings.get("calibrated", {})
    effects = configured(settings)
    difference_madrs = split_by_sex(
        effects["madrs_naltrexone_difference"], ratio, n_male, len(people) - n_male
    )
    secondary = secondary_settings(settings)
    if "qids_naltrexone_difference" in calibrated:
        secondary["QIDS_SR16"]["naltrexone_difference"] = float(
            calibrated["qids_naltrexone_difference"]
        )
    timing_rng, madrs_rng, missing_rng, *scale_rngs = rng.spawn(3 + len(SECONDARY))
    scale_rng = dict(zip(SECONDARY, scale_rngs))
    person, condition, hours = _visits(people, sheets, settings, timing_rng)
    if reference not in set(condition):
        raise InputError(
            "config.yaml",
            "simulation",
            "reference_condition",
            "a condition named in participants' order",
            reference,
        )
    if only is not None:  # after the visits, which every sheet's time points share
        # TEPS's missing values are drawn after MADRS's from one stream: MADRS goes with it
        drawn = set(only) | ({"MADRS"} if "TEPS" in only else set())
        sheets = {scale: sheet for scale, sheet in sheets.items() if scale in drawn}
    result: dict[str, pd.DataFrame] = {}
    for scale in sheets:
        frame = _scale_rows(people, person, condition, hours, sheets[scale][1])
        if scale == "MADRS":
            params = madrs_parameters(clinical, effects["madrs_within_sd"])
            latent = _latent(frame, params, difference_madrs, reference, madrs_rng, site_offsets)
            items = distribute_totals(_whole(latent, 0, 60), MADRS_ITEM_WEIGHTS, 6, madrs_rng)
        else:
            items = _simulate_secondary(scale, frame, secondary, ratio, reference, scale_rng)
        result[sheets[scale][0]] = _raw_sheet(scale, frame, items)
    _apply_missing(result, sheets, clinical, missing_rng)
    changes = [change for change in calibrated.get("item_changes", ()) if change[0] in sheets]
    apply_item_changes(result, sheets, changes)
    keep = {sheets[scale][0] for scale in sheets if only is None or scale in only}
    return {name: frame for name, frame in sorted(result.items()) if name in keep}


def apply_item_changes(result: dict[str, pd.DataFrame], sheets: Mapping, changes) -> None:
    """Add each change (scale, participant_id, condition, timepoint, item column, delta) to one
    rated item, in place; the item must stay within the scale's range."""
    for scale, pid, condition, timepoint, column, delta in changes:
        frame = result[sheets[scale][0]]
        rows = np.flatnonzero(
            (
                (frame["participant_id"] == pid)
                & (frame["condition"] == condition)
                & (frame["timepoint"] == timepoint)
            ).to_numpy()
        )
        value = frame.loc[rows[0], column] if len(rows) == 1 else pd.NA
        spec = SCALES[scale]
        if value is pd.NA or not spec.item_min <= value + delta <= spec.item_max:
            raise ValueError(
                f"item change {scale} {pid} {condition} {timepoint} {column} {delta:+d}: "
                "no rated item there, or the change leaves the scale's range"
            )
        frame.loc[rows[0], column] = value + delta


def _simulate_secondary(
    scale: str,
    frame: pd.DataFrame,
    secondary: Mapping,
    ratio: float,
    reference: str,
    scale_rng: Mapping[str, np.random.Generator],
) -> np.ndarray:
    n_male = int((frame.drop_duplicates("participant_id")["sex"] == "M").sum())
    n_female = frame["participant_id"].nunique() - n_male

    def latent(score: str) -> np.ndarray:
        params = secondary[score]
        return _latent(
            frame,
            params,
            split_by_sex(params["naltrexone_difference"], ratio, n_male, n_female),
            reference,
            scale_rng[score],
        )

    n = len(frame)
    if scale == "QIDS_SR16":
        rng = scale_rng["QIDS_SR16"]
        totals = _whole(latent("QIDS_SR16"), 0, 27)
        domains = distribute_totals(totals, np.ones(len(QIDS_DOMAINS)), 3, rng)
        # appetite/weight: decrease (items 6, 8) or increase (items 7, 9); the other stays 0
        decrease = rng.random(n) < 0.7
        items = np.zeros((n, 16), dtype=int)
        for d, (name, numbers) in enumerate(QIDS_DOMAINS):
            score = domains[:, d]
            columns = np.array([i - 1 for i in numbers])
            if len(columns) == 1:
                items[:, columns[0]] = score
                continue
            if name == "appetite/weight":
                pairs = np.where(decrease[:, None], [5, 7], [6, 8])
            else:
                pairs = np.broadcast_to(columns, (n, len(columns)))
            # One item of the domain carries its score, the others anything up to it.
            carrier = rng.integers(pairs.shape[1], size=n)
            others = rng.integers(0, score[:, None] + 1, size=pairs.shape)
            values = np.where(np.arange(pairs.shape[1]) == carrier[:, None], score[:, None], others)
            np.put_along_axis(items, pairs, values, axis=1)
        return items
    if scale == "M3VAS":
        return np.column_stack(
            [
                _whole(latent(score), 0, 100)
                for score in ("M3VAS_mood", "M3VAS_pleasure", "M3VAS_suicidality")
            ]
        )
    if scale == "SHAPS":
        rng = scale_rng["SHAPS"]
        totals = _whole(latent("SHAPS"), 0, 14)
        disagree = distribute_totals(totals, np.ones(14), 1, rng).astype(bool)
        # 1 strongly disagree / 2 disagree score a point; 3 agree / 4 strongly agree do not.
        return np.where(
            disagree,
            rng.choice([1, 2], (n, 14), p=[0.35, 0.65]),
            rng.choice([3, 4], (n, 14), p=[0.7, 0.3]),
        )
    if scale == "TEPS":
        items = np.zeros((n, 18), dtype=int)
        for score, numbers in (("TEPS_A", TEPS_ANTICIPATORY), ("TEPS_C", TEPS_CONSUMMATORY)):
            rng = scale_rng[score]
            k_items = len(numbers)
            totals = _whole(latent(score), k_items, 6 * k_items)
            scored = 1 + distribute_totals(totals - k_items, np.ones(k_items), 5, rng)
            for j, number in enumerate(numbers):
                value = scored[:, j]
                items[:, number - 1] = 7 - value if number in TEPS_REVERSED else value
        return items
    if scale in ("CADSS", "PSI"):
        spec = SCALES[scale]
        rng = scale_rng[scale]
        cap = int(spec.item_max)
        totals = _whole(latent(scale), 0, cap * spec.n_items)
        return distribute_totals(totals, np.ones(spec.n_items), cap, rng)
    raise InputError("config.yaml", "clinical.scales", None, "a scale the simulator knows", scale)


def _apply_missing(
    result: dict[str, pd.DataFrame], sheets: Mapping, clinical: Mapping, rng: np.random.Generator
) -> None:
    """Blank the configured assessments and items (in place)."""
    if "MADRS" in sheets:
        name, (before, after) = sheets["MADRS"]
        madrs = result[name]
        columns = SCALES["MADRS"].item_columns
        day1 = np.flatnonzero((madrs["timepoint"] == after).to_numpy())
        k_whole = int(clinical["madrs_missing_assessments"])
        k_items = int(clinical["madrs_missing_items"])
        if k_whole > len(day1):
            raise InputError(
                "config.yaml",
                "simulation.clinical",
                "madrs_missing_assessments",
                f"at most {len(day1)} (the day-1 MADRS assessments)",
                k_whole,
            )
        whole = (
            rng.choice(day1, size=k_whole, replace=False) if k_whole else np.array([], dtype=int)
        )
        madrs.loc[whole, columns] = pd.NA
        madrs.loc[whole, "hours_from_infusion"] = np.nan
        rated = np.setdiff1d(np.arange(len(madrs)), whole)
        if k_items > len(rated):
            raise InputError(
                "config.yaml",
                "simulation.clinical",
                "madrs_missing_items",
                f"at most {len(rated)} (the rated MADRS assessments)",
                k_items,
            )
        for row in rng.choice(rated, size=k_items, replace=False) if k_items else []:
            madrs.loc[row, columns[int(rng.integers(len(columns)))]] = pd.NA
    k_teps = int(clinical["teps_anticipatory_missing_pre"])
    if "TEPS" in sheets and k_teps:
        name, (before, _) = sheets["TEPS"]
        teps = result[name]
        people = sorted(teps["participant_id"].unique())
        if k_teps > len(people):
            raise InputError(
                "config.yaml",
                "simulation.clinical",
                "teps_anticipatory_missing_pre",
                f"at most {len(people)} (the participants)",
                k_teps,
            )
        columns = [item_column("teps", i) for i in TEPS_ANTICIPATORY]
        before_rows = teps.index[teps["timepoint"] == before]
        rows_of = teps.loc[before_rows].groupby("participant_id").groups
        for pid in rng.choice(people, size=k_teps, replace=False):
            rows = rows_of[pid]
            teps.loc[rows[int(rng.integers(len(rows)))], columns] = pd.NA


def _cell(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else f"{float(value):.6g}"
    return str(value)


def _column_texts(values: pd.Series) -> list[str]:
    """_cell over a whole column."""
    if isinstance(values.dtype, pd.Int64Dtype):
        missing = values.isna().to_numpy()
        numbers = values.fillna(0).astype("int64").tolist()
        return ["" if gone else str(v) for v, gone in zip(numbers, missing)]
    return [_cell(v) for v in values.tolist()]


def write_sheet(df: pd.DataFrame, path: str | Path) -> None:
    """Raw sheet as UTF-8 TSV with LF endings: whole numbers as integers, other numbers %.6g,
    missing cells empty. Same frame -> same bytes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = [_column_texts(df[column]) for column in df.columns]
    lines = ["\t".join(df.columns)] + ["\t".join(row) for row in zip(*columns)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
