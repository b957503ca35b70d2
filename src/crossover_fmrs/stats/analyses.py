"""The paper's analyses on the QC'd tables: model data, mixed models, sex, attenuation, crossover.

Every function returns tidy frames with the columns of STATS_COLUMNS, so that each analysis
writes one TSV of the same shape under results/stats/.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from lmmkit import LmmInputError, LmmResult, check_design, fit_lmm

from ..common.errors import InputError
from ..common.tables import SITE, is_multisite, order_conditions

STATS_COLUMNS = [
    "analysis",
    "outcome",
    "subset",
    "model",
    "term",
    "estimate",
    "se",
    "F",
    "df_num",
    "df_den",
    "p",
    "effect_size",
    "effect_size_kind",
    "n_participants",
    "n_observations",
    "df_method",
]
MODEL_COLUMNS = [
    "analysis",
    "outcome",
    "subset",
    "model",
    "component",
    "variance",
    "sd",
    "converged",
    "singular",
    "reml_criterion",
    "optimizer_message",
    "n_participants",
    "n_observations",
    "n_dropped_missing",
]
PARTIAL_ETA_FROM_F = "partial eta squared from F: F*df_num/(F*df_num+df_den)"
SEX_SUBSETS = {"M": "male", "F": "female"}
# The paper's tests assume every condition x time cell observed: a design with an empty cell is
# refused (naming the column) rather than tested on its estimable part as lme4/lmerTest would.
RANK_DEFICIENT = "stop"


def with_site_term(formula: str, data: pd.DataFrame, site_term: str | None) -> str:
    """The formula with the site random effect (config stats.site_term) where the rows come from
    more than one site; participants are nested in sites (their IDs are unique in the study)."""
    if not site_term or not is_multisite(data) or site_term in formula:
        return formula
    return f"{formula} + {site_term}"


def period_of(participants: pd.DataFrame) -> pd.DataFrame:
    """One row per participant x condition with the period (1, 2, ...) in which it was given."""
    records = [
        {"participant_id": pid, "condition": condition, "period": position + 1}
        for pid, order in zip(participants["participant_id"], participants["order"])
        for position, condition in enumerate(order_conditions(order))
    ]
    return pd.DataFrame.from_records(records)


def _participant_columns(participants: pd.DataFrame) -> pd.DataFrame:
    periods = period_of(participants)
    periods["period"] = periods["period"].astype(str)
    columns = ["participant_id", "sex", "age", "order"] + (
        [SITE] if is_multisite(participants) else []
    )
    return periods.merge(participants[columns], on="participant_id")


def glx_model_data(spectra: pd.DataFrame, participants: pd.DataFrame) -> pd.DataFrame:
    """Included spectra with the design variables; block is a factor in block order."""
    kept = spectra[spectra["included"].astype(bool)].copy()
    kept["minutes"] = (kept["onset_min"] + kept["offset_min"]) / 2
    blocks = sorted(kept["block"].unique())
    kept["block"] = pd.Categorical(
        kept["block"].astype(int).astype(str), categories=[str(b) for b in blocks]
    )
    data = kept.merge(
        _participant_columns(participants), on=["participant_id", "condition"], how="left"
    )
    columns = [
        "participant_id",
        "condition",
        "block",
        "minutes",
        "phase",
        "period",
        "order",
        "sex",
        "age",
        "ratio",
    ] + ([SITE] if SITE in data else [])
    return (
        data[columns]
        .sort_values(["participant_id", "condition", "block"], kind="stable")
        .reset_index(drop=True)
    )


def clinical_model_data(
    scores: pd.DataFrame, participants: pd.DataFrame, outcome: str, timepoints: list[str]
) -> pd.DataFrame:
    """One outcome's assessments with the design variables; timepoint a factor in study order."""
    rows = scores[scores["outcome"] == outcome].copy()
    rows["timepoint"] = pd.Categorical(rows["timepoint"], categories=list(timepoints))
    data = rows.merge(
        _participant_columns(participants), on=["participant_id", "condition"], how="left"
    )
    columns = ["participant_id", "condition", "timepoint", "period", "order", "sex", "age", "value"]
    columns += [SITE] if SITE in data else []
    return (
        data[columns]
        .sort_values(["participant_id", "condition", "timepoint"], kind="stable")
        .reset_index(drop=True)
    )


