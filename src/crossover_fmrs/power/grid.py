"""The power grid's cells: their names in file names and the checks of the configured grid.

Pure Python (no pandas), so that the rule files can import it while Snakemake builds the DAG.
A cell is named by its exact effect (Python's shortest round-tripping float text), so two
effects share a file only when they are the same number.
"""

from __future__ import annotations

import math

# What effect_name writes: digits, a decimal point, an exponent (repr of a finite float >= 0).
EFFECT_NAME_PATTERN = r"[0-9]+\.[0-9]+(e[+-][0-9]+)?|[0-9]+e[+-][0-9]+"


def effect_name(effect: float) -> str:
    """The exact effect as text: 0.5 -> '0.5', 0.5000001 -> '0.5000001', 1e-7 -> '1e-07'."""
    return repr(float(effect))


def grid_error(values: list) -> tuple[str, object] | None:
    """(expected, got) when a grid axis (power.effects, power.n_participants) cannot be used:
    a value that is not a finite number, or the same number twice (1 and 1.0 included)."""
    seen: dict[float, object] = {}
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "numbers", value
        if not math.isfinite(value):
            return "finite numbers", value
        if float(value) in seen:
            return "each value once", [seen[float(value)], value]
        seen[float(value)] = value
    return None
