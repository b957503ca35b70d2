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
    "verdict",
    "reason",
    "numbers_agree",
    "direction_agrees",
    "significance_agrees",
    "conclusion_agrees",
    "note",
]
ALPHA = 0.05
# The verdicts, from the strongest agreement down; each row says which and why (`reason`).
VERDICTS = {
    "agrees": "every published number agrees at its precision, and the direction and the "
    "significance agree",
    "numbers differ": "direction and significance agree, a published number does not at its "
    "precision",
    "direction only": "the direction agrees, but the test that would support the claim is not "
    "significant here (a subgroup claim without a significant interaction)",
    "not significant here": "the direction agrees; the published test is significant, this one "
    "is not",
    "significant here": "the direction agrees; the published test is not significant, this one is",
    "disagrees": "the direction is the opposite",
    "not testable": "nothing here to compare it with",
}
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
        row, first = _compare_result(result_id, numbers, tables, synthetic, calibrated)
        rows.append(row)
        if first_row["expected_sign"] == "male_larger" and first_row["outcome"] != "MADRS":
            beside = _madrs_by_sex(tables)
            if beside is not None:
                rows.append(beside)
        if result_id == SENSITIVITY_OF and "glx_lmm_sensitivity" in tables:
            rows.append(
                _session_sensitivity(
                    first_row,
                    row["published"],
                    str(first["model"]),
                    tables["glx_lmm_sensitivity"],
                    tables.get("glx_sensitivity_models"),
                )
            )
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def _compare_result(
    result_id: str,
    numbers: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    synthetic: bool,
    calibrated: bool,
) -> tuple[dict, pd.Series]:
    """The comparison row of one published result (its numbers: the rows of one id), and the
    reproduced row it was compared with."""
    first_row = numbers.iloc[0]
    found = _lookup(tables, first_row)
    first = found.iloc[0]
    fields = dict(zip(numbers["field"], numbers["published"]))
    note = []
    direction = significance = numbers_agree = None
    subgroup_p = None
    if first_row["expected_sign"] == "male_larger":
        published_text = str(first_row["published"])
        reproduced, direction, subgroup_p, sex_note = _by_sex(
            found, tables, first_row["outcome"], first_row["term"], sign=-1
        )
        note.append(sex_note)
    elif not _is_number(str(first_row["published"])):  # a claim without numbers: its estimate and P
        published_text = str(first_row["published"])
        reproduced = f"estimate {float(first['estimate']):.3g}, P = {float(first['p']):.2g}"
        direction = _sign_agrees(float(first["estimate"]), first_row["expected_sign"])
    else:
        published_text = _written(fields) if "F" in fields else str(first_row["published"])
        reproduced, numbers_agree, direction, significance, number_notes = _compare_numbers(
            first, first_row, fields, synthetic, calibrated
        )
        note += number_notes
    if (
        first_row["published_significant"] in ("yes", "no")
        and significance is None
        and pd.notna(first.get("p"))
    ):
        significance = bool((first["p"] < ALPHA) == (first_row["published_significant"] == "yes"))
    if "n_pairs" in first and pd.notna(first.get("n_pairs")):
        note.append(f"over the {int(first['n_pairs'])} participants with both reductions")
    if str(first.get("warning", "") or "") not in ("", "nan"):
        note.append(f"WARNING: {first['warning']}")
    verdict, reason = _verdict_of(
        numbers_agree,
        direction,
        significance,
        first_row["published_significant"],
        subgroup_p,
        _interaction_power(tables.get("power"), first, first_row),
    )
    row = {
        "id": result_id,
        "result": first_row["result"],
        "location": first_row["location"],
        "published": published_text,
        "reproduced": reproduced,
        "verdict": verdict,
        "reason": reason,
        "numbers_agree": numbers_agree,
        "direction_agrees": direction,
        "significance_agrees": significance,
        "conclusion_agrees": verdict in ("agrees", "numbers differ"),
        "note": "; ".join(note),
    }
    return row, first


