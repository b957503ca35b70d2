"""Model matrices: fixed effects coded as R's model.matrix, random effects as a sparse Z."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import LmmInputError
from .formula import Formula, RandomTerm
from .guard import check_memory


@dataclass(frozen=True)
class Variable:
    name: str
    levels: tuple | None  # None for a numeric variable
    coding: np.ndarray | None  # k x (k-1) contrast matrix of a factor
    column_names: tuple[str, ...]
    mean: float = float("nan")  # of a numeric variable in the fitted rows


@dataclass(frozen=True)
class RandomBlock:
    """One random term: level of each row and the row's values of the term's coefficients."""

    term: RandomTerm
    codes: np.ndarray  # (n,) level index
    n_levels: int
    values: np.ndarray  # (n, size): 1 for the intercept, the slope variables' values
    level_names: tuple = ()  # name of each level (grouping columns' values joined by ':')


@dataclass(frozen=True)
class Design:
    y: np.ndarray
    X: np.ndarray
    random: list[RandomBlock]
    column_names: tuple[str, ...]
    term_columns: dict[str, list[int]]
    term_codings: dict[str, tuple]  # per term, per variable: the coding matrix used (None: numeric)
    variables: dict[str, Variable]
    n_dropped: int
    group_sizes: dict[str, int]
    factor_codes: dict[str, np.ndarray]  # level index of each row, per factor
    numeric_values: dict[str, np.ndarray]  # per numeric variable of the fixed part
    dropped_columns: tuple[str, ...] = ()  # aliased fixed-effect columns removed (lme4's rule)


def coding(name: str, levels: tuple) -> tuple[np.ndarray, tuple[str, ...]]:
    """The project's contrasts: 2 levels -0.5/+0.5 (reference first), more levels contr.sum."""
    k = len(levels)
    if k == 2:
        return np.array([[-0.5], [0.5]]), (f"{name}[{levels[1]}-{levels[0]}]",)
    matrix = np.vstack([np.eye(k - 1), -np.ones((1, k - 1))])  # R's contr.sum
    return matrix, tuple(f"{name}[{level}]" for level in levels[:-1])


