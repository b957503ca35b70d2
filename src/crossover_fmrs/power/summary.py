"""Power per test, effect and sample size with a Monte Carlo 95% CI, and the smallest sample size
that reaches each target power."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

POWER_COLUMNS = [
    "test",
    "effect",
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
    """One row per test x effect x n: the share of replicates with p < alpha and its exact CI."""
    rows = []
    for (test, effect, n), part in replicates.groupby(
        ["test", "effect", "n_participants"], sort=True
    ):
        p = part["p"].to_numpy(dtype=float)
        rejections = int(np.sum(p < alpha))
        low, high = clopper_pearson(rejections, len(p))
        rows.append(
            {
                "test": test,
                "effect": effect,
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


def summary_markdown(
    power: pd.DataFrame,
    sizes: pd.DataFrame,
    published: pd.DataFrame,
    observed_n: int,
    synthetic: bool,
) -> str:
    """The power at the published effects and the observed n beside what the paper observed, and
    the smallest n per effect and target."""
    lines = [
        "# Power of the study's tests (simulation)",
        "",
        "Each replicate is a study drawn by the project's simulator and analysed by the main "
        "analysis's models; power is the share of replicates with P below alpha, with an exact "
        "(Clopper-Pearson) 95% CI. Effects are multiples of the effects the simulator derives from "
        "the published statistics (1 = published, 0 = none: there the power is the test's size).",
        "",
    ]
    lines += [
        f"## At the published effects and n = {observed_n}",
        "",
        "| test | power (95% CI) | the paper observed |",
        "|---|---|---|",
    ]
    at = power[(power["effect"] == 1) & (power["n_participants"] == observed_n)]
    for row in at.itertuples(index=False):
        rows = published[published["id"] == PUBLISHED_IDS.get(row.test, "")]
        fields = dict(zip(rows["field"], rows["published"]))
        seen = (
            f"F(1,{fields['df_den']}) = {fields['F']}, P = {fields['p']}"
            if "F" in fields
            else fields.get("estimate", "–")
        )
        lines.append(
            f"| {row.test} | {row.power:.2f} ({row.ci_low:.2f} to {row.ci_high:.2f}) | {seen} |"
        )
    if at.empty:
        lines.append(f"| (the grid has no cell with effect 1 and n = {observed_n}) | | |")
    lines += [
        "",
        "## Smallest sample size reaching the target power",
        "",
        "| test | effect | target | smallest n | power at n (CI low) | note |",
        "|---|---|---|---|---|---|",
    ]
    for row in sizes.itertuples(index=False):
        n = "–" if pd.isna(row.smallest_n) else str(int(row.smallest_n))
        at_n = "–" if pd.isna(row.power_at_n) else f"{row.power_at_n:.2f} ({row.ci_low_at_n:.2f})"
        lines.append(
            f"| {row.test} | {row.effect:g} | {row.target_power:g} | {n} | {at_n} | {row.note} |"
        )
    if synthetic:
        lines += [
            "",
            "The effects come from the published statistics through the simulator's assumptions "
            "(docs/assumptions.md); the power is that of a study like the simulated one.",
        ]
    return "\n".join(lines) + "\n"
