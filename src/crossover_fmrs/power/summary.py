"""Power per test, effect and sample size with a Monte Carlo 95% CI, and the smallest sample size
that reaches each target power."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

POWER_COLUMNS = [
    "test",
    "effect",
    "session_sd",
    "n_participants",
    "replicates",
    "rejections",
    "power",
    "ci_low",
    "ci_high",
    "alpha",
    "median_p",
]
TARGET_COLUMNS = [
    "test",
    "effect",
    "target_power",
    "smallest_n",
    "power_at_n",
    "ci_low_at_n",
    "note",
]


def clopper_pearson(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial CI of a proportion (Clopper & Pearson 1934)."""
    alpha = 1.0 - level
    low = (
        0.0
        if successes == 0
        else float(stats.beta.ppf(alpha / 2, successes, trials - successes + 1))
    )
    high = (
        1.0
        if successes == trials
        else float(stats.beta.ppf(1 - alpha / 2, successes + 1, trials - successes))
    )
    return low, high


def power_table(replicates: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """One row per test x effect x session SD x n: the share of replicates with p < alpha and its
    exact CI."""
    rows = []
    for (test, effect, session_sd, n), part in replicates.groupby(
        ["test", "effect", "session_sd", "n_participants"], sort=True
    ):
        p = part["p"].to_numpy(dtype=float)
        rejections = int(np.sum(p < alpha))
        low, high = clopper_pearson(rejections, len(p))
        rows.append(
            {
                "test": test,
                "effect": effect,
                "session_sd": session_sd,
                "n_participants": int(n),
                "replicates": len(p),
                "rejections": rejections,
                "power": rejections / len(p),
                "ci_low": low,
                "ci_high": high,
                "alpha": alpha,
                "median_p": float(np.median(p)),
            }
        )
    return pd.DataFrame(rows, columns=POWER_COLUMNS)


def smallest_n(power: pd.DataFrame, targets: list[float]) -> pd.DataFrame:
    """Per test, non-zero effect and target: the smallest n of the grid whose estimated power
    reaches the target (NA, with the reason, where none does)."""
    rows = []
    for (test, effect), part in power[power["effect"] > 0].groupby(["test", "effect"], sort=True):
        part = part.sort_values("n_participants")
        for target in targets:
            reached = part[part["power"] >= target]
            if reached.empty:
                rows.append(
                    {
                        "test": test,
                        "effect": effect,
                        "target_power": target,
                        "smallest_n": np.nan,
                        "power_at_n": np.nan,
                        "ci_low_at_n": np.nan,
                        "note": (
                            f"not reached by n = {int(part['n_participants'].max())} "
                            "(the grid's largest)"
                        ),
                    }
                )
                continue
            row = reached.iloc[0]
            rows.append(
                {
                    "test": test,
                    "effect": effect,
                    "target_power": target,
                    "smallest_n": int(row["n_participants"]),
                    "power_at_n": row["power"],
                    "ci_low_at_n": row["ci_low"],
                    "note": ""
                    if row["ci_low"] >= target
                    else "the CI at this n still reaches below the target",
                }
            )
    return pd.DataFrame(rows, columns=TARGET_COLUMNS)


# power test -> the id of the published result it plans for (resources/published_results.tsv)
PUBLISHED_IDS = {
    "glx_condition": "glx_condition",
    "madrs_condition_x_time": "madrs_cond_x_time",
    "glx_condition_x_sex": "glx_sex",
}


def effect_range(f_value: float, df_den: float, level: float = 0.95) -> tuple[float, float]:
    """The multiples of the published effect that a published F(1, df_den) is consistent with.
    F(1, df) is t squared: the exact CI of the t statistic's noncentrality (inverting the
    noncentral t at the observed t = sqrt(F)), divided by the observed t, since the simulator's
    effect 1 has noncentrality sqrt(F) and the noncentrality grows with the effect."""
    t_value, tail = float(np.sqrt(f_value)), (1.0 - level) / 2.0

    def above(delta: float) -> float:  # P(T >= observed t | noncentrality delta)
        return float(stats.nct.sf(t_value, df_den, delta))

    span = t_value + 10.0
    low = optimize.brentq(lambda d: above(d) - tail, -span, t_value)
    high = optimize.brentq(lambda d: above(d) - (1.0 - tail), t_value, t_value + span)
    return low / t_value, high / t_value


def _published_fields(published: pd.DataFrame, test: str) -> dict[str, str]:
    rows = published[published["id"] == PUBLISHED_IDS.get(test, "")]
    return dict(zip(rows["field"], rows["published"]))


def _ci(row) -> str:
    return f"{row.power:.2f} ({row.ci_low:.2f} to {row.ci_high:.2f})"


def summary_markdown(
    power: pd.DataFrame,
    sizes: pd.DataFrame,
    published: pd.DataFrame,
    observed_n: int,
    synthetic: bool,
    planning_effect: float,
) -> str:
    """The power at the published effects and the observed n beside what the paper observed, why
    that is optimistic, the smallest n per effect and target (the planning effect first), and the
    false-positive rate of the primary model where the simulated sessions vary."""
    main = power[power["session_sd"] == power["session_sd"].min()]
    lines = [
        "# Power of the study's tests (simulation)",
        "",
        "Each replicate is a study drawn by the project's simulator and analysed by the main "
        "analysis's models; power is the share of replicates with P below alpha, with an exact "
        "(Clopper-Pearson) 95% CI. Effects are multiples of the effects the simulator derives from "
        "the published statistics (1 = published, 0 = none: there the power is the test's size).",
        "",
        "**Effect 1 is the published, observed effect, and power at it is optimistic.** A small "
        "study that reached P < 0.05 overestimates its effect on average (only the lucky draws "
        "cross the threshold: the winner's curse, or type M error), so the power computed at the "
        "observed effect ('observed power') is too high, and a sample size planned at it too "
        f"small. Plan at a smaller effect: this summary's planning effect is {planning_effect:g} "
        "× the published one (power.planning_effect), and the published tests themselves are "
        "consistent with a wide range of effects (below).",
        "",
    ]
    lines += _consistent_effects_section(main, published)
    lines += _observed_power_section(main, published, observed_n)
    lines += _smallest_n_section(sizes, planning_effect)
    lines += _session_false_positives_section(power)
    if synthetic:
        lines += [
            "",
            "The effects come from the published statistics through the simulator's assumptions "
            "(docs/assumptions.md); the power is that of a study like the simulated one.",
        ]
    return "\n".join(lines) + "\n"


def _consistent_effects_section(main: pd.DataFrame, published: pd.DataFrame) -> list[str]:
    """The range of effects each published test is consistent with (effect_range)."""
    lines = [
        "## What the published tests are consistent with",
        "",
        "| test | published | effects consistent with it (95% CI, × published) |",
        "|---|---|---|",
    ]
    for test in dict.fromkeys(main["test"]):
        fields = _published_fields(published, test)
        if "F" not in fields:
            continue
        low, high = effect_range(float(fields["F"]), float(fields["df_den"]))
        lines.append(
            f"| {test} | F(1,{fields['df_den']}) = {fields['F']}, P = {fields['p']} "
            f"| {low:.2f} to {high:.2f} |"
        )
    return lines + [
        "",
        "The range inverts the noncentral t of each published test (F(1, df) is t squared). A "
        "study planned for the lower end would need hundreds of participants or more.",
    ]


def _observed_power_section(
    main: pd.DataFrame, published: pd.DataFrame, observed_n: int
) -> list[str]:
    """Power at the published effects and the study's n, beside the published test."""
    lines = [
        "",
        f"## At the published effects and n = {observed_n}",
        "",
        "| test | power (95% CI), observed power | the paper observed |",
        "|---|---|---|",
    ]
    at = main[(main["effect"] == 1) & (main["n_participants"] == observed_n)]
    for row in at.itertuples(index=False):
        fields = _published_fields(published, row.test)
        seen = (
            f"F(1,{fields['df_den']}) = {fields['F']}, P = {fields['p']}"
            if "F" in fields
            else fields.get("estimate", "–")
        )
        lines.append(f"| {row.test} | {_ci(row)} | {seen} |")
    if at.empty:
        lines.append(f"| (the grid has no cell with effect 1 and n = {observed_n}) | | |")
    return lines


def _smallest_n_section(sizes: pd.DataFrame, planning_effect: float) -> list[str]:
    """The smallest n per test, effect and target power, the planning effect first."""
    lines = [
        "",
        "## Smallest sample size reaching the target power",
        "",
        f"The planning effect ({planning_effect:g} × published) first.",
        "",
        "| test | effect | target | smallest n | power at n (CI low) | note |",
        "|---|---|---|---|---|---|",
    ]
    ordered = sizes.assign(first=sizes["effect"] != planning_effect).sort_values(
        ["first", "test", "effect", "target_power"], kind="stable"
    )
    for row in ordered.itertuples(index=False):
        n = "–" if pd.isna(row.smallest_n) else str(int(row.smallest_n))
        at_n = "–" if pd.isna(row.power_at_n) else f"{row.power_at_n:.2f} ({row.ci_low_at_n:.2f})"
        label = f"{row.effect:g}" + (" (planning)" if row.effect == planning_effect else "")
        lines.append(f"| {row.test} | {label} | {row.target_power:g} | {n} | {at_n} | {row.note} |")
    return lines


def _session_false_positives_section(power: pd.DataFrame) -> list[str]:
    """The Glx/tNAA condition tests' rejection rate without an effect where sessions vary (no
    lines when the grid has no session SD above 0)."""
    sessions = power[(power["session_sd"] > 0) & (power["effect"] == 0)]
    if not len(sessions):
        return []
    lines = [
        "",
        "## False positives when sessions vary (no true effect)",
        "",
        "Each session (participant × condition) gets its own Glx/tNAA offset with the stated "
        "SD; the primary model (`glx_condition`) has no term for it and treats every block of "
        "a participant as independent given one intercept; the sensitivity model "
        "(`glx_condition_session_model`, stats.glx_session_formula) has a session intercept. "
        "The rejection rate should be alpha.",
        "",
        "| session SD | n | test | rejection rate (95% CI) | alpha |",
        "|---|---|---|---|---|",
    ]
    for row in sessions[sessions["test"].str.startswith("glx_condition")].itertuples(index=False):
        if row.test == "glx_condition_x_sex":
            continue
        lines.append(
            f"| {row.session_sd:g} | {row.n_participants} | {row.test} | {_ci(row)} "
            f"| {row.alpha:g} |"
        )
    return lines