def is_factor(series: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def as_float(series: pd.Series, source: str, column: str) -> np.ndarray:
    """Numeric column as floats with NaN for missing; raise on anything that is not a number."""
    if is_factor(series):
        for label, value in series.items():
            if pd.isna(value):
                continue
            if isinstance(value, (bool, np.bool_)) or not isinstance(
                value, (int, float, np.number)
            ):
                raise LmmInputError(source, f"row {label}", column, "a number", value)
        series = series.astype("float64")
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    bad = np.isinf(values)
    if bad.any():
        raise LmmInputError(
            source, f"row {series.index[np.argmax(bad)]}", column, "a finite number", values[bad][0]
        )
    return values


def factor_levels(series: pd.Series, given, source: str, column: str) -> tuple:
    """Levels in use: given order, else categorical order, else sorted."""
    present = pd.unique(series.dropna())
    if given is not None:
        given = list(given)
        if len(set(given)) != len(given):
            raise LmmInputError(source, "levels", column, "distinct levels", given)
        outside = ~series.dropna().isin(given)
        if outside.any():
            label = outside.index[np.argmax(outside.to_numpy())]
            raise LmmInputError(
                source, f"row {label}", column, f"one of the levels {given}", series[label]
            )
        levels = [level for level in given if level in set(present)]
    elif isinstance(series.dtype, pd.CategoricalDtype):
        levels = [level for level in series.cat.categories if level in set(present)]
    else:
        try:
            levels = sorted(present)
        except TypeError:
            raise LmmInputError(
                source, None, column, "values of one type", sorted(map(repr, present))
            ) from None
    if len(levels) < 2:
        raise LmmInputError(source, None, column, "at least 2 levels in the rows used", levels)
    return tuple(levels)


def term_label(term: tuple[str, ...]) -> str:
    return ":".join(term)


def _term_coding(term: tuple[str, ...], present: set, variables: dict[str, Variable]) -> tuple:
    """R's rule (terms.formula): a factor of a term is coded by contrasts if the term without it
    is in the model (the intercept is the empty term), else by indicators of all its levels."""
    codings = []
    for name in term:
        var = variables[name]
        if var.levels is None:
            codings.append(None)
        elif tuple(v for v in term if v != name) in present:
            codings.append(var.coding)
        else:
            codings.append(np.eye(len(var.levels)))
    return tuple(codings)


def _column_names(name: str, var: Variable, matrix: np.ndarray | None) -> tuple[str, ...]:
    if var.levels is None:
        return (name,)
    if matrix is var.coding:
        return var.column_names
    return tuple(f"{name}[{level}]" for level in var.levels)


# lme4 (chkRank.drop.cols) and lmerTest (ensure_full_rank) call R's qr(X, tol = 1e-7, LAPACK =
# FALSE): a column whose norm, once the columns kept before it are projected out, is below 1e-7 of
# its own norm is aliased and pivoted to the end.
RANK_TOL = 1e-7
# What a rank-deficient fixed-effect design gets: lme4's default ("message+drop.cols") drops the
# aliased columns; "stop" refuses it (lme4's check.rankX = "stop.deficient").
RANK_DEFICIENT = ("drop", "stop")


def rank_message(dropped: tuple[str, ...]) -> str:
    """lme4's message for dropped columns (chkRank.drop.cols), with their names."""
    k = len(dropped)
    what = "column / coefficient" if k == 1 else "columns / coefficients"
    return f"fixed-effect model matrix is rank deficient so dropping {k} {what}: " + ", ".join(
        dropped
    )


def independent_columns(X: np.ndarray, tol: float = RANK_TOL) -> np.ndarray:
    """Indices of the columns R's ``qr(X, tol, LAPACK = FALSE)`` keeps, in their order.

    That QR (LINPACK's dqrdc2) pivots only to move an aliased column to the end: columns are taken
    in order, and one whose residual after projecting out the kept ones has a norm below
    ``tol`` x its own norm is dropped. Gram-Schmidt with one reorthogonalisation gives the same
    residual norms.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.column_stack([np.ones(4), [0, 1, 0, 1], [1, 0, 1, 0], [1, 2, 3, 4]])
    >>> independent_columns(X).tolist()  # column 2 = column 0 - column 1
    [0, 1, 3]
    """
    n, p = X.shape
    Q = np.empty((n, p))
    keep: list[int] = []
    for j in range(p):
        x = X[:, j]
        norm = float(np.linalg.norm(x))
        r = x.copy()
        for _ in range(2):  # classical Gram-Schmidt twice is as accurate as Householder here
            basis = Q[:, : len(keep)]
            r -= basis @ (basis.T @ r)
        residual = float(np.linalg.norm(r))
        if norm == 0.0 or residual < tol * norm:
            continue
        Q[:, len(keep)] = r / residual
        keep.append(j)
    return np.array(keep, dtype=int)


def build_design(
    data: pd.DataFrame,
    formula: Formula,
    levels: dict | None,
    source: str,
    rank_deficient: str = "drop",
) -> Design:
    """Model matrices of `formula` on the complete rows of `data`.

    rank_deficient: "drop" removes the aliased fixed-effect columns as lme4 does (they are listed
    in ``Design.dropped_columns``); "stop" refuses such a design, naming the first aliased column.
    """
    if rank_deficient not in RANK_DEFICIENT:
        raise LmmInputError(
            source, "fit", "rank_deficient", f"one of {list(RANK_DEFICIENT)}", rank_deficient
        )
    if not isinstance(data, pd.DataFrame):
        raise LmmInputError(source, None, None, "a pandas DataFrame", type(data).__name__)
    levels = dict(levels or {})
    y_all, numeric, missing = _model_frame(data, formula, levels, source)
    keep = ~missing
    frame = data.loc[keep]
    n = int(keep.sum())
    variables, codes = _fixed_variables(formula, frame, numeric, keep, levels, source)

    present = {(), *formula.terms}
    term_codings = {
        term_label(term): _term_coding(term, present, variables) for term in formula.terms
    }
    p = 1 + sum(
        int(np.prod([1 if m is None else m.shape[1] for m in c])) for c in term_codings.values()
    )
    # X, Z and the data copies dominate before the fit: refuse before allocating them
    q_per_row = sum(term.size for term in formula.random)
    check_memory(8.0 * n * (2 * p + 3 * q_per_row + 8), "the model matrices", source)

    X, column_names, term_columns = _model_matrix(
        formula, term_codings, variables, numeric, keep, codes, n, p
    )
    if n <= p:
        raise LmmInputError(
            source,
            None,
            formula.outcome,
            f"more complete rows than the {p} fixed-effect columns",
            n,
        )
    X, column_names, term_columns, dropped_columns = _drop_aliased_columns(
        X, column_names, term_columns, rank_deficient, source
    )
    random, group_sizes = _random_effect_terms(formula, frame, numeric, keep, variables, source)
    numeric_values = {name: numeric[name][keep] for name in formula.variables if name in numeric}
    return Design(
        y_all[keep],
        X,
        random,
        tuple(column_names),
        term_columns,
        term_codings,
        variables,
        int(missing.sum()),
        group_sizes,
        codes,
        numeric_values,
        dropped_columns,
    )


def _model_frame(
    data: pd.DataFrame, formula: Formula, levels: dict, source: str
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """(response, numeric variables, missing rows): lme4's model.frame with na.action = na.omit,
    after checking that every variable of the formula and of `levels` is there."""
    group_columns = sorted({name for group in formula.groups for name in group})
    needed = [formula.outcome, *formula.variables]
    needed += [c for c in [*group_columns, *formula.slope_variables] if c not in needed]
    for column in needed:
        if column not in data.columns:
            raise LmmInputError(
                source,
                None,
                column,
                "a column named in the formula",
                sorted(map(str, data.columns)),
            )
    for column in levels:
        if column not in formula.variables:
            raise LmmInputError(
                source, "levels", column, "a fixed-effect variable of the formula", sorted(levels)
            )
    y_all = as_float(data[formula.outcome], source, formula.outcome)
    numeric: dict[str, np.ndarray] = {}
    for name in [*formula.variables, *formula.slope_variables]:
        if name not in levels and not is_factor(data[name]):
            numeric[name] = as_float(data[name], source, name)
    missing = np.isnan(y_all)
    for name in needed[1:]:
        missing |= np.isnan(numeric[name]) if name in numeric else data[name].isna().to_numpy()
    return y_all, numeric, missing


def _fixed_variables(
    formula: Formula, frame: pd.DataFrame, numeric: dict, keep, levels: dict, source: str
) -> tuple[dict[str, Variable], dict[str, np.ndarray]]:
    """Each fixed-effect variable (a factor's levels and contrasts, a numeric one's mean) and
    the level index of each row of every factor."""
    n = int(keep.sum())
    variables: dict[str, Variable] = {}
    codes: dict[str, np.ndarray] = {}
    for name in formula.variables:
        if name in numeric:
            values = numeric[name][keep]
            variables[name] = Variable(
                name, None, None, (name,), float(values.mean()) if n else np.nan
            )
        else:
            lv = factor_levels(frame[name], levels.get(name), source, name)
            matrix, names = coding(name, lv)
            codes[name] = pd.Categorical(frame[name], categories=list(lv)).codes
            variables[name] = Variable(name, lv, matrix, names)
    return variables, codes


def _model_matrix(
    formula: Formula,
    term_codings: dict,
    variables: dict[str, Variable],
    numeric: dict,
    keep,
    codes: dict,
    n: int,
    p: int,
) -> tuple[np.ndarray, list[str], dict[str, list[int]]]:
    """(X, column names, columns of each term) as R's model.matrix builds them."""
    X = np.empty((n, p))
    X[:, 0] = 1.0
    column_names = ["(Intercept)"]
    term_columns: dict[str, list[int]] = {}
    start = 1
    for term in formula.terms:
        label = term_label(term)
        block = np.ones((n, 1))
        names = [""]
        for name, matrix in zip(term, term_codings[label]):
            var = variables[name]
            other = numeric[name][keep][:, None] if matrix is None else matrix[codes[name]]
            # first variable varies fastest within an interaction, as in R's model.matrix
            block = np.einsum("ni,nj->nji", block, other).reshape(n, -1)
            part = _column_names(name, var, matrix)
            names = [f"{a}:{b}" if a else b for b in part for a in names]
        width = block.shape[1]
        X[:, start : start + width] = block
        term_columns[label] = list(range(start, start + width))
        column_names.extend(names)
        start += width
    return X, column_names, term_columns


def _drop_aliased_columns(
    X: np.ndarray,
    column_names: list[str],
    term_columns: dict[str, list[int]],
    rank_deficient: str,
    source: str,
) -> tuple[np.ndarray, list[str], dict[str, list[int]], tuple[str, ...]]:
    """lme4's chkRank.drop.cols: X without its aliased columns and the names of those, or
    (rank_deficient "stop") an error naming the first."""
    p = X.shape[1]
    kept = independent_columns(X)
    if kept.size == p:
        return X, column_names, term_columns, ()
    first = int(np.setdiff1d(np.arange(p), kept)[0])
    if rank_deficient == "stop":
        raise LmmInputError(
            source,
            None,
            column_names[first],
            "a full-rank fixed-effect design (every cell of each interaction observed)",
            f"column {first + 1} of {p} is a combination of the ones before it",
        )
    # lme4 keeps the first `rank` pivots and fits the model without the others
    position = {int(c): k for k, c in enumerate(kept)}
    dropped_columns = tuple(column_names[c] for c in range(p) if c not in position)
    term_columns = {
        label: [position[c] for c in cols if c in position] for label, cols in term_columns.items()
    }
    return X[:, kept], [column_names[c] for c in kept], term_columns, dropped_columns


def _random_effect_terms(
    formula: Formula, frame: pd.DataFrame, numeric: dict, keep, variables: dict, source: str
) -> tuple[list[RandomBlock], dict[str, int]]:
    """lme4's mkReTrms: per random term the grouping factor's level of each row (levels sorted),
    the term's columns and the level names; and the number of levels per grouping."""
    n = int(keep.sum())
    random: list[RandomBlock] = []
    group_sizes: dict[str, int] = {}
    for term in formula.random:
        term, slope_values = _random_columns(term, frame, numeric, keep, variables, source)
        level_codes = frame.groupby(list(term.group), sort=True, observed=True).ngroup().to_numpy()
        n_levels = int(level_codes.max()) + 1 if n else 0
        label = term.label
        if n_levels < 2 or n_levels * term.size >= n:
            raise LmmInputError(
                source,
                f"random term {term.text}",
                label,
                "at least 2 groups and fewer random effects than observations",
                f"{n_levels} groups x {term.size} coefficients, {n} rows",
            )
        values = np.ones((n, term.size))
        for r, column in enumerate(slope_values, start=int(term.intercept)):
            values[:, r] = column
        first = np.zeros(n_levels, dtype=np.int64)
        first[level_codes[::-1]] = np.arange(n)[::-1]  # first row of each level
        names = tuple(
            ":".join(str(v) for v in row)
            for row in frame[list(term.group)].iloc[first].itertuples(index=False)
        )
        random.append(RandomBlock(term, level_codes.astype(np.int64), n_levels, values, names))
        group_sizes[label] = n_levels
    return random, group_sizes


def _random_columns(
    term: RandomTerm, frame: pd.DataFrame, numeric: dict, keep, variables: dict, source: str
) -> tuple[RandomTerm, list[np.ndarray]]:
    """The term's slope columns as lme4's model.matrix makes them: a numeric variable as it is;
    a factor (a factor random slope) as indicator columns named `<name><level>`, of every level
    but the first when the term has an intercept (R's default contr.treatment), else of every
    level. The covariance of the term is unstructured, so its fit does not depend on this
    choice of columns; only the names and values of its variances do. Returns the term with its
    coefficients so expanded, and the columns."""
    names, columns = [], []
    for name in term.slopes:
        if name in numeric:
            names.append(name)
            columns.append(numeric[name][keep])
            continue
        if name in variables and variables[name].levels is not None:
            lv = variables[name].levels
        else:
            lv = factor_levels(frame[name], None, source, name)
        codes = pd.Categorical(frame[name], categories=list(lv)).codes
        for k, level in enumerate(lv):
            if term.intercept and k == 0:
                continue
            names.append(f"{name}{level}")
            columns.append((codes == k).astype(float))
    if len(set(names)) != len(names) or (term.intercept and "(Intercept)" in names):
        raise LmmInputError(
            source, f"random term {term.text}", None, "distinct coefficient names", names
        )
    expanded = RandomTerm(term.group, term.intercept, tuple(names), term.text)
    return expanded, columns


def sparse_z(random: list[RandomBlock], n: int) -> sp.csc_matrix:
    """Z in lme4's column order: terms as given, within a term level-major, coefficients minor."""
    rows, cols, vals = [], [], []
    offset = 0
    for block in random:
        s = block.values.shape[1]
        for r in range(s):
            rows.append(np.arange(n))
            cols.append(offset + block.codes * s + r)
            vals.append(block.values[:, r])
        offset += block.n_levels * s
    return sp.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, offset)
    )