def _compare_numbers(
    first: pd.Series,
    first_row: pd.Series,
    fields: dict[str, str],
    synthetic: bool,
    calibrated: bool,
) -> tuple[str, bool, bool | None, bool | None, list[str]]:
    """A result published as numbers against the reproduced row `first`: (reproduced text, the
    numbers agree at their precision, direction agrees, significance agrees by a bootstrap CI,
    notes)."""
    note = []
    direction = significance = None
    texts = _reproduced_text(first, fields)
    reproduced = _written(texts) if "F" in fields else texts[next(iter(texts))]
    numbers_agree = all(agrees_at_precision(first[name], text) for name, text in fields.items())
    if "estimate" in first and pd.notna(first.get("estimate")) and first_row["expected_sign"]:
        direction = _sign_agrees(float(first["estimate"]), first_row["expected_sign"])
    if "ci_low" in first and pd.notna(first.get("ci_low")):
        inside = first["ci_low"] <= float(fields["estimate"]) <= first["ci_high"]
        reproduced += (
            f" ({first['ci_level']:.0%} CI {first['ci_low']:.3g} to {first['ci_high']:.3g})"
        )
        if not inside:
            note.append("the bootstrap CI excludes the published value")
        if first_row["published_significant"] in ("yes", "no"):  # significant = the CI excludes 0
            excludes_zero = first["ci_low"] > 0 or first["ci_high"] < 0
            significance = bool(excludes_zero == (first_row["published_significant"] == "yes"))
    if "df_den" in fields and not agrees_at_precision(first["df_den"], fields["df_den"]):
        note.append(
            f"Satterthwaite df follow the observations that enter the model: "
            f"{int(first['n_observations'])} observations from "
            f"{int(first['n_participants'])} participants"
        )
    if "F" in fields and synthetic and not calibrated:
        # A plain draw: the simulator sets the expected t^2 to the published F. How unusual is it?
        below = float(
            stats.ncf.cdf(float(first["F"]), first["df_num"], first["df_den"], float(fields["F"]))
        )
        note.append(
            f"under the simulated design F is at most this in {below:.0%} of studies "
            "(noncentral F, noncentrality = the published F)"
        )
    return reproduced, numbers_agree, direction, significance, note


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
    verdict, reason = _verdict_of(None, direction, significance, published["published_significant"])
    return {
        "id": f"{SENSITIVITY_OF}_session_sensitivity",
        "result": f"{published['result']}, with a session random intercept",
        "location": "sensitivity analysis, not published",
        "published": published_text,
        "reproduced": reproduced,
        "verdict": verdict,
        "reason": reason,
        "numbers_agree": None,
        "direction_agrees": direction,
        "significance_agrees": significance,
        "conclusion_agrees": verdict in ("agrees", "numbers differ"),
        "note": "; ".join(note),
    }


def _verdict_of(
    numbers_agree: bool | None,
    direction: bool | None,
    significance: bool | None,
    published_significant: str,
    subgroup_p: float | None = None,
    power: str = "",
) -> tuple[str, str]:
    """(verdict of VERDICTS, the reason in words) of one comparison row."""
    if direction is None and significance is None and numbers_agree is None:
        return "not testable", "no reproduced estimate or test to compare"
    if direction is False:
        return "disagrees", "the reproduced effect has the opposite direction"
    if subgroup_p is not None:  # a claim about a subgroup: it needs the interaction
        if not subgroup_p < ALPHA:
            return "direction only", (
                f"the effect is larger in the claimed subgroup, but the interaction that would "
                f"show a difference between the subgroups has P = {subgroup_p:.2g} (>= {ALPHA})"
                + (f"; {power}" if power else "")
            )
        return "agrees", f"larger in the claimed subgroup, interaction P = {subgroup_p:.2g}"
    if significance is False:
        if published_significant == "yes":
            return "not significant here", f"same direction, but P >= {ALPHA} here"
        return "significant here", f"same direction, but P < {ALPHA} here where it was not"
    if numbers_agree is False:
        return "numbers differ", "same conclusion; a number differs at its published precision"
    checked = [
        name
        for name, check in (
            ("the numbers", numbers_agree),
            ("the direction", direction),
            ("the significance", significance),
        )
        if check is not None
    ]
    return "agrees", (", ".join(checked[:-1]) + " and " if len(checked) > 1 else "") + (
        f"{checked[-1]} as published"
    )


