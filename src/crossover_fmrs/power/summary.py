"""Power per test, effect and sample size with a Monte Carlo 95% CI, and the smallest sample size
that reaches each target power."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

POWER_COLUMNS = ["test", "effect", "n_participants", "replicates", "rejections", "power", "ci_low", "ci_high",
                 "alpha", "median_p"]
TARGET_COLUMNS = ["test", "effect", "target_power", "smallest_n", "power_at_n", "ci_low_at_n", "note"]


def clopper_pearson(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial CI of a proportion (Clopper & Pearson 1934)."""
    alpha = 1.0 - level
    low = 0.0 if successes == 0 else float(stats.beta.ppf(alpha / 2, successes, trials - successes + 1))
    high = 1.0 if successes == trials else float(stats.beta.ppf(1 - alpha / 2, successes + 1, trials - successes))
    return low, high


def power_table(replicates: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """One row per test x effect x n: the share of replicates with p < alpha and its exact CI."""
    rows = []
    for (test, effect, n), part in replicates.groupby(["test", "effect", "n_participants"], sort=True):
        p = part["p"].to_numpy(dtype=float)
        rejections = int(np.sum(p < alpha))
        low, high = clopper_pearson(rejections, len(p))
        rows.append({"test": test, "effect": effect, "n_participants": int(n), "replicates": len(p),
                     "rejections": rejections, "power": rejections / len(p), "ci_low": low, "ci_high": high,
                     "alpha": alpha, "median_p": float(np.median(p))})
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
                rows.append({"test": test, "effect": effect, "target_power": target, "smallest_n": np.nan,
                             "power_at_n": np.nan, "ci_low_at_n": np.nan,
                             "note": f"not reached by n = {int(part['n_participants'].max())} (the grid's largest)"})
                continue
            row = reached.iloc[0]
            rows.append({"test": test, "effect": effect, "target_power": target, "smallest_n": int(row["n_participants"]),
                         "power_at_n": row["power"], "ci_low_at_n": row["ci_low"],
                         "note": "" if row["ci_low"] >= target else "the CI at this n still reaches below the target"})
    return pd.DataFrame(rows, columns=TARGET_COLUMNS)
