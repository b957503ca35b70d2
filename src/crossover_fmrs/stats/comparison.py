"""Paper vs reproduced: one row per published result (a test's F, df and P together).

The published numbers come from resources/published_results.tsv (one row per number, grouped
here by `id`); every reproduced value and every verdict is computed from the pipeline's own
tables, nothing is typed here. Each number is compared at its published precision (the decimals
it was published with): "4.83" agrees with 4.8349 and not with 4.8251.
"""

from __future__ import annotations

import pandas as pd
from scipy import stats

from lmmkit import parse_formula

COMPARISON_COLUMNS = [
    "id",
    "result",
    "location",
    "published",
    "reproduced",
    "numbers_agree",
    "direction_agrees",
    "significance_agrees",
    "conclusion_agrees",
    "note",
]
ALPHA = 0.05
# How each field is written in a result, e.g. F(1,253) = 4.83, P = 0.029
LABELS = {"F": "F", "p": "P", "estimate": "", "n_participants": "n"}


def decimals(text: str) -> int:
    """Decimals a number was published with: '4.83' -> 2, '253' -> 0."""
    return len(text.split(".", 1)[1]) if "." in text else 0


def agrees_at_precision(value: float, published: str) -> bool:
    """The reproduced value, rounded as the published one was, equals it."""
    places = decimals(published)
    return bool(round(float(value) + 0.0, places) == round(float(published), places))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _lookup(tables: dict[str, pd.DataFrame], row) -> pd.DataFrame:
    table = tables[row["table"]]
    subsets = str(row["subset"]).split(";")
    found = table[
        (table["outcome"] == row["outcome"])
        & (table["term"] == row["term"])
        & table["subset"].isin(subsets)
    ]
    if found.empty:
        raise ValueError(
            f"published_results: no reproduced row for {row['id']} in {row['table']} "
            f"(outcome {row['outcome']}, subset {row['subset']}, term {row['term']})"
        )
    return found.set_index("subset").loc[subsets].reset_index()


def _sign_agrees(estimate: float, expected: str) -> bool | None:
    if expected == "positive":
        return bool(estimate > 0)
    if expected == "negative":
        return bool(estimate < 0)
    return None


def _written(fields: dict[str, str]) -> str:
    """'F(1,253) = 4.83, P = 0.029' from {'F': '4.83', 'df_num': '1', 'df_den': '253', 'p':
    '0.029'}."""
    parts = []
    if "F" in fields:
        df = f"({fields['df_num']},{fields['df_den']})" if "df_num" in fields else ""
        parts.append(f"F{df} = {fields['F']}")
    for name in ("p", "estimate", "n_participants"):
        if name in fields:
            parts.append(f"{LABELS[name]} = {fields[name]}".lstrip(" ="))
    return ", ".join(parts)


def _reproduced_text(found: pd.Series, published: dict[str, str]) -> dict[str, str]:
    """Each reproduced number, written with the published number's decimals."""
    return {name: f"{float(found[name]):.{decimals(text)}f}" for name, text in published.items()}