def outcome_model_data(
    scores: pd.DataFrame,
    participants: pd.DataFrame,
    outcome: str,
    scale_timepoints: dict[str, list[str]],
) -> pd.DataFrame:
    """clinical_model_data for an outcome named by its score (e.g. TEPS_A of the scale TEPS)."""
    scales = scores.loc[scores["outcome"] == outcome, "scale"].unique()
    if len(scales) != 1:
        raise ValueError(
            f"outcome {outcome!r}: expected one scale in clinical_scores.tsv, found {list(scales)}"
        )
    return clinical_model_data(scores, participants, outcome, scale_timepoints[scales[0]])


def primary_model_data(
    spectra: pd.DataFrame,
    scores: pd.DataFrame,
    participants: pd.DataFrame,
    primary: str,
    scale_timepoints: dict[str, list[str]],
) -> dict[str, pd.DataFrame]:
    """Model data of the two primary analyses, fMRS ratio and the primary clinical outcome."""
    return {
        "glx": glx_model_data(spectra, participants),
        "clinical": outcome_model_data(scores, participants, primary, scale_timepoints),
    }


def condition_levels(conditions: list[str], reference: str) -> list[str]:
    return [reference] + [c for c in conditions if c != reference]


def model_levels(data: pd.DataFrame, formula: str, conditions: list[str], reference: str) -> dict:
    levels = {"condition": condition_levels(conditions, reference)}
    if "sex" in data and "sex" in formula:
        levels["sex"] = ["F", "M"]  # coefficient = male - female
    return levels


def fit(
    data: pd.DataFrame,
    formula: str,
    conditions: list[str],
    reference: str,
    source: str,
    ddf: str = "Satterthwaite",
    site_term: str | None = None,
) -> LmmResult:
    """Fit one mixed model; with rows of several sites, the site term is added to the formula."""
    formula = with_site_term(formula, data, site_term)
    levels = model_levels(data, formula, conditions, reference)
    outcome = formula.split("~")[0].strip()
    if outcome in data:
        values = pd.to_numeric(data[outcome], errors="coerce").dropna()
        if len(values) and values.nunique() == 1:  # no residual to test against: F would be noise
            raise InputError(
                source,
                None,
                outcome,
                "values that vary (a model of a constant cannot be estimated)",
                f"all {len(values)} values equal to {values.iloc[0]:g}",
            )
    try:
        return fit_lmm(
            data, formula, levels=levels, source=source, ddf=ddf, rank_deficient=RANK_DEFICIENT
        )
    except LmmInputError as err:  # lmmkit's own error type (also a perfect fit), as the pipeline's
        raise InputError(err.file, err.where, err.column, err.expected, err.got) from None


def lmm_rows(
    result: LmmResult, analysis: str, outcome: str, subset: str, data: pd.DataFrame
) -> pd.DataFrame:
    """The type III F tests of a fitted model in the shared column layout."""
    table = result.anova.copy()
    f_num = table["F"] * table["df_num"]
    table["effect_size"] = f_num / (f_num + table["df_den"])
    table["effect_size_kind"] = PARTIAL_ETA_FROM_F
    table["analysis"] = analysis
    table["outcome"] = outcome
    table["subset"] = subset
    table["model"] = result.formula
    outcome_column = result.formula.split("~")[0].strip()
    used = data.dropna(subset=[outcome_column])
    table["n_participants"] = used["participant_id"].nunique()
    table["n_observations"] = result.n_observations
    table["df_method"] = result.ddf_method
    return table[STATS_COLUMNS]


