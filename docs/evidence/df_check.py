"""Which mixed models give the published denominator df, F(1,253) for Glx/tNAA and F(1,74) for
MADRS?

Simulated data in the paper's design (26 participants, two conditions), fitted with this project's
mixed-model engine (Satterthwaite df as R's lmerTest computes them; the engine is checked against
lmerTest in tests/lmmkit/test_lmm.py). Run from the project root:

    python docs/evidence/df_check.py            # writes docs/evidence/df_check.tsv

The docs (docs/statistics.md) cite the table it writes; tests/test_docs.py reruns it and compares.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from lmmkit import fit_lmm  # noqa: E402  (after the path insert)

N = 26
SEED = 20250601
OUTPUT = Path(__file__).with_suffix(".tsv")
LEVELS = {"condition": ["placebo", "naltrexone"]}


def madrs_data(rng: np.random.Generator) -> pd.DataFrame:
    """MADRS-like: pre and day 1 under both conditions, order counterbalanced, sex per
    participant."""
    rows = []
    intercept = rng.normal(0, 5, N)
    placebo_first = rng.permutation(np.arange(N) % 2 == 0)
    sex = rng.permutation(np.where(np.arange(N) < N // 2, "M", "F"))
    for i in range(N):
        for condition in ("placebo", "naltrexone"):
            period = "1" if (condition == "placebo") == placebo_first[i] else "2"
            for time in ("pre", "day1"):
                value = (
                    30
                    + intercept[i]
                    - 10 * (time == "day1")
                    + 3 * (time == "day1") * (condition == "naltrexone")
                )
                rows.append(
                    {
                        "participant_id": f"sub-{i + 1:02d}",
                        "condition": condition,
                        "time": time,
                        "period": period,
                        "sex": sex[i],
                        "value": value + rng.normal(0, 4),
                    }
                )
    return pd.DataFrame(rows)


def glx_data(rng: np.random.Generator, session_sd: float = 0.0, n_blocks: int = 6) -> pd.DataFrame:
    """Glx/tNAA-like: six blocks per session (one baseline, five during the infusion); session_sd
    adds a participant x condition (session) intercept."""
    rows = []
    intercept = rng.normal(0, 0.1, N)
    for i in range(N):
        for condition in ("placebo", "naltrexone"):
            session = rng.normal(0, session_sd) if session_sd else 0.0
            for block in range(1, n_blocks + 1):
                value = 1.3 + intercept[i] + session + rng.normal(0, 0.05)
                rows.append(
                    {
                        "participant_id": f"sub-{i + 1:02d}",
                        "condition": condition,
                        "block": str(block),
                        "minutes": 6.0 * block - 9.0,
                        "value": value,
                    }
                )
    return pd.DataFrame(rows)


def ddf(data: pd.DataFrame, formula: str, term: str) -> float:
    anova = fit_lmm(data, formula, levels=LEVELS).anova.set_index("term")
    return float(anova.loc[term, "df_den"])


def main() -> None:
    rng = np.random.default_rng(SEED)
    madrs = madrs_data(rng)
    glx = glx_data(rng)
    rows = []

    def add(outcome, model, rows_used, term, df, note=""):
        rows.append(
            {
                "outcome": outcome,
                "model": model,
                "observations": rows_used,
                "term": term,
                "df_den": round(df, 2),
                "note": note,
            }
        )

    base = "value ~ condition * time + (1 | participant_id)"
    add(
        "MADRS",
        base,
        len(madrs),
        "condition:time",
        ddf(madrs, base, "condition:time"),
        "all 104 ratings",
    )
    add(
        "MADRS",
        base,
        len(madrs) - 1,
        "condition:time",
        ddf(madrs.drop(index=4), base, "condition:time"),
        "one rating missing",
    )
    with_period = "value ~ condition * time + period + (1 | participant_id)"
    add(
        "MADRS",
        with_period,
        len(madrs),
        "condition:time",
        ddf(madrs, with_period, "condition:time"),
        "period term, all ratings",
    )
    with_sex = "value ~ condition * time + sex + (1 | participant_id)"
    add(
        "MADRS",
        with_sex,
        len(madrs),
        "condition:time",
        ddf(madrs, with_sex, "condition:time"),
        "sex as covariate",
    )
    full_sex = "value ~ condition * time * sex + (1 | participant_id)"
    add(
        "MADRS",
        full_sex,
        len(madrs),
        "condition:time",
        ddf(madrs, full_sex, "condition:time"),
        "all interactions with sex",
    )
    block_model = "value ~ condition * block + (1 | participant_id)"
    missing = rng.choice(len(glx), size=22, replace=False)
    kept = glx.drop(index=missing)
    add(
        "Glx/tNAA",
        block_model,
        len(kept),
        "condition",
        ddf(kept, block_model, "condition"),
        "six blocks as a factor, 22 of 312 spectra missing",
    )
    linear = "value ~ condition * minutes + (1 | participant_id)"
    kept_linear = glx.drop(index=rng.choice(len(glx), size=30, replace=False))
    add(
        "Glx/tNAA",
        linear,
        len(kept_linear),
        "condition",
        ddf(kept_linear, linear, "condition"),
        "linear time, 30 of 312 spectra missing",
    )
    session = "value ~ condition * block + (1 | participant_id) + (1 | participant_id:condition)"
    with_sessions = glx_data(rng, session_sd=0.03)
    add(
        "Glx/tNAA",
        session,
        len(with_sessions),
        "condition",
        ddf(with_sessions, session, "condition"),
        "with a participant x condition (session) random intercept, data with session variance",
    )
    spread = [
        ddf(glx.drop(index=rng.choice(len(glx), size=22, replace=False)), block_model, "condition")
        for _ in range(30)
    ]
    add(
        "Glx/tNAA",
        block_model,
        len(glx) - 22,
        "condition",
        float(np.median(spread)),
        f"median over 30 random patterns of 22 missing spectra "
        f"(range {min(spread):.1f} to {max(spread):.1f})",
    )
    table = pd.DataFrame(rows)
    table.to_csv(OUTPUT, sep="\t", index=False, lineterminator="\n")
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