def compare(
    published: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    synthetic: bool,
    calibrated: bool = False,
) -> pd.DataFrame:
    rows = []
    for result_id, numbers in published.groupby("id", sort=False):
        first_row = numbers.iloc[0]
        found = _lookup(tables, first_row)
        first = found.iloc[0]
        fields = dict(zip(numbers["field"], numbers["published"]))
        note = []
        direction = significance = numbers_agree = None
        if first_row["expected_sign"] == "male_larger":
            male, female = found.iloc[0], found.iloc[1]
            published_text = str(first_row["published"])
            reproduced = (
                f"males {male['estimate']:.3g} (P = {male['p']:.2g}); "
                f"females {female['estimate']:.3g} (P = {female['p']:.2g})"
            )
            direction = bool(
                abs(male["estimate"]) > abs(female["estimate"]) and male["estimate"] < 0
            )
            interaction = tables.get("sex_interaction")
            if interaction is not None:
                term = interaction[
                    (interaction["outcome"] == first_row["outcome"])
                    & (interaction["term"] == f"{first_row['term']}:sex")
                ]
                if len(term):
                    estimate = float(term["estimate"].iloc[0])
                    direction = direction and estimate < 0
                    reproduced += (
                        f"; condition × sex {estimate:.3g} (P = {float(term['p'].iloc[0]):.2g})"
                    )
            note.append(
                "naltrexone − placebo within each sex, and the interaction (male − female); "
                "the paper gives the direction only"
            )
        elif not _is_number(
            str(first_row["published"])
        ):  # a claim without numbers: its estimate and P
            published_text = str(first_row["published"])
            reproduced = f"estimate {float(first['estimate']):.3g}, P = {float(first['p']):.2g}"
            direction = _sign_agrees(float(first["estimate"]), first_row["expected_sign"])
        else:
            published_text = _written(fields) if "F" in fields else str(first_row["published"])
            texts = _reproduced_text(first, fields)
            reproduced = _written(texts) if "F" in fields else texts[next(iter(texts))]
            numbers_agree = all(
                agrees_at_precision(first[name], text) for name, text in fields.items()
            )
            if (
                "estimate" in first
                and pd.notna(first.get("estimate"))
                and first_row["expected_sign"]
            ):
                direction = _sign_agrees(float(first["estimate"]), first_row["expected_sign"])
            if "ci_low" in first and pd.notna(first.get("ci_low")):
                inside = first["ci_low"] <= float(fields["estimate"]) <= first["ci_high"]
                reproduced += (
                    f" ({first['ci_level']:.0%} CI {first['ci_low']:.3g} to {first['ci_high']:.3g})"
                )
                if not inside:
                    note.append("the bootstrap CI excludes the published value")
                if first_row["published_significant"] in (
                    "yes",
                    "no",
                ):  # significant = the CI excludes 0
                    excludes_zero = first["ci_low"] > 0 or first["ci_high"] < 0
                    significance = bool(
                        excludes_zero == (first_row["published_significant"] == "yes")
                    )
            if "df_den" in fields and not agrees_at_precision(first["df_den"], fields["df_den"]):
                note.append(
                    f"Satterthwaite df follow the observations that enter the model: "
                    f"{int(first['n_observations'])} observations from "
                    f"{int(first['n_participants'])} participants"
                )
            if "F" in fields and synthetic and not calibrated:
                # A plain draw: the simulator sets the expected t^2 to the published F. How unusual
                # is it?
                below = float(
                    stats.ncf.cdf(
                        float(first["F"]), first["df_num"], first["df_den"], float(fields["F"])
                    )
                )
                note.append(
                    f"under the simulated design F is at most this in {below:.0%} of studies "
                    "(noncentral F, noncentrality = the published F)"
                )
        if (
            first_row["published_significant"] in ("yes", "no")
            and significance is None
            and pd.notna(first.get("p"))
        ):
            significance = bool(
                (first["p"] < ALPHA) == (first_row["published_significant"] == "yes")
            )
        checks = [c for c in (numbers_agree, direction, significance) if c is not None]
        rows.append(
            {
                "id": result_id,
                "result": first_row["result"],
                "location": first_row["location"],
                "published": published_text,
                "reproduced": reproduced,
                "numbers_agree": numbers_agree,
                "direction_agrees": direction,
                "significance_agrees": significance,
                "conclusion_agrees": all(checks) if checks else None,
                "note": "; ".join(note),
            }
        )
        if result_id == SENSITIVITY_OF and "glx_lmm_sensitivity" in tables:
            rows.append(
                _session_sensitivity(
                    first_row,
                    published_text,
                    str(first["model"]),
                    tables["glx_lmm_sensitivity"],
                    tables.get("glx_sensitivity_models"),
                )
            )
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


