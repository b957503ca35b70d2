"""Paper vs reproduced: one row per published number, with the reproduced value beside it.

The published numbers come from resources/published_results.tsv; every reproduced value and
every note is computed from the pipeline's own tables, nothing is typed here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

COMPARISON_COLUMNS = [
    "id", "number", "location", "published", "reproduced", "difference", "direction_agrees",
    "significance_agrees", "conclusion_agrees", "note",
]
ALPHA = 0.05


def _lookup(tables: dict[str, pd.DataFrame], row) -> pd.DataFrame:
    table = tables[row["table"]]
    subsets = str(row["subset"]).split(";")
    found = table[(table["outcome"] == row["outcome"]) & (table["term"] == row["term"]) & table["subset"].isin(subsets)]
    if found.empty:
        raise ValueError(f"published_results: no reproduced row for {row['id']} in {row['table']} "
                         f"(outcome {row['outcome']}, subset {row['subset']}, term {row['term']})")
    return found.set_index("subset").loc[subsets].reset_index()


def _sign_agrees(estimate: float, expected: str) -> bool | None:
    if expected == "positive":
        return bool(estimate > 0)
    if expected == "negative":
        return bool(estimate < 0)
    return None


def _fmt(value) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "NA"
    return f"{value:.4g}"


def compare(published: pd.DataFrame, tables: dict[str, pd.DataFrame], synthetic: bool) -> pd.DataFrame:
    rows = []
    for _, row in published.iterrows():
        found = _lookup(tables, row)
        first = found.iloc[0]
        field = row["field"]
        note = []
        direction = significance = None
        difference = np.nan
        if row["expected_sign"] == "male_larger":
            male, female = found.iloc[0], found.iloc[1]
            reproduced = f"male {male['estimate']:.4g} (p={male['p']:.3g}); female {female['estimate']:.4g} (p={female['p']:.3g})"
            direction = bool(abs(male["estimate"]) > abs(female["estimate"]) and male["estimate"] < 0)
            note.append("condition effect (naltrexone - placebo) within each sex; the paper gives the direction only")
        else:
            value = first[field]
            reproduced = value
            if row["number"] == "direction":  # a claim without numbers: show the estimate and its p
                reproduced = f"estimate {float(value):.4g} (p={float(first['p']):.3g})"
            try:
                difference = float(value) - float(row["published"])
            except ValueError:
                difference = np.nan
            if "estimate" in first and pd.notna(first.get("estimate")):
                direction = _sign_agrees(float(first["estimate"]), row["expected_sign"])
            if row["published_significant"] in ("yes", "no") and "p" in first and pd.notna(first.get("p")):
                significance = bool((first["p"] < ALPHA) == (row["published_significant"] == "yes"))
            if field == "df_den":
                note.append(f"Satterthwaite df follow the observations that enter the model: "
                            f"{int(first['n_observations'])} observations from {int(first['n_participants'])} participants")
            if field == "estimate" and "ci_low" in first and pd.notna(first.get("ci_low")):
                inside = first["ci_low"] <= float(row["published"]) <= first["ci_high"]
                note.append(f"{first['ci_level']:.0%} bootstrap CI {first['ci_low']:.3g} to {first['ci_high']:.3g}"
                            f" ({'contains' if inside else 'excludes'} the published value)")
                if row["published_significant"] in ("yes", "no"):  # significant = the CI excludes 0
                    excludes_zero = first["ci_low"] > 0 or first["ci_high"] < 0
                    significance = bool(excludes_zero == (row["published_significant"] == "yes"))
            if field == "F" and synthetic:
                # The simulator sets the expected t^2 to the published F: how unusual is this draw?
                below = float(stats.ncf.cdf(float(value), first["df_num"], first["df_den"], float(row["published"])))
                note.append(f"under the simulated design F is at most this in {below:.0%} of studies "
                            f"(noncentral F, noncentrality = the published F)")
            if field == "n_participants" and pd.notna(difference) and difference != 0:
                note.append("participants with at least one usable observation")
        if synthetic:
            # Simulated data may be made to agree (docs/simulator.md): agreement then says nothing of the trial.
            note.append("synthetic data: effects were simulated from the published statistics, so agreement "
                        "shows the analysis chain, not the trial's finding")
        checks = [c for c in (direction, significance) if c is not None]
        rows.append({
            "id": row["id"], "number": row["number"], "location": row["location"], "published": row["published"],
            "reproduced": reproduced, "difference": difference,
            "direction_agrees": direction, "significance_agrees": significance,
            "conclusion_agrees": all(checks) if checks else None,
            "note": "; ".join(note),
        })
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def to_markdown(table: pd.DataFrame, synthetic: bool) -> str:
    lines = ["# Paper vs reproduced", ""]
    if synthetic:
        lines += ["**SYNTHETIC DATA**: the reproduced values come from the embedded simulated dataset, not the "
                  "trial's data.", ""]
    header = ["id", "number", "location", "published", "reproduced", "difference", "conclusion agrees", "note"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for _, row in table.iterrows():
        agrees = {True: "yes", False: "no"}.get(row["conclusion_agrees"], "n/a")
        cells = [row["id"], row["number"], row["location"], _fmt(row["published"]), _fmt(row["reproduced"]),
                 _fmt(row["difference"]), agrees, row["note"]]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