def model_rows(result: LmmResult, analysis: str, outcome: str, subset: str) -> pd.DataFrame:
    """Variance components and fit diagnostics, never hidden: one row per component."""
    table = result.variance_components.rename(columns={"name": "component"}).copy()
    table["analysis"] = analysis
    table["outcome"] = outcome
    table["subset"] = subset
    table["model"] = result.formula
    table["converged"] = result.converged
    table["singular"] = result.singular
    table["reml_criterion"] = result.reml_criterion
    table["optimizer_message"] = result.optimizer_message
    table["n_participants"] = next(iter(result.n_groups.values()))
    table["n_observations"] = result.n_observations
    table["n_dropped_missing"] = result.n_dropped_missing
    return table[MODEL_COLUMNS]


def run_models(
    data: pd.DataFrame,
    formula: str,
    analysis: str,
    outcome: str,
    conditions: list[str],
    reference: str,
    subsets: dict[str, pd.Series] | None = None,
    ddf: str = "Satterthwaite",
    site_term: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fit one formula on the whole sample or on each named subset of rows (with the site term
    where the rows come from several sites)."""
    subsets = subsets or {"all": pd.Series(True, index=data.index)}
    tests, models = [], []
    for subset, rows in subsets.items():
        part = data[rows]
        result = fit(
            part,
            formula,
            conditions,
            reference,
            source=f"{analysis} ({outcome}, {subset})",
            ddf=ddf,
            site_term=site_term,
        )
        tests.append(lmm_rows(result, analysis, outcome, subset, part))
        models.append(model_rows(result, analysis, outcome, subset))
    return pd.concat(tests, ignore_index=True), pd.concat(models, ignore_index=True)


def sex_subsets(data: pd.DataFrame) -> dict[str, pd.Series]:
    return {
        label: data["sex"] == code
        for code, label in SEX_SUBSETS.items()
        if (data["sex"] == code).any()
    }


def require_sex_models(
    models: list[tuple[pd.DataFrame, str, str, str]],
    conditions: list[str],
    reference: str,
    participants_file: str,
) -> None:
    """Before any sex model is fitted: each sex has participants enough for its within-sex model
    and both together for the interaction with sex, for every (data, formula, analysis, outcome);
    else one line naming the setting that skips the sex analyses."""
    for data, formula, analysis, outcome in models:
        subsets = (
            sex_subsets(data) if analysis == "sex_stratified" else {"all": data["sex"].notna()}
        )
        for subset, rows in subsets.items():
            part = data[rows]
            try:
                check_design(
                    part,
                    formula,
                    model_levels(part, formula, conditions, reference),
                    f"{analysis} ({outcome}, {subset})",
                    RANK_DEFICIENT,
                )
            except (InputError, LmmInputError) as err:
                counts = part.groupby("sex")["participant_id"].nunique()
                who = " and ".join(
                    f"{counts.get(code, 0)} {label}"
                    for code, label in SEX_SUBSETS.items()
                    if subset in ("all", label)
                )
                raise InputError(
                    participants_file,
                    f"{who} participant(s) in the {analysis} model of {outcome}",
                    "sex",
                    f"enough participants of each sex to estimate {formula} "
                    f"({err.expected}), or stats.sex_analyses: false to skip the sex analyses",
                    f"{err.got} complete rows" if isinstance(err.got, int) else err.got,
                ) from None


def impute_missing(
    scores: pd.DataFrame, outcomes: list[str], timepoint: str, method: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fill missing values of the given outcomes at one time point; report each fill.

    other_condition: the mean of the participant's values at that time point in the other
    condition(s); sample_mean: the mean of the observed values of the same condition. none:
    leave NaN (the mixed model uses the rest). A value with nothing to fill from stays NaN.
    """
    log_columns = ["participant_id", "condition", "timepoint", "outcome", "method", "imputed_value"]
    if method not in {"none", "other_condition", "sample_mean"}:
        raise ValueError(
            "stats.impute_missing.method: expected none, other_condition or sample_mean, "
            f"got {method!r}"
        )
    if method == "none":
        return scores, pd.DataFrame(columns=log_columns)
    scores = scores.copy()
    fills = []
    for outcome in outcomes:
        target = (scores["outcome"] == outcome) & (scores["timepoint"] == timepoint)
        observed = scores[target & scores["value"].notna()]
        for index in scores.index[target & scores["value"].isna()]:
            row = scores.loc[index]
            if method == "other_condition":
                pool = observed[
                    (observed["participant_id"] == row["participant_id"])
                    & (observed["condition"] != row["condition"])
                ]
            else:
                pool = observed[observed["condition"] == row["condition"]]
            value = float(pool["value"].mean()) if len(pool) else np.nan
            scores.loc[index, "value"] = value
            fills.append(
                [row["participant_id"], row["condition"], timepoint, outcome, method, value]
            )
    return scores, pd.DataFrame(fills, columns=log_columns)


# When the attenuation's interval says little: wider than this (percentage points), or a
# denominator (the reference condition's mean reduction) whose interval includes 0.
ATTENUATION_WIDE_CI_POINTS = 100.0


def attenuation(
    data: pd.DataFrame,
    reference: str,
    treatment: str,
    before: str,
    after: str,
    n_resamples: int,
    confidence: float,
    seed: int,
) -> pd.DataFrame:
    """Percent attenuation of the reduction (before - after) under treatment vs reference.

    attenuation = 100 * (1 - mean reduction under treatment / mean reduction under reference),
    both means over the same participants: those with both ratings in both conditions
    (`n_pairs`), so the ratio compares a participant with themself. CIs by the percentile
    bootstrap over those participants (scipy.stats.bootstrap, paired: resampling whole
    participants keeps the crossover pairing), for the attenuation and for each mean reduction.
    `warning` says when the interval says little (ATTENUATION_WIDE_CI_POINTS, or a denominator
    whose interval includes 0).
    """
    table = _reductions(data, before, after)
    pairs = table[[reference, treatment]].dropna()
    ref, trt = pairs[reference].to_numpy(float), pairs[treatment].to_numpy(float)
    n_pairs = len(pairs)
    alpha_ci = {"ci_level": confidence, "n_resamples": n_resamples}

    def interval(samples, statistic) -> tuple[float, float]:
        return _bootstrap_interval(samples, statistic, n_resamples, confidence, seed)

    with np.errstate(divide="ignore", invalid="ignore"):
        point = _percent_attenuation(ref, trt) if n_pairs else np.nan
    low, high = interval((ref, trt), _percent_attenuation)
    ref_low, ref_high = interval((ref,), np.mean)
    trt_low, trt_high = interval((trt,), np.mean)
    warnings = _attenuation_warnings(reference, n_pairs, n_resamples, high - low, ref_low, ref_high)
    rows = [
        {
            "term": f"mean reduction {reference}",
            "estimate": np.mean(ref) if n_pairs else np.nan,
            "ci_low": ref_low,
            "ci_high": ref_high,
            **alpha_ci,
        },
        {
            "term": f"mean reduction {treatment}",
            "estimate": np.mean(trt) if n_pairs else np.nan,
            "ci_low": trt_low,
            "ci_high": trt_high,
            **alpha_ci,
        },
        {
            "term": "attenuation_percent",
            "estimate": point,
            "ci_low": low,
            "ci_high": high,
            **alpha_ci,
            "warning": "; ".join(warnings),
        },
    ]
    columns = ["term", "estimate", "ci_low", "ci_high", "ci_level", "n_resamples", "n_pairs"]
    out = pd.DataFrame(rows).assign(
        n_pairs=n_pairs,
        n_excluded=int(len(table) - n_pairs),  # a reduction in one condition only
    )
    return out.reindex(columns=[*columns, "n_excluded", "warning"]).fillna({"warning": ""})


def _reductions(data: pd.DataFrame, before: str, after: str) -> pd.DataFrame:
    """Each participant's reduction (before - after), one column per condition."""
    wide = data.pivot_table(
        index=["participant_id", "condition"], columns="timepoint", values="value", observed=True
    )
    reduction = (wide[before] - wide[after]).rename("reduction").reset_index()
    return reduction.pivot(index="participant_id", columns="condition", values="reduction")


def _percent_attenuation(r, t, axis=-1):
    """100 x (1 - mean reduction under treatment / mean reduction under reference)."""
    return 100.0 * (1.0 - np.mean(t, axis=axis) / np.mean(r, axis=axis))


def _bootstrap_interval(
    samples: tuple, statistic, n_resamples: int, confidence: float, seed: int
) -> tuple[float, float]:
    """Percentile bootstrap CI of statistic over the participants (paired when it takes both
    conditions' reductions); NaN from fewer than two participants, or without resamples (a
    caller that needs only the estimate)."""
    if len(samples[0]) < 2 or n_resamples < 2:
        return np.nan, np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        found = stats.bootstrap(
            samples,
            statistic,
            paired=len(samples) > 1,
            vectorized=True,
            n_resamples=n_resamples,
            confidence_level=confidence,
            method="percentile",
            rng=np.random.default_rng(seed),
        ).confidence_interval
    return float(found.low), float(found.high)


def _attenuation_warnings(
    reference: str,
    n_pairs: int,
    n_resamples: int,
    span: float,
    ref_low: float,
    ref_high: float,
) -> list[str]:
    """Why the attenuation's interval says little: too wide, a denominator that may be 0, or no
    interval at all."""
    warnings = []
    if n_pairs >= 2 and not (np.isfinite(span) and span <= ATTENUATION_WIDE_CI_POINTS):
        spans = f"{span:.0f}" if np.isfinite(span) else "an unbounded number of"
        warnings.append(
            f"the CI spans {spans} percentage points (more than "
            f"{ATTENUATION_WIDE_CI_POINTS:.0f}): the data say little about the attenuation"
        )
    if np.isfinite(ref_low) and ref_low <= 0 <= ref_high:
        warnings.append(
            f"the {reference} mean reduction's CI includes 0: the ratio's denominator may be 0"
        )
    if n_pairs < 2 and n_resamples >= 2:
        warnings.append(f"{n_pairs} participant(s) with both reductions: no interval")
    return warnings


def phase_cell_means(data: pd.DataFrame, dv: str = "ratio") -> pd.DataFrame:
    """Each participant's mean of the included spectra in each condition x phase cell (baseline,
    infusion), with the number of spectra averaged; a cell without a spectrum is absent."""
    used = data.dropna(subset=[dv])
    cells = used.groupby(["participant_id", "condition", "phase"], sort=True, observed=True)[
        dv
    ].agg(["mean", "size"])
    return cells.rename(columns={"mean": dv, "size": "n_spectra"}).reset_index()


def rm_anova_rows(
    data: pd.DataFrame,
    dv: str,
    within: list[str],
    analysis: str,
    outcome: str,
    subset: str = "all",
    values: str = "",
    why_small: str = "",
) -> pd.DataFrame:
    """pingouin rm-ANOVA (GG) on complete cases, in the shared layout plus its own columns.

    The note says why it differs from the mixed model: complete cases only, what each cell's value
    is (`values`), and the classical error strata (denominator df from participants, not from
    observations); `why_small` is added when the complete cases are few. A design the rm-ANOVA
    cannot estimate (too few complete participants) gives rows marked not estimable, with the
    reason, instead of an error: it is a complement, and must not stop the primary analysis.
    """
    from .rmanova import rm_anova  # pingouin is imported only where it is used

    data = data.copy()
    for factor in within:
        data[factor] = data[factor].astype(str)
    n_all = data.dropna(subset=[dv])["participant_id"].nunique()
    model = f"{dv} ~ {' * '.join(within)} + Error(participant_id/({' * '.join(within)})), GG"
    prefix = "classical complement, not the paper's analysis: " + (f"{values}; " if values else "")
    try:
        table = rm_anova(
            data, dv=dv, within=within, subject="participant_id", source=f"{analysis} ({outcome})"
        )
    except InputError as err:
        terms = list(within) if len(within) == 1 else [*within, ":".join(within)]
        table = pd.DataFrame({"term": terms, "n_participants": 0})
        note = f"{prefix}not estimable: {err.expected}, got {err.got!r}"
        table = table.reindex(
            columns=STATS_COLUMNS + ["p_gg", "epsilon_gg", "ges", "participants_dropped"]
        )
        table = table.assign(
            analysis=analysis,
            outcome=outcome,
            subset=subset,
            model=model,
            df_method="rm-ANOVA",
            n_participants=0,
            n_observations=0,
            note=note,
        )
        return table[STATS_COLUMNS + ["p_gg", "epsilon_gg", "ges", "participants_dropped", "note"]]
    table["analysis"] = analysis
    table["outcome"] = outcome
    table["subset"] = subset
    table["model"] = model
    table["estimate"] = np.nan
    table["se"] = np.nan
    table["effect_size"] = table["np2"]
    table["effect_size_kind"] = "partial eta squared"
    table["n_observations"] = table["n_participants"] * int(
        np.prod([data[w].nunique() for w in within])
    )
    table["df_method"] = "rm-ANOVA"
    kept, dropped = table["n_participants"].iloc[0], table["n_participants_dropped"].iloc[0]
    note = (
        f"{prefix}complete cases only ({kept} of {n_all} participants; "
        f"{dropped} with a missing cell dropped"
        f"{': ' + why_small if why_small and dropped else ''}), denominator df from participants"
    )
    table["note"] = note
    extra = ["p_gg", "epsilon_gg", "ges", "participants_dropped", "note"]
    return table[STATS_COLUMNS + extra]


def baseline_characteristics(
    participants: pd.DataFrame, scores: pd.DataFrame, primary: str, before: str
) -> pd.DataFrame:
    """Table 1: the sample's characteristics and the pre-infusion primary outcome per condition.

    Numeric columns of participants.tsv as mean (SD) with range; coded columns (sex, order, yes/no,
    the site of a pooled study, even when sites are numbered) as n (%). The pre-infusion rating
    is given per condition: in a crossover both start from the participant's own baseline, so a
    difference here would point to carry-over or a period effect.
    """
    rows = []
    n = len(participants)

    def numeric(label, values):
        values = pd.to_numeric(values, errors="coerce").dropna()
        rows.append(
            {
                "characteristic": label,
                "level": "",
                "statistic": "mean (SD)",
                "value": f"{values.mean():.1f} ({values.std(ddof=1):.1f})",
                "range": f"{values.min():g} to {values.max():g}",
                "n": len(values),
            }
        )

    for column in participants.columns:
        if column == "participant_id":
            continue
        values = participants[column]
        if column != SITE and pd.to_numeric(values, errors="coerce").notna().all():
            numeric(column, values)
        else:
            for level, count in values.value_counts().sort_index().items():
                rows.append(
                    {
                        "characteristic": column,
                        "level": level,
                        "statistic": "n (%)",
                        "value": f"{count} ({100 * count / n:.0f}%)",
                        "range": "",
                        "n": n,
                    }
                )
    before_rows = scores[(scores["outcome"] == primary) & (scores["timepoint"] == before)]
    for condition, part in before_rows.groupby("condition", sort=False):
        numeric(f"{primary} {before}, {condition}", part["value"])
    return pd.DataFrame(
        rows, columns=["characteristic", "level", "statistic", "value", "range", "n"]
    )