def _by_sex(
    found: pd.DataFrame, tables: dict[str, pd.DataFrame], outcome: str, term: str, sign: int
) -> tuple[str, bool, float | None, str]:
    """Males' and females' effect (rows male, female of `found`) and the interaction with sex:
    (text, males' effect the larger one in the expected direction `sign`, interaction P, note)."""
    male, female = found.iloc[0], found.iloc[1]
    text = (
        f"males {male['estimate']:.3g} (P = {male['p']:.2g}); "
        f"females {female['estimate']:.3g} (P = {female['p']:.2g})"
    )
    direction = bool(
        abs(male["estimate"]) > abs(female["estimate"]) and sign * male["estimate"] > 0
    )
    p = None
    interaction = tables.get("sex_interaction")
    if interaction is not None:
        row = interaction[
            (interaction["outcome"] == outcome) & (interaction["term"] == f"{term}:sex")
        ]
        if len(row):
            estimate, p = float(row["estimate"].iloc[0]), float(row["p"].iloc[0])
            direction = direction and sign * estimate > 0
            text += f"; {term} × sex {estimate:.3g} (P = {p:.2g})"
    note = f"{term} within each sex, and its interaction with sex (male − female)"
    return text, direction, p, note


def _interaction_power(power: pd.DataFrame | None, found: pd.Series, published: pd.Series) -> str:
    """The simulated power to detect the sex interaction at this study's size and the published
    effect, when the power results exist and have that size (docs/power.md)."""
    if power is None or published["expected_sign"] != "male_larger":
        return ""
    test = {"Glx/tNAA": "glx_condition_x_sex"}.get(published["outcome"])
    n = found.get("n_participants")
    if test is None or n is None or pd.isna(n):
        return ""
    row = power[
        (power["test"] == test)
        & (power["effect"].astype(float) == 1.0)
        & (power["n_participants"].astype(float) == float(n))
    ]
    if row.empty:
        return ""
    return (
        f"simulated power to detect it at n = {int(n)} and the published effect: "
        f"{float(row['power'].iloc[0]):.2f}"
    )


def _madrs_by_sex(tables: dict[str, pd.DataFrame]) -> dict | None:
    """The paper's sex claim concerns Glx/tNAA; the MADRS response by sex, beside it, is not
    published: the same comparison without a published claim to hold it against (None when the
    sex analyses have no MADRS rows)."""
    stratified = tables["sex_stratified"]
    found = stratified[
        (stratified["outcome"] == "MADRS") & (stratified["term"] == "condition:timepoint")
    ].set_index("subset")
    if not {"male", "female"} <= set(found.index):
        return None
    found = found.loc[["male", "female"]].reset_index()
    text, larger, p, note = _by_sex(found, tables, "MADRS", "condition:timepoint", sign=1)
    return {
        "id": "madrs_sex",
        "result": "naltrexone effect on the MADRS response (condition × time) by sex",
        "location": "not published (the paper's sex claim concerns Glx/tNAA)",
        "published": "not reported",
        "reproduced": text,
        "verdict": "not testable",
        "reason": (
            "no published result to compare; here the attenuation is "
            + ("larger" if larger else "not larger")
            + " in males"
            + (f", interaction P = {p:.2g}" if p is not None else "")
        ),
        "numbers_agree": None,
        "direction_agrees": None,
        "significance_agrees": None,
        "conclusion_agrees": None,
        "note": note,
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
        "paper reports; significance: on the same side of P = 0.05. The verdicts:",
        "",
        *[f"- **{name}**: {meaning}" for name, meaning in VERDICTS.items()],
        "",
    ]
    header = [
        "result",
        "published",
        "reproduced",
        "verdict",
        "why",
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
            f"**{row['verdict']}**",
            row["reason"],
            _verdict(row["numbers_agree"]),
            _verdict(row["direction_agrees"]),
            _verdict(row["significance_agrees"]),
            _verdict(row["conclusion_agrees"]),
            row["note"] or "",
        ]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
