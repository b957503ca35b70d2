"""Repeated-measures ANOVA (one or two within factors) on complete-case participants.

The classical complement to the mixed models, not the paper's analysis (README: an rm-ANOVA on
26 participants has denominator df 25, not 253 or 74). Computed by pingouin.rm_anova; this
wrapper makes its silent behaviours explicit:

- pingouin drops every participant with a missing cell without saying so: here they are
  dropped first, counted and listed in the output;
- pingouin averages duplicate rows within a cell: here duplicates raise InputError;
- the sphericity correction is requested explicitly. pingouin returns the Greenhouse-Geisser
  columns of a one-way design only when asked and only for 3+ levels; with 2 levels
  epsilon = 1 and the corrected p equals the uncorrected one, which is what this table says;
- with fewer complete participants than a term's df + 1, epsilon is not estimable (singular
  covariance of the contrasts): R's car/afex give no correction, pingouin a number; here
  epsilon_gg and p_gg are NaN.

Checked against R afex::aov_ez (type 3, GG, es = pes and ges) in tests/test_rmanova.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..common.errors import InputError

__all__ = ["RM_ANOVA_COLUMNS", "complete_case_participants", "rm_anova"]

RM_ANOVA_COLUMNS = [
    "term",
    "F",
    "df_num",
    "df_den",
    "p",
    "p_gg",
    "epsilon_gg",
    "np2",
    "ges",
    "n_participants",
    "n_participants_dropped",
    "participants_dropped",
]


def _within_list(within, source: str) -> list[str]:
    within = [within] if isinstance(within, str) else list(within)
    if not 1 <= len(within) <= 2 or len(set(within)) != len(within):
        raise InputError(source, "within", None, "one or two distinct within factors", within)
    return within


def _checked(
    data: pd.DataFrame, dv: str, within: list[str], subject: str, source: str
) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise InputError(source, None, None, "a pandas DataFrame", type(data).__name__)
    for column in [dv, *within, subject]:
        if column not in data.columns:
            raise InputError(
                source, None, column, "a column of the data", sorted(map(str, data.columns))
            )
    for column in [*within, subject]:
        missing = data[column].isna().to_numpy()
        if missing.any():
            raise InputError(
                source, f"row {data.index[np.argmax(missing)]}", column, "a value (not missing)"
            )
    values = data[dv]
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        for label, value in values.items():
            if not pd.isna(value) and (
                isinstance(value, (bool, np.bool_))
                or not isinstance(value, (int, float, np.number))
            ):
                raise InputError(source, f"row {label}", dv, "a number", value)
    numbers = values.to_numpy(dtype="float64", na_value=np.nan)
    if np.isinf(numbers).any():
        raise InputError(
            source, f"row {data.index[np.argmax(np.isinf(numbers))]}", dv, "a finite number"
        )
    frame = data[[subject, *within]].copy()
    frame[dv] = numbers
    counts = frame.groupby([subject, *within], sort=True, observed=True).size()
    if (counts > 1).any():
        key, count = next((k, c) for k, c in counts.items() if c > 1)
        key = key if isinstance(key, tuple) else (key,)
        cell = ", ".join(f"{w}={v}" for w, v in zip(within, key[1:]))
        raise InputError(
            source,
            f"participant {key[0]}",
            ", ".join(within),
            "one row per participant and cell (pingouin would average duplicates)",
            f"{count} rows for {cell}",
        )
    for column in within:
        if frame[column].nunique() < 2:
            raise InputError(
                source,
                None,
                column,
                "at least 2 levels of a within factor",
                frame[column].unique().tolist(),
            )
    return frame


def complete_case_participants(
    data: pd.DataFrame, dv: str, within, subject: str, source: str = "<data>"
) -> tuple[list, list]:
    """(participants with a value in every cell, participants dropped), each sorted.

    The cells are all combinations of the levels of the within factors seen in the data.
    """
    within = _within_list(within, source)
    frame = _checked(data, dv, within, subject, source)
    return _split_complete(frame, dv, within, subject)


def _split_complete(frame, dv, within, subject):
    n_cells = int(np.prod([frame[w].nunique() for w in within]))
    filled = frame.dropna(subset=[dv]).groupby(subject, sort=True, observed=True).size()
    participants = sorted(frame[subject].unique(), key=str)
    used = [p for p in participants if filled.get(p, 0) == n_cells]
    dropped = [p for p in participants if filled.get(p, 0) != n_cells]
    return used, dropped


def rm_anova(
    data: pd.DataFrame, dv: str, within, subject: str, source: str = "<data>"
) -> pd.DataFrame:
    """Repeated-measures ANOVA table over complete-case participants.

    One row per term (interaction written 'a:b'), columns RM_ANOVA_COLUMNS: F, df_num, df_den
    and p uncorrected; p_gg and epsilon_gg Greenhouse-Geisser (NaN where not estimable); np2
    partial and ges generalized eta squared; the participants used and dropped (IDs joined
    by ';'). `within` is one column name or a list of one or two.
    """
    import pingouin  # imported here: complete_case_participants (the flow) needs none of it

    within = _within_list(within, source)
    frame = _checked(data, dv, within, subject, source)
    used, dropped = _split_complete(frame, dv, within, subject)
    if len(used) < 2:
        raise InputError(
            source, None, dv, "at least 2 participants with a value in every cell", len(used)
        )
    complete = frame[frame[subject].isin(used)].sort_values([subject, *within], kind="stable")
    complete = complete.reset_index(drop=True)
    arg = within[0] if len(within) == 1 else within
    with warnings.catch_warnings():
        # pingouin 0.7 calls DataFrame.dropna(inplace=True), deprecated in pandas 3.1
        warnings.filterwarnings("ignore", message="The inplace keyword in DataFrame.dropna")
        tables = {
            effsize: pingouin.rm_anova(
                data=complete,
                dv=dv,
                within=arg,
                subject=subject,
                correction=True,
                detailed=False,
                effsize=effsize,
            )
            for effsize in ("np2", "ng2")
        }
    aov = tables["np2"]
    terms = list(within) if len(within) == 1 else [within[0], within[1], f"{within[0]}:{within[1]}"]
    if len(aov) != len(terms):
        raise RuntimeError(f"pingouin.rm_anova returned {len(aov)} rows for terms {terms}")
    p = np.array(aov["p_unc"], dtype=float)  # copies: pandas 3 arrays are read-only
    df_num = aov["ddof1"].to_numpy(dtype=float)
    eps = np.array(aov["eps"], dtype=float)
    # pingouin leaves out p_GG_corr for a one-way design with 2 levels, where epsilon is 1
    p_gg = np.array(aov["p_GG_corr"], dtype=float) if "p_GG_corr" in aov.columns else p.copy()
    # With fewer participants than df + 1 the covariance of a term's contrasts is singular:
    # R (car/afex) gives no correction there, pingouin still returns a number. Report none.
    undefined = (df_num > 1) & (len(used) - 1 < df_num)
    eps[undefined] = np.nan
    p_gg[undefined] = np.nan
    return pd.DataFrame(
        {
            "term": terms,
            "F": aov["F"].to_numpy(dtype=float),
            "df_num": df_num,
            "df_den": aov["ddof2"].to_numpy(dtype=float),
            "p": p,
            "p_gg": p_gg,
            "epsilon_gg": eps,
            "np2": aov["np2"].to_numpy(dtype=float),
            "ges": tables["ng2"]["ng2"].to_numpy(dtype=float),
            "n_participants": len(used),
            "n_participants_dropped": len(dropped),
            "participants_dropped": ";".join(map(str, dropped)),
        },
        columns=RM_ANOVA_COLUMNS,
    )
