"""Calibration of the embedded study (config simulation.calibrate): search the free effect sizes
until the pipeline, run on the raw files, reproduces every published number at its precision.

The random draws are never touched: same seed, same streams, same order. Only the effect sizes
change, and each candidate is judged by the pipeline's own chain run on the files the simulator
would write (write to a scratch folder -> ingest readers -> QC -> model data -> mixed models), so
the pipeline needs to know nothing of the calibration. Targets (config `simulation:`) [V]:

- Glx/tNAA, term condition: F = mrs.published_condition_F at its written precision (4.83: 2 dp),
  and, when given, df_den = published_condition_df (253, 0 dp) and p = published_condition_p
  (0.029, 3 dp); every participant analysed; a larger naltrexone effect in males: both
  sex-stratified condition estimates negative, the male one larger in size, and the
  condition:sex estimate (sex coded F, M: male - female) negative.
  Searched: the naltrexone - placebo Glx/tNAA difference (ratio units, mean over sexes; root of
  F - target, scipy brentq, then rounded to 7 decimals), for male:female ratios from the
  configured one upwards until the sex direction holds.
- MADRS, term condition:timepoint: F = clinical.published_interaction_F (5.39), df and p as given
  (74, 0.023), and the percent attenuation of the pre - day-1 reduction (stats attenuation())
  = 100 x published_attenuation at 0 dp (28). Totals are whole numbers, so F is a step function:
  for a MADRS difference d (points) the within-participant SD is bisected until F lands in its
  window; d itself is bisected so that the observed percent meets its target along that curve,
  then tried on a grid of D_STEP points around the result; the first (d, SD) that lands F, df,
  p and the percent wins. Should none, single items are changed by one point, greedily
  (ITEM_CHANGES_MAX).
- QIDS-SR16, term condition:timepoint: estimate > 0 (smaller improvement under naltrexone) and
  p >= 0.05 [V: not significant]. The configured difference is kept when it already does so.

Every searched quantity is in natural units (simulate/effects.py) and starts from the configured
value; the search runs at the published n (simulation.published_n_participants) only.

"Reproduces" means: the value rounded to the published number's decimals equals it. The found
quantities are written to calibration.tsv in the study, which no stage of the pipeline reads;
passing them back (simulate_files(calibration=...)) rebuilds the same files without the search.
Agreement shows that the analysis chain is the paper's, not that the trial's finding holds.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize

from ..common.errors import InputError
from ..ingest.clinical import read_clinical_sheets, tidy_clinical
from ..ingest.mrs import read_study_mrs
from ..ingest.participants import read_participants
from ..qc.mrs import apply_qc, mark_phase, qc_flags, spectrum_table
from ..stats.analyses import (
    attenuation,
    clinical_model_data,
    glx_model_data,
    run_models,
    sex_subsets,
)
from .clinical import secondary_settings, sheet_specs
from .effects import configured

# The simulator writes LCModel tables with one baseline block; the models and the QC thresholds
# are the study's own (config stats and qc.mrs, in settings["formulas"] and ["qc_thresholds"]).
MRS_FORMAT, BASELINE_BLOCKS, RATIO = "lcmodel_table", [1], ("Glx", "tNAA")
RATIO_STEPS = (
    1.0,
    1.25,
    1.5,
    2.0,
    2.5,
    3.0,
    4.0,
    5.0,
)  # male:female ratios tried, x the configured one
# MADRS: bracket of the difference (fractions of the placebo reduction) and its bisections; then
# the grid tried around the result (centre, +-1 step, +-2 steps, ... in points); within-SD
# bracket (x the configured SD) and bisections. QIDS-SR16: steps in points.
D_RANGE, D_BISECTIONS = (0.0, 1.0), 12
D_STEP, D_TRIES = 0.005, 21
SD_RANGE, SD_COARSE, SD_BISECTIONS = (0.25, 4.0), 14, 30
QIDS_STEP, QIDS_TRIES = 0.25, 12
GLX_DECIMALS = 7
ITEM_CHANGES_MAX = 4
SEARCHED = (
    "glx_naltrexone_minus_placebo",
    "glx_male_to_female_ratio",
    "madrs_naltrexone_difference",
    "madrs_within_sd",
    "qids_naltrexone_difference",
)
MEANING = {
    "glx_naltrexone_minus_placebo": (
        "naltrexone - placebo Glx/tNAA averaged over a session's blocks (ratio units, "
        "sample-weighted over sex)"
    ),
    "glx_male_to_female_ratio": "naltrexone - placebo Glx/tNAA difference, males / females",
    "madrs_naltrexone_difference": (
        "MADRS points by which the placebo day-1 reduction is smaller under naltrexone "
        "(sample-weighted over sex)"
    ),
    "madrs_within_sd": "within-participant SD of the latent MADRS total (points)",
    "qids_naltrexone_difference": (
        "QIDS-SR16 points by which the placebo day-1 reduction is smaller under naltrexone"
    ),
    "item_change": (
        "scale:participant:condition:timepoint:item:change, one item score changed after the draw"
    ),
}


class CalibrationError(ValueError):
    """The search found no effect sizes that reproduce every target."""


def decimals(value) -> int:
    """Decimals of a number as written (4.83 -> 2, 253 -> 0)."""
    text = repr(value) if isinstance(value, float) else str(value)
    return len(text.split(".")[1]) if "." in text and not text.endswith(".0") else 0


def lands(value: float, target) -> bool:
    """value rounded to target's decimals is target (computed on the distance, no float
    rounding)."""
    return bool(np.isfinite(value)) and abs(value - float(target)) < 0.5 * 10.0 ** -decimals(target)


def targets(settings: Mapping) -> dict[str, float]:
    """Published numbers the calibration reproduces, from config `simulation:`."""
    mrs, clinical = settings["mrs"], settings["clinical"]
    wanted = {
        "glx_F": mrs["published_condition_F"],
        "glx_df": mrs.get("published_condition_df"),
        "glx_p": mrs.get("published_condition_p"),
        "madrs_F": clinical["published_interaction_F"],
        "madrs_df": clinical.get("published_interaction_df"),
        "madrs_p": clinical.get("published_interaction_p"),
        "madrs_attenuation_percent": round(
            100 * float(clinical["published_attenuation"]),
            max(0, decimals(clinical["published_attenuation"]) - 2),
        ),
    }
    return {name: value for name, value in wanted.items() if value is not None}


# ---------------------------------------------------------------------------------------------
# The pipeline's chain on candidate files


def _write(files: Mapping[str, bytes], folder: Path) -> None:
    for relative, content in files.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def glx_numbers(
    files: Mapping[str, bytes], conditions: list[str], qc: Mapping, formulas: Mapping
) -> dict[str, float]:
    """The Glx/tNAA condition test, the sex-stratified estimates and condition:sex, from raw
    files."""
    with tempfile.TemporaryDirectory() as scratch:
        _write(files, Path(scratch))
        participants = read_participants(Path(scratch) / "participants.tsv", conditions)
        mrs = read_study_mrs(scratch, participants, conditions, MRS_FORMAT)
    spectra = mark_phase(spectrum_table(mrs, *RATIO), BASELINE_BLOCKS)
    spectra = apply_qc(spectra, qc_flags(spectra, qc), qc["exclude_on"])
    data = glx_model_data(spectra, participants)
    common = dict(
        analysis="calibration", outcome="Glx/tNAA", conditions=conditions, reference=conditions[0]
    )
    main = run_models(data, formulas["glx"], **common)[0].set_index("term").loc["condition"]
    by_sex = run_models(data, formulas["glx"], subsets=sex_subsets(data), **common)[0]
    by_sex = by_sex[by_sex["term"] == "condition"].set_index("subset")["estimate"]
    sex = run_models(data, formulas["glx_sex"], **common)[0].set_index("term")
    return {
        "F": main["F"],
        "df": main["df_den"],
        "p": main["p"],
        "estimate": main["estimate"],
        "n": main["n_participants"],
        "n_all": len(participants),
        "male": by_sex.get("male", np.nan),
        "female": by_sex.get("female", np.nan),
        "condition_x_sex": sex.loc["condition:sex", "estimate"],
    }


def clinical_numbers(
    files: Mapping[str, bytes],
    conditions: list[str],
    scales: Mapping,
    formula: str,
    outcomes=("MADRS", "QIDS_SR16"),
) -> dict[str, dict[str, float]]:
    """Per outcome (MADRS, QIDS_SR16): the condition:timepoint test and the percent attenuation."""
    wanted = {name: spec for name, spec in scales.items() if name in outcomes}
    config = {
        "scales": wanted
    }  # MADRS prorated as the ingest default (config clinical.madrs_max_missing_items)
    needed = {"participants.tsv"} | {f"clinical/{spec['sheet']}" for spec in wanted.values()}
    with tempfile.TemporaryDirectory() as scratch:
        _write({name: content for name, content in files.items() if name in needed}, Path(scratch))
        participants = read_participants(Path(scratch) / "participants.tsv", conditions)
        sheets = read_clinical_sheets(Path(scratch) / "clinical", config, participants, conditions)
    scores = tidy_clinical(sheets, config, conditions)[1]
    out = {}
    for name, spec in wanted.items():
        data = clinical_model_data(scores, participants, name, spec["timepoints"])
        test = run_models(data, formula, "calibration", name, conditions, conditions[0])[0]
        row = test.set_index("term").loc["condition:timepoint"]
        table = attenuation(data, conditions[0], conditions[1], *spec["timepoints"], 1, 0.95, 0)
        out[name] = {
            "F": row["F"],
            "df": row["df_den"],
            "p": row["p"],
            "estimate": row["estimate"],
            "attenuation_percent": float(
                table.set_index("term").loc["attenuation_percent", "estimate"]
            ),
        }
    return out


def glx_misses(numbers: Mapping, wanted: Mapping) -> list[str]:
    """Names of the Glx/tNAA targets a candidate misses (empty: all reproduced)."""
    misses = [
        name
        for name, key in (("glx_F", "F"), ("glx_df", "df"), ("glx_p", "p"))
        if name in wanted and not lands(numbers[key], wanted[name])
    ]
    if numbers["n"] != numbers["n_all"]:
        misses.append("glx_n")
    if not (numbers["male"] < numbers["female"] < 0 and numbers["condition_x_sex"] < 0):
        misses.append("glx_sex_direction")
    return misses


def madrs_misses(numbers: Mapping, wanted: Mapping) -> list[str]:
    madrs = numbers["MADRS"]
    keys = (
        ("madrs_F", "F"),
        ("madrs_df", "df"),
        ("madrs_p", "p"),
        ("madrs_attenuation_percent", "attenuation_percent"),
    )
    return [name for name, key in keys if name in wanted and not lands(madrs[key], wanted[name])]


def qids_misses(numbers: Mapping) -> list[str]:
    qids = numbers.get("QIDS_SR16")
    return (
        [] if qids is None or (qids["estimate"] > 0 and qids["p"] >= 0.05) else ["qids_direction"]
    )


# ---------------------------------------------------------------------------------------------
# The searches


def search_glx(
    settings: Mapping, evaluate: Callable[[float, float], dict], a_start: float
) -> dict[str, float]:
    """Size a of the naltrexone - placebo Glx/tNAA difference (F root; the difference is -a) and
    the male:female ratio (first from RATIO_STEPS with the sex direction). evaluate(a, ratio)."""
    wanted = targets(settings)
    goal = float(wanted["glx_F"])
    tried = []
    for step in RATIO_STEPS:
        ratio = float(settings["male_to_female_effect_ratio"]) * step

        def gap(a: float, ratio: float = ratio) -> float:
            numbers = evaluate(a, ratio)
            # Below the difference that cancels the noise the estimate is positive: count F as 0
            # there.
            return (numbers["F"] if numbers["estimate"] < 0 else -numbers["F"]) - goal

        low, high = a_start, a_start
        while gap(low) > 0:
            low /= 1.25
            if low < 1e-9:
                raise CalibrationError(
                    f"Glx/tNAA: F stays above {goal} without any naltrexone effect"
                )
        while gap(high) < 0:
            high *= 1.25
            if high > 10 * a_start + 1:
                raise CalibrationError(
                    f"Glx/tNAA: no difference up to {high:.3g} reaches F = {goal}"
                )
        root = optimize.brentq(gap, low, high, xtol=1e-10)
        # Rounded so that the stored value does not carry the optimiser's last digits.
        step = 10.0**-GLX_DECIMALS
        for a in sorted(
            {round(root, GLX_DECIMALS) + k * step for k in (0, 1, -1, 2, -2)},
            key=lambda x: abs(x - root),
        ):
            numbers = evaluate(a, ratio)
            misses = glx_misses(numbers, wanted)
            if not misses:
                return {
                    "glx_naltrexone_minus_placebo": -round(a, GLX_DECIMALS),
                    "glx_male_to_female_ratio": ratio,
                }
        tried.append(f"ratio {ratio:g}: a {root:.6f} misses {', '.join(misses)}")
    raise CalibrationError("Glx/tNAA: " + "; ".join(tried))


def _alternating(start: float, step: float, count: int) -> list[float]:
    """start, start + step, start - step, start + 2 step, ... (count values, positive only)."""
    values = [
        start + sign * k * step for k in range(count) for sign in ((1,) if k == 0 else (1, -1))
    ]
    return [round(v, 6) for v in values[:count] if v > 0]


def _sd_crossing(
    evaluate: Callable[[float], dict], goal: float, low: float, high: float, steps: int
):
    """Bisect the within-SD where the MADRS F falls through goal (F falls as the SD grows; an
    estimate of the wrong sign counts as below). Returns (numbers at a landing or None, low,
    high)."""
    for _ in range(steps):
        sd = (low + high) / 2
        numbers = evaluate(sd)
        madrs = numbers["MADRS"]
        if lands(madrs["F"], goal) and madrs["estimate"] > 0:
            return {**numbers, "sd": sd}, low, high
        if madrs["F"] > goal and madrs["estimate"] > 0:
            low = sd
        else:
            high = sd
    return None, low, high


def search_madrs(
    settings: Mapping, evaluate: Callable[[float, float], dict], sd_start: float
) -> dict[str, float]:
    """(difference in points, within-SD) whose whole-number totals land F, df, p and the
    attenuation.

    Along the curve of SDs where F meets its target, the observed attenuation grows with the
    generative difference: bisect that first (D_BISECTIONS, over D_RANGE x the placebo
    reduction), then try differences around it on a grid of D_STEP points, each with the SD
    bisected down to one step of the totals.
    """
    wanted = targets(settings)
    goal, percent = float(wanted["madrs_F"]), float(wanted["madrs_attenuation_percent"])
    sd_low, sd_high = sd_start * SD_RANGE[0], sd_start * SD_RANGE[1]

    def crossing(a: float, steps: int, low: float = sd_low, high: float = sd_high):
        return _sd_crossing(lambda sd: evaluate(a, sd), goal, low, high, steps)

    reduction = abs(float(settings["clinical"]["madrs_placebo_reduction"]))
    low, high = D_RANGE[0] * reduction, D_RANGE[1] * reduction
    for _ in range(D_BISECTIONS):
        a = (low + high) / 2
        _, sd_a, sd_b = crossing(a, SD_COARSE)
        observed = evaluate(a, (sd_a + sd_b) / 2)["MADRS"]["attenuation_percent"]
        low, high = (a, high) if observed < percent else (low, a)
    centre = round((low + high) / 2 / D_STEP) * D_STEP
    _, sd_a, sd_b = crossing(centre, SD_COARSE)
    best = {
        "madrs_naltrexone_difference": round(centre, 6),
        "madrs_within_sd": round((sd_a + sd_b) / 2, 6),
    }
    for a in _alternating(centre, D_STEP, D_TRIES):
        hit, _, _ = crossing(a, SD_BISECTIONS, sd_a * 0.8, sd_b * 1.25)
        if hit is None:
            continue
        for sd in (round(hit["sd"], 6), hit["sd"]):  # a short value if it lands as well
            if not madrs_misses(evaluate(a, sd), wanted):
                return {"madrs_naltrexone_difference": a, "madrs_within_sd": sd}
    return {**best, "needs_items": True}


def search_items(
    settings: Mapping, evaluate: Callable[[list], dict], rated: pd.DataFrame
) -> list[tuple]:
    """Greedy single-item changes (+-1) that bring MADRS onto every target; rated lists the rated
    items that may change (scale, participant_id, condition, timepoint, item column, value)."""
    wanted = targets(settings)
    scale_of = {name: float(wanted[name]) for name in ("madrs_F", "madrs_attenuation_percent")}

    def distance(numbers) -> float:
        madrs = numbers["MADRS"]
        return (
            abs(madrs["F"] - scale_of["madrs_F"]) / 0.005
            + abs(madrs["attenuation_percent"] - scale_of["madrs_attenuation_percent"]) / 0.5
        )

    changes: list[tuple] = []
    # One candidate per assessment and direction: its first item that can move (a total moves by
    # one).
    candidates = []
    for key, items in rated.groupby(
        ["scale", "participant_id", "condition", "timepoint"], sort=True
    ):
        for delta in (1, -1):
            movable = items[(items["value"] + delta).between(0, 6)]
            if len(movable):
                candidates.append((*key, movable["column"].iloc[0], delta))
    for _ in range(ITEM_CHANGES_MAX):
        scored = []
        for candidate in candidates:
            if any(c[:5] == candidate[:5] for c in changes):
                continue
            numbers = evaluate(changes + [candidate])
            if not madrs_misses(numbers, wanted):
                return changes + [candidate]
            scored.append((distance(numbers), candidate))
        changes.append(min(scored)[1])
    raise CalibrationError(f"MADRS: no {ITEM_CHANGES_MAX} single-item changes reach every target")


def search_qids(
    settings: Mapping, evaluate: Callable[[float], dict], start: float
) -> dict[str, float]:
    """QIDS-SR16 difference (points): the configured one if it already gives the published
    direction."""
    for d in _alternating(start, QIDS_STEP, QIDS_TRIES):
        if not qids_misses(evaluate(d)):
            return {} if d == start else {"qids_naltrexone_difference": d}
    raise CalibrationError(
        "QIDS-SR16: no difference gives a positive, non-significant condition x time"
    )


def calibrate(
    settings: Mapping,
    conditions: list[str],
    participant_files: Mapping[str, bytes],
    draw_mrs: Callable[[Mapping], dict],
    draw_clinical: Callable[..., dict],
) -> dict:
    """The found quantities (SEARCHED, item_changes). draw_mrs and draw_clinical write that part of
    the study from settings whose "calibrated" entry holds the candidate values; draw_clinical's
    `only` names the scales a search reads (the others are not drawn)."""
    missing = [key for key in ("qc_thresholds", "formulas") if key not in settings]
    if missing:
        raise InputError(
            "config",
            None,
            "qc.mrs" if missing[0] == "qc_thresholds" else "stats",
            "the study's QC thresholds and model formulas for the calibration",
            f"no {missing[0]}",
        )
    qc, formulas = settings["qc_thresholds"], settings["formulas"]
    scales = sheet_specs(settings)

    def with_values(**values) -> dict:
        return {**settings, "calibrated": {**settings.get("calibrated", {}), **values}}

    def glx(a: float, ratio: float) -> dict:
        files = draw_mrs(
            with_values(glx_naltrexone_minus_placebo=-a, glx_male_to_female_ratio=ratio)
        )
        return glx_numbers({**participant_files, **files}, conditions, qc, formulas)

    start = configured(settings)
    found = search_glx(settings, glx, abs(start["glx_naltrexone_minus_placebo"]))

    def clinical(outcomes=("MADRS",), **values) -> dict:
        files = draw_clinical(with_values(**found, **values), only=outcomes)
        return clinical_numbers(
            {**participant_files, **files}, conditions, scales, formulas["clinical"], outcomes
        )

    madrs = search_madrs(
        settings,
        lambda d, sd: clinical(madrs_naltrexone_difference=d, madrs_within_sd=sd),
        start["madrs_within_sd"],
    )
    if madrs.pop("needs_items", False):
        drawn = draw_clinical(with_values(**found, **madrs))
        madrs["item_changes"] = search_items(
            settings,
            lambda changes: clinical(**madrs, item_changes=changes),
            rated_items(drawn, scales),
        )
    found.update(madrs)
    found.update(
        search_qids(
            settings,
            lambda d: clinical(("QIDS_SR16",), qids_naltrexone_difference=d),
            secondary_settings(settings)["QIDS_SR16"]["naltrexone_difference"],
        )
    )
    return found


def rated_items(files: Mapping[str, bytes], scales: Mapping) -> pd.DataFrame:
    """Rated MADRS items of the drawn sheet: scale, participant_id, condition, timepoint, column,
    value."""
    import io

    sheet = pd.read_csv(
        io.BytesIO(files[f"clinical/{scales['MADRS']['sheet']}"]),
        sep="\t",
        dtype={"participant_id": str},
    )
    items = [c for c in sheet.columns if c.startswith("madrs_")]
    long = sheet.melt(
        id_vars=["participant_id", "condition", "timepoint"], value_vars=items, var_name="column"
    )
    long = long.dropna(subset=["value"])
    long.insert(0, "scale", "MADRS")
    return long.sort_values(["participant_id", "condition", "timepoint", "column"], kind="stable")


# ---------------------------------------------------------------------------------------------
# calibration.tsv


def calibration_tsv(found: Mapping) -> bytes:
    lines = ["quantity\tvalue\tmeaning"]
    lines += [f"{name}\t{found[name]!r}\t{MEANING[name]}" for name in SEARCHED if name in found]
    lines += [
        "item_change\t"
        + ":".join(f"{v:+d}" if isinstance(v, int) else str(v) for v in change)
        + f"\t{MEANING['item_change']}"
        for change in found.get("item_changes", ())
    ]
    return ("\n".join(lines) + "\n").encode()


def read_calibration(content: bytes) -> dict:
    """The found quantities back from calibration.tsv (the inverse of calibration_tsv)."""
    found: dict = {}
    for line in content.decode().splitlines()[1:]:
        name, value, _ = line.split("\t")
        if name == "item_change":
            *key, delta = value.split(":")
            found.setdefault("item_changes", []).append((*key, int(delta)))
        else:
            found[name] = float(value)
    return found


def describe(found: Mapping) -> str:
    return (
        ", ".join(f"{name} {found[name]:.6g}" for name in SEARCHED if name in found)
        + f", {len(found.get('item_changes', ()))} item changes"
    )
