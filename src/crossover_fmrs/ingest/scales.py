"""Rating scales of the study: item layout and each scale's own published scoring rule.

Each entry of SCALES says how many items a scale has, their range, the item column names
(`<prefix>_<NN>`), the scores it produces and the rule that turns items into scores, including
what the rule does with unrated items. Scoring never clips or fills: an item outside its range
or not a whole number is an InputError, and a score that the rule cannot compute is NaN.

Items arrive as floats, NaN where the cell was empty. A rule returns, per score, the value and a
short `scoring_note`:

- "complete": every item of the score rated
- "not rated": no item of the score rated
- "prorated N missing item(s)": a total prorated as mean of rated items x number of items
- "too many missing items (N missing, at most M prorated)": NaN
- "domains scored from available items (N missing items)" / "no rated item in domain(s): ...":
  QIDS-SR16
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..common.errors import InputError

# outcome -> (values, notes); values are floats with NaN where the rule gives no score.
RuleResult = dict[str, tuple[np.ndarray, list[str]]]


@dataclass(frozen=True)
class Scale:
    """Definition of one rating scale."""

    name: str  # name in config.yaml clinical.scales, e.g. QIDS_SR16
    prefix: str  # item columns are <prefix>_01 ... <prefix>_<n_items>
    n_items: int
    item_min: float
    item_max: float
    integer_items: bool  # False only for a visual analogue scale measured in mm
    outcomes: tuple[tuple[str, tuple[int, ...]], ...]  # (score name, item numbers it uses)
    rule: Callable[[np.ndarray, int], RuleResult]
    default_max_missing: (
        int | None
    )  # items a total may lack and be prorated; None: rule has no proration

    @property
    def item_columns(self) -> list[str]:
        return [item_column(self.prefix, number) for number in range(1, self.n_items + 1)]

    @property
    def scores(self) -> list[str]:
        return [name for name, _ in self.outcomes]


def item_column(prefix: str, number: int) -> str:
    """Column of item `number`: madrs_01, ..., psi_48."""
    return f"{prefix}_{number:02d}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _prorated_sum(values: np.ndarray, max_missing: int) -> tuple[np.ndarray, list[str]]:
    """Sum of items; with 1..max_missing items unrated, the mean of the rated items x n_items.

    The prorated total is kept unrounded, so that it stays an unbiased estimate of the sum.
    """
    n_rows, n_items = values.shape
    missing = np.isnan(values).sum(axis=1)
    totals = np.full(n_rows, np.nan)
    notes: list[str] = []
    for row in range(n_rows):
        k = int(missing[row])
        if k == 0:
            totals[row] = values[row].sum()
            notes.append("complete")
        elif k == n_items:
            notes.append("not rated")
        elif k <= max_missing:
            totals[row] = np.nanmean(values[row]) * n_items
            notes.append(f"prorated {_plural(k, 'missing item')}")
        else:
            notes.append(f"too many missing items ({k} missing, at most {max_missing} prorated)")
    return totals, notes


def score_madrs(values: np.ndarray, max_missing: int) -> RuleResult:
    """MADRS total, 0-60: sum of the 10 clinician-rated items, each 0-6.

    Montgomery SA, Asberg M. A new depression scale designed to be sensitive to change.
    Br J Psychiatry 1979;134:382-389. The scale has no published rule for unrated items [A]: with
    at most `max_missing` (config clinical.madrs_max_missing_items, default 2) items unrated the
    total is prorated as mean of rated items x 10, kept unrounded; with more it is NaN.
    """
    return {"MADRS": _prorated_sum(values, max_missing)}


# QIDS-SR16 domains as item numbers; a multi-item domain scores its highest item.
QIDS_DOMAINS = (
    ("sleep", (1, 2, 3, 4)),
    ("sad mood", (5,)),
    ("appetite/weight", (6, 7, 8, 9)),
    ("concentration", (10,)),
    ("view of self", (11,)),
    ("suicidal ideation", (12,)),
    ("general interest", (13,)),
    ("energy", (14,)),
    ("psychomotor", (15, 16)),
)


def score_qids_sr16(values: np.ndarray, max_missing: int) -> RuleResult:
    """QIDS-SR16 total, 0-27: nine DSM-IV symptom domains, each 0-3, summed.

    Rush AJ, et al. The 16-item Quick Inventory of Depressive Symptomatology (QIDS), clinician
    rating (QIDS-C), and self-report (QIDS-SR). Biol Psychiatry 2003;54:573-583. Sleep = highest
    of items 1-4, appetite/weight = highest of items 6-9, psychomotor = highest of items 15-16;
    items 5 and 10-14 count as they are. Unrated items [A: consistent with the max rule]: a
    domain is scored from its rated items; the total is NaN if any domain has no rated item.
    `max_missing` is not used (the rule has no proration).
    """
    n_rows = values.shape[0]
    totals = np.full(n_rows, np.nan)
    notes: list[str] = []
    for row in range(n_rows):
        k = int(np.isnan(values[row]).sum())
        if k == values.shape[1]:
            notes.append("not rated")
            continue
        empty = [
            name
            for name, items in QIDS_DOMAINS
            if np.all(np.isnan(values[row, [i - 1 for i in items]]))
        ]
        if empty:
            notes.append("no rated item in domain(s): " + ", ".join(empty))
            continue
        totals[row] = sum(
            np.nanmax(values[row, [i - 1 for i in items]]) for _, items in QIDS_DOMAINS
        )
        notes.append(
            "complete"
            if k == 0
            else f"domains scored from available items ({_plural(k, 'missing item')})"
        )
    return {"QIDS_SR16": (totals, notes)}


def score_shaps(values: np.ndarray, max_missing: int) -> RuleResult:
    """SHAPS total, 0-14 (higher = more anhedonia): count of items answered with disagreement.

    Snaith RP, et al. A scale for the assessment of hedonic tone: the Snaith-Hamilton Pleasure
    Scale. Br J Psychiatry 1995;167:99-103. All 14 statements are worded hedonically ("I would
    enjoy ..."); either "disagree" response scores 1 and either "agree" response scores 0. Raw
    responses are coded 1 = strongly disagree, 2 = disagree, 3 = agree, 4 = strongly agree
    [A: the study's export coding is not published], so a response of 1 or 2 scores 1. The paper
    gives no rule for unrated items: the total is NaN if any item is unrated unless `max_missing`
    allows proration (default 0).
    """
    hedonic_deficit = np.where(np.isnan(values), np.nan, (values <= 2).astype(float))
    return {"SHAPS": _prorated_sum(hedonic_deficit, max_missing)}


TEPS_ANTICIPATORY = (1, 3, 7, 11, 12, 14, 15, 16, 17, 18)
TEPS_CONSUMMATORY = (2, 4, 5, 6, 8, 9, 10, 13)
TEPS_REVERSED = (13,)


def score_teps(values: np.ndarray, max_missing: int) -> RuleResult:
    """TEPS subscales: TEPS_A (10 items, 10-60) and TEPS_C (8 items, 8-48); higher = more pleasure.

    Gard DE, et al. Anticipatory and consummatory components of the experience of pleasure: a
    scale development study. J Res Pers 2006;40:1086-1102. Items are rated 1-6; item 13 is
    reverse-scored as 7 - response. Anticipatory items 1, 3, 7, 11, 12, 14, 15, 16, 17, 18;
    consummatory items 2, 4, 5, 6, 8, 9, 10, 13. A subscale is NaN if any of its items is
    unrated (default `max_missing` 0; the paper gives no proration). Imputing missing pre-dose
    TEPS-A, as the study did, is an analysis step and is not done here.
    """
    scored = values.copy()
    for number in TEPS_REVERSED:
        scored[:, number - 1] = 7.0 - scored[:, number - 1]
    return {
        "TEPS_A": _prorated_sum(scored[:, [i - 1 for i in TEPS_ANTICIPATORY]], max_missing),
        "TEPS_C": _prorated_sum(scored[:, [i - 1 for i in TEPS_CONSUMMATORY]], max_missing),
    }


M3VAS_ITEMS = (("M3VAS_mood", 1), ("M3VAS_pleasure", 2), ("M3VAS_suicidality", 3))


def score_m3vas(values: np.ndarray, max_missing: int) -> RuleResult:
    """M3VAS: each of the three 100-mm lines is its own score, 0-100 mm.

    Moulton CD, et al. The Maudsley 3-item Visual Analogue Scale (M3VAS): validation of a scale
    measuring core symptoms of depression. J Affect Disord 2021;282:280-283. Items: low mood,
    anhedonia (loss of pleasure), suicidality; each mark measured in mm from the left end. Its
    authors also sum the items (0-300); the study's scoring is not published to us, so each item
    is reported on its own [A]. Higher = more severe [I: the total correlates positively with
    QIDS-SR16 in the validation]. A missing mark gives NaN for that item only.
    """
    result: RuleResult = {}
    for name, number in M3VAS_ITEMS:
        column = values[:, number - 1].copy()
        result[name] = (column, ["not rated" if np.isnan(v) else "complete" for v in column])
    return result


def score_cadss(values: np.ndarray, max_missing: int) -> RuleResult:
    """CADSS total, 0-92: sum of the 23 subject-rated items, each 0-4.

    Bremner JD, et al. Measurement of dissociative states with the Clinician-Administered
    Dissociative States Scale (CADSS). J Trauma Stress 1998;11:125-136. The observer-rated items
    are not part of this total. No published proration: NaN if any item is unrated unless
    `max_missing` allows it (default 0).
    """
    return {"CADSS": _prorated_sum(values, max_missing)}


def score_psi(values: np.ndarray, max_missing: int) -> RuleResult:
    """PSI total, 0-144: sum of the 48 items, each 0-3.

    Mason OJ, et al. Development and validation of the Psychotomimetic States Inventory (PSI).
    Schizophr Res 2008;103:138-142. The six subscales are not scored: the item-to-subscale
    mapping is not available to this project. NaN if any item is unrated unless `max_missing`
    allows proration (default 0).
    """
    return {"PSI": _prorated_sum(values, max_missing)}


def _all(n: int) -> tuple[int, ...]:
    return tuple(range(1, n + 1))


SCALES: dict[str, Scale] = {
    scale.name: scale
    for scale in (
        # Montgomery & Asberg 1979, Br J Psychiatry 134:382
        Scale(
            "MADRS",
            "madrs",
            10,
            0,
            6,
            True,
            (("MADRS", _all(10)),),
            score_madrs,
            2,
        ),
        # Rush et al. 2003, Biol Psychiatry 54:573
        Scale(
            "QIDS_SR16",
            "qids",
            16,
            0,
            3,
            True,
            (("QIDS_SR16", _all(16)),),
            score_qids_sr16,
            None,
        ),
        # Moulton et al. 2021, J Affect Disord 282:280
        Scale(
            "M3VAS",
            "m3vas",
            3,
            0,
            100,
            False,
            tuple((name, (n,)) for name, n in M3VAS_ITEMS),
            score_m3vas,
            None,
        ),
        # Snaith et al. 1995, Br J Psychiatry 167:99
        Scale(
            "SHAPS",
            "shaps",
            14,
            1,
            4,
            True,
            (("SHAPS", _all(14)),),
            score_shaps,
            0,
        ),
        # Gard et al. 2006, J Res Pers 40:1086
        Scale(
            "TEPS",
            "teps",
            18,
            1,
            6,
            True,
            (("TEPS_A", TEPS_ANTICIPATORY), ("TEPS_C", TEPS_CONSUMMATORY)),
            score_teps,
            0,
        ),
        # Bremner et al. 1998, J Trauma Stress 11:125
        Scale(
            "CADSS",
            "cadss",
            23,
            0,
            4,
            True,
            (("CADSS", _all(23)),),
            score_cadss,
            0,
        ),
        # Mason et al. 2008, Schizophr Res 103:138
        Scale(
            "PSI",
            "psi",
            48,
            0,
            3,
            True,
            (("PSI", _all(48)),),
            score_psi,
            0,
        ),
    )
}


def get_scale(name: str) -> Scale:
    """The registry entry of a scale; an unknown name is a configuration error."""
    if name not in SCALES:
        raise InputError(
            "config.yaml", "clinical.scales", None, "a known scale: " + ", ".join(SCALES), name
        )
    return SCALES[name]


def max_missing_from_config(clinical_config: Mapping) -> dict[str, int]:
    """Items each prorating scale may lack, from config `clinical` (MADRS from
    madrs_max_missing_items)."""
    limits = {
        name: scale.default_max_missing
        for name, scale in SCALES.items()
        if scale.default_max_missing is not None
    }
    if "madrs_max_missing_items" in clinical_config:
        limits["MADRS"] = int(clinical_config["madrs_max_missing_items"])
    return limits


def check_items(
    scale: Scale, items: pd.DataFrame, file="<items>", where: Sequence[str] | None = None
) -> np.ndarray:
    """Item values as a float array (rows x items), after checking columns, range and whole numbers.

    `where` names each row for error messages (e.g. "line 5 (sub-03)"); default "row 1", "row 2",
    ...
    """
    if where is None:
        where = [f"row {i}" for i in range(1, len(items) + 1)]
    for column in scale.item_columns:
        if column not in items.columns:
            raise InputError(
                file,
                None,
                column,
                f"{scale.n_items} item columns {scale.item_columns[0]} .. {scale.item_columns[-1]}",
                "no such column",
            )
    values = np.empty((len(items), scale.n_items))
    for j, column in enumerate(scale.item_columns):
        try:
            values[:, j] = pd.to_numeric(items[column], errors="raise").to_numpy(
                dtype=float, na_value=np.nan
            )
        except (TypeError, ValueError):
            bad = next(i for i, v in enumerate(items[column]) if not _is_number(v))
            raise InputError(
                file, where[bad], column, _expected(scale), items[column].iloc[bad]
            ) from None
    for j, column in enumerate(scale.item_columns):
        for i in np.flatnonzero(~np.isnan(values[:, j])):
            value = values[i, j]
            if not (np.isfinite(value) and scale.item_min <= value <= scale.item_max) or (
                scale.integer_items and value != np.floor(value)
            ):
                raise InputError(file, where[i], column, _expected(scale), _shown(value))
    return values


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _shown(value: float):
    return int(value) if np.isfinite(value) and value == np.floor(value) else float(value)


def _expected(scale: Scale) -> str:
    kind = "a whole number" if scale.integer_items else "a number"
    return f"{kind} {scale.item_min:g}-{scale.item_max:g} or an empty cell (unrated)"


def _limit(scale: Scale, max_missing_items: int | Mapping[str, int] | None) -> int:
    if scale.default_max_missing is None:
        return 0
    if isinstance(max_missing_items, Mapping):
        return int(max_missing_items.get(scale.name, scale.default_max_missing))
    if max_missing_items is None:
        return scale.default_max_missing
    return int(max_missing_items)


def score_outcomes(
    scale_name: str,
    items: pd.DataFrame,
    max_missing_items: int | Mapping[str, int] | None = None,
    file="<items>",
    where: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Long scores: one row per input row x outcome.

    Columns: row (position in `items`, from 0), outcome, value, n_items (items the outcome uses),
    n_items_missing (of those), scoring_note. `max_missing_items` is an int or a mapping scale ->
    int (see max_missing_from_config); None uses the scale's default.
    """
    scale = get_scale(scale_name)
    values = check_items(scale, items, file, where)
    result = scale.rule(values, _limit(scale, max_missing_items))
    parts = []
    for outcome, numbers in scale.outcomes:
        scores, notes = result[outcome]
        parts.append(
            pd.DataFrame(
                {
                    "row": np.arange(len(items)),
                    "outcome": outcome,
                    "value": scores.astype(float),
                    "n_items": len(numbers),
                    "n_items_missing": np.isnan(values[:, [n - 1 for n in numbers]])
                    .sum(axis=1)
                    .astype(int),
                    "scoring_note": notes,
                }
            )
        )
    long = pd.concat(parts, ignore_index=True)
    return long.sort_values(["row"], kind="stable").reset_index(drop=True)


def score_items(
    scale_name: str,
    items: pd.DataFrame,
    max_missing_items: int | Mapping[str, int] | None = None,
    file="<items>",
    where: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Wide scores on the index of `items`: one column per score, n_items_missing, scoring_note.

    n_items_missing counts all the scale's items; for a scale with several scores the note names
    each score unless all notes agree.
    """
    scale = get_scale(scale_name)
    long = score_outcomes(scale_name, items, max_missing_items, file, where)
    wide = pd.DataFrame(index=items.index)
    for outcome in scale.scores:
        wide[outcome] = long.loc[long["outcome"] == outcome, "value"].to_numpy()
    values = check_items(scale, items, file, where)
    wide["n_items_missing"] = np.isnan(values).sum(axis=1).astype(int)
    notes_by_outcome = {
        o: long.loc[long["outcome"] == o, "scoring_note"].tolist() for o in scale.scores
    }
    notes = []
    for row in range(len(items)):
        row_notes = [(o, notes_by_outcome[o][row]) for o in scale.scores]
        if len({note for _, note in row_notes}) == 1:
            notes.append(row_notes[0][1])
        else:
            notes.append("; ".join(f"{o}: {note}" for o, note in row_notes))
    wide["scoring_note"] = notes
    return wide
