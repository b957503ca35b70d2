"""Replicates of the power grid: each drawn by the simulator and tested by the main analysis's
models.

A replicate's random numbers depend only on (power seed, n, effect, replicate number), never on
the chunk it runs in, so the results do not depend on the chunking or the cores or nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..common.errors import InputError
from ..simulate.replicate import Design, replicate_tables
from ..stats.analyses import clinical_model_data, fit, glx_model_data

# test name -> (model data, formula key in Formulas, term); the formulas are the main analysis's
TEST_TERMS = {
    "glx_condition": ("glx", "glx", "condition"),
    "madrs_condition_x_time": ("madrs", "clinical", "condition:timepoint"),
    "glx_condition_x_sex": ("glx", "glx_sex", "condition:sex"),
}
# Fitted too where the simulated sessions vary (Design.session_sd > 0): the sensitivity model.
SESSION_TEST_TERMS = {"glx_condition_session_model": ("glx", "glx_session", "condition")}
REPLICATE_COLUMNS = [
    "test",
    "effect",
    "session_sd",
    "n_participants",
    "replicate",
    "estimate",
    "F",
    "df_den",
    "p",
]


@dataclass(frozen=True)
class Formulas:
    """The formulas of the main analysis (config stats.glx_formula, clinical_formula,
    glx_sex_formula) and of the session sensitivity analysis (stats.glx_session_formula)."""

    glx: str
    clinical: str
    glx_sex: str
    glx_session: str


def replicate_seed(
    seed: int, n_participants: int, effect: float, replicate: int, session_sd: float = 0.0
) -> np.random.SeedSequence:
    """The replicate's own random stream, a function of what it is, not of where it runs. The
    effect and the session SD enter exactly (numerator and denominator of the float), so no two
    cells share one."""
    exact = float(effect).as_integer_ratio() + float(session_sd).as_integer_ratio()
    return np.random.SeedSequence(
        int(seed), spawn_key=(int(n_participants), *exact, int(replicate))
    )


def run_replicate(
    settings: dict,
    conditions: list[str],
    reference: str,
    formulas: Formulas,
    design: Design,
    effect: float,
    seed: int,
    replicate: int,
) -> list[dict]:
    """One replicate: simulate the study, fit each test's model, return one row per test."""
    rng = np.random.default_rng(
        replicate_seed(seed, design.n_participants, effect, replicate, design.session_sd)
    )
    participants, spectra, scores = replicate_tables(settings, conditions, design, effect, rng)
    data = {
        "glx": glx_model_data(spectra, participants),
        "madrs": clinical_model_data(scores, participants, "MADRS", ["pre", "day1"]),
    }
    fitted: dict[str, pd.DataFrame] = {}
    rows = []
    tests = {**TEST_TERMS, **(SESSION_TEST_TERMS if design.session_sd > 0 else {})}
    for test, (which, formula_key, term) in tests.items():
        formula = getattr(formulas, formula_key)
        if formula not in fitted:
            source = (
                f"power replicate {replicate} (n = {design.n_participants}, effect {effect!r}, "
                f"session SD {design.session_sd!r})"
            )
            fitted[formula] = fit(
                data[which], formula, conditions, reference, source
            ).anova.set_index("term")
        row = fitted[formula].loc[term]
        rows.append(
            {
                "test": test,
                "effect": effect,
                "session_sd": design.session_sd,
                "n_participants": design.n_participants,
                "replicate": replicate,
                "estimate": row["estimate"],
                "F": row["F"],
                "df_den": row["df_den"],
                "p": row["p"],
            }
        )
    return rows


def run_chunk(
    settings: dict,
    conditions: list[str],
    reference: str,
    formulas: Formulas,
    design: Design,
    effect: float,
    seed: int,
    replicates: range,
    progress=None,
) -> pd.DataFrame:
    """The rows of a range of replicates of one grid cell; `progress(done, total)` after each."""
    rows = []
    for done, replicate in enumerate(replicates, start=1):
        rows += run_replicate(
            settings, conditions, reference, formulas, design, effect, seed, replicate
        )
        if progress is not None:
            progress(done, len(replicates))
    return pd.DataFrame(rows, columns=REPLICATE_COLUMNS)


def chunk_replicates(chunk: int, chunk_size: int, replicates: int) -> range:
    """The replicate numbers one chunk of a grid cell runs."""
    first = chunk * chunk_size
    return range(first, min(first + chunk_size, replicates))


def check_chunk(table: pd.DataFrame, path: str, cell: dict, expected: range) -> None:
    """A chunk's rows are its cell's and its replicates', each once per test: a file of an
    earlier grid or run never enters the power table."""
    for column in ("n_participants", "effect", "session_sd"):
        wrong = table.index[table[column].astype(float) != float(cell[column])]
        if len(wrong):
            raise InputError(
                path,
                f"row {int(wrong[0]) + 2}",
                column,
                f"{cell[column]!r} (the cell this file stands for)",
                table.loc[wrong[0], column],
            )
    for test, rows in table.groupby("test", sort=True):
        if sorted(rows["replicate"].astype(int)) != list(expected):
            raise InputError(
                path,
                None,
                "replicate",
                f"replicates {expected.start} to {expected.stop - 1} once each for {test}",
                f"{len(rows)} rows",
            )
