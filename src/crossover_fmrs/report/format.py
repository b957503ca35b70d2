"""How the report's table pages write numbers, order columns and name units: each rule once.

- P values: 2 significant digits, "< 0.001" below 0.001.
- Degrees of freedom: 1 decimal (whole numbers, such as a numerator df, as integers).
- Counts (n, n_*, steps): integers.
- Every other number (F, t, estimates, SE, CI bounds, variances, percentages): 3 significant
  digits; below 0.001 or from 10^6 up as d.dd × 10^k.
- Missing (NA or an empty cell): an en dash.
- A column is numeric only when every cell that is not missing reads as a number; text columns
  (formulas, notes, published results) are shown as written.
- Columns: the row's name (outcome, subset, term, ...), then estimate, F or t, df, P, n, then
  the rest in the TSV's order; a column that describes the analysis (model, df method, ...) and
  holds one value in every row, and a column without values, are named once above the table.
- Units in the headers of the columns that carry one: the ratio for fMRS outcomes ("estimate
  (Glx/tNAA)"), score points for rating scales ("estimate (MADRS points)"), % for percentages,
  squared for variances; a table whose rows differ in unit gets a unit column instead.

The TSV keeps full precision; only its page rounds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MISSING = "–"
MISSING_TEXTS = frozenset({"", "NA", "nan", "NaN"})
P_FLOOR = 0.001
# Columns that name a row or hold identifiers: never read as numbers, first on the page.
ROW_NAME_COLUMNS = (
    "id",
    "result",
    "step",
    "outcome",
    "subset",
    "characteristic",
    "level",
    "site",
    "stage",
    "condition",
    "term",
    "component",
)
# The key columns after the row's name, in this order.
KEY_COLUMNS = (
    "published",
    "reproduced",
    "statistic",
    "value",
    "unit",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "variance",
    "sd",
    "F",
    "t",
    "df_num",
    "df_den",
    "df",
    "p",
    "p_gg",
    "n_participants",
    "n_observations",
    "n_pairs",
    "n",
)
# Text columns that describe the analysis rather than the row: said once above the table when
# every row holds the same value.
DESCRIPTIVE_COLUMNS = frozenset(
    {
        "analysis",
        "outcome",
        "subset",
        "condition",
        "model",
        "df_method",
        "effect_size_kind",
        "method",
    }
)
COUNT_COLUMNS = frozenset({"n", "tier"})
TEXT_COLUMNS = frozenset({"version", "participant_id", "id"})
# Columns in the unit of the outcome (power 1) or its square (power 2).
UNIT_POWER = {
    "estimate": 1,
    "se": 1,
    "ci_low": 1,
    "ci_high": 1,
    "sd": 1,
    "variance": 2,
    "site_variance": 2,
    "tau2": 2,
}
HEADERS = {
    "se": "SE",
    "sd": "SD",
    "ci_low": "CI low",
    "ci_high": "CI high",
    "p": "P",
    "p_gg": "P (GG)",
    "df_num": "df num",
    "df_den": "df den",
    "epsilon_gg": "ε (GG)",
    "ges": "generalised η²",
    "tau2": "τ²",
    "i2_percent": "I² (%)",
    "q": "Q",
    "q_df": "Q df",
    "q_p": "Q P",
    "reml_criterion": "REML criterion",
}
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def is_missing(text: str) -> bool:
    return text.strip() in MISSING_TEXTS


def role(column: str) -> str:
    """ "p", "df", "count", "text" or "number": which rule formats the column."""
    if column in TEXT_COLUMNS or column in ROW_NAME_COLUMNS:
        return "text"
    if column == "p" or column.startswith("p_") or column.endswith("_p"):
        return "p"
    if column == "df" or column.startswith("df_") or column.endswith("_df"):
        return "df"
    if column in COUNT_COLUMNS or column.startswith("n_"):
        return "count"
    return "number"


def significant(value: float, digits: int) -> str:
    """value with `digits` significant digits, trailing zeros kept (0.10, 1.00, 209)."""
    if value == 0:
        return "0"
    rounded = float(f"{value:.{digits - 1}e}")  # 0.0999 -> 0.100: the exponent after rounding
    exponent = math.floor(math.log10(abs(rounded)))
    if exponent < -3 or exponent >= 6:
        mantissa, power = f"{rounded:.{digits - 1}e}".split("e")
        return f"{mantissa} × 10{str(int(power)).translate(SUPERSCRIPT)}"
    return f"{rounded:.{max(0, digits - 1 - exponent)}f}"


def format_p(value: float) -> str:
    return f"< {P_FLOOR:g}" if value < P_FLOOR else significant(value, 2)


def format_df(value: float) -> str:
    return str(int(value)) if value.is_integer() else f"{value:.1f}"


def format_count(value: float) -> str:
    return str(int(value)) if value.is_integer() else significant(value, 3)


FORMATTERS = {
    "p": format_p,
    "df": format_df,
    "count": format_count,
    "number": lambda value: significant(value, 3),
}


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def is_numeric(column: str, cells: Sequence[str]) -> bool:
    """Whether the column's cells are numbers to round (every cell not missing reads as one)."""
    present = [cell for cell in cells if not is_missing(cell)]
    return (
        role(column) != "text"
        and bool(present)
        and all(_number(cell) is not None for cell in present)
    )


def format_cell(column: str, text: str, numeric: bool) -> str:
    """One cell as the page shows it."""
    if is_missing(text):
        return MISSING
    if not numeric:
        return text
    return FORMATTERS[role(column)](float(text))


def unit_of(outcome: str, term: str, ratio_label: str) -> str:
    """The unit of a row's estimate: % for a percentage, the ratio for the fMRS outcome, score
    points for a rating scale."""
    if term.endswith("_percent"):
        return "%"
    if outcome == ratio_label:
        return ratio_label
    return f"{outcome} points" if outcome else ""


def squared(unit: str) -> str:
    return f"({unit})²" if "/" in unit else f"{unit}²"


def header(column: str, unit: str | None) -> str:
    """The header of a column; unit None when the rows differ in unit (a unit column says)."""
    name = HEADERS.get(column, column.replace("_", " "))
    power = UNIT_POWER.get(column)
    if power is None or unit == "":
        return name
    if unit is None:
        return f"{name} (unit{'²' if power == 2 else ''})"
    return f"{name} ({unit if power == 1 else squared(unit)})"


def column_order(columns: Sequence[str]) -> list[str]:
    """The row's name, the key columns, then the rest in their order."""
    first = [c for c in ROW_NAME_COLUMNS if c in columns]
    key = [c for c in KEY_COLUMNS if c in columns]
    return first + key + [c for c in columns if c not in first and c not in key]