# The published result whose robustness to session-level variation the sensitivity model checks.
SENSITIVITY_OF = "glx_condition"


def _session_sensitivity(
    published: pd.Series,
    published_text: str,
    primary_formula: str,
    tests: pd.DataFrame,
    models: pd.DataFrame | None,
) -> dict:
    """The published Glx/tNAA condition test beside the same test in the model with a session
    random intercept (not in the paper): does the conclusion survive session-level variation?"""
    found = _lookup({"tests": tests}, {**published.to_dict(), "table": "tests"}).iloc[0]
    reproduced = (
        f"F({found['df_num']:.0f},{found['df_den']:.1f}) = {found['F']:.2f}, P = {found['p']:.2g}"
    )
    direction = _sign_agrees(float(found["estimate"]), published["expected_sign"])
    significance = bool((found["p"] < ALPHA) == (published["published_significant"] == "yes"))
    note = [
        "sensitivity analysis, not in the paper: the primary model plus a session random "
        "intercept (stats.glx_session_formula), so that the condition effect is tested against "
        "the variation between a participant's sessions"
    ]
    if models is not None:
        # the components the primary model lacks: the session's
        primary_groups = set(parse_formula(primary_formula, "glx_lmm.tsv").groups)
        session = models[
            (models["component"] != "Residual")
            & ~models["component"].isin({":".join(group) for group in primary_groups})
        ]
        if len(session):
            variance = float(session["variance"].iloc[0])
            note.append(
                f"session variance {variance:.3g}"
                + (
                    " (singular fit: these data show no session-level variation, so the "
                    "primary test does not rest on assuming none)"
                    if variance == 0
                    else ""
                )
            )
    checks = [c for c in (direction, significance) if c is not None]
    return {
        "id": f"{SENSITIVITY_OF}_session_sensitivity",
        "result": f"{published['result']}, with a session random intercept",
        "location": "sensitivity analysis, not published",
        "published": published_text,
        "reproduced": reproduced,
        "numbers_agree": None,
        "direction_agrees": direction,
        "significance_agrees": significance,
        "conclusion_agrees": all(checks) if checks else None,
        "note": "; ".join(note),
    }


def data_statement(synthetic: bool, calibrated: bool) -> str:
    """What the reproduced values come from, said plainly (Markdown)."""
    if not synthetic:
        return ""
    if calibrated:
        return (
            "**CALIBRATED SYNTHETIC DATA.** The reproduced values come from the embedded simulated "
            "dataset, whose simulator searched its effect sizes until these published statistics "
            "came out of the pipeline. Agreement shows that the analysis chain is the paper's, not "
            "that the trial's finding holds."
        )
    return (
        "**SYNTHETIC DATA.** The reproduced values come from one random draw of the project's "
        "simulator, whose effects were set from the published statistics; a single draw differs "
        "from them by sampling error."
    )


def _verdict(value) -> str:
    return {True: "yes", False: "no"}.get(value if isinstance(value, bool) else None, "–")


def to_markdown(table: pd.DataFrame, synthetic: bool, calibrated: bool = False) -> str:
    lines = ["# Paper vs reproduced", ""]
    statement = data_statement(synthetic, calibrated)
    if statement:
        lines += [statement, ""]
    lines += [
        "Each number is compared at the precision it was published with. Direction: the sign the "
        "paper reports; significance: on the same side of P = 0.05.",
        "",
    ]
    header = [
        "result",
        "published",
        "reproduced",
        "numbers agree",
        "direction agrees",
        "significance agrees",
        "conclusion agrees",
        "note",
    ]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for _, row in table.iterrows():
        cells = [
            f"{row['result']} ({row['location']})",
            row["published"],
            row["reproduced"],
            _verdict(row["numbers_agree"]),
            _verdict(row["direction_agrees"]),
            _verdict(row["significance_agrees"]),
            _verdict(row["conclusion_agrees"]),
            row["note"] or "",
        ]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
