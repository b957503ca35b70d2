"""Linear mixed models with random intercepts, fitted by REML, with Satterthwaite (or
Kenward-Roger) F tests.

Model: y = X beta + sum_k Z_k u_k + e, u_k ~ N(0, s2_k I), e ~ N(0, s2_e I), so that
V = sum_k s2_k Z_k Z_k' + s2_e I. This covers the paper's models, e.g.
``ratio ~ condition * block + (1 | participant_id)`` and the same with an added
``(1 | participant_id:condition)`` term.

Why not statsmodels MixedLM: it reports z tests only (no Satterthwaite df) and can return a
collapsed random-intercept variance while saying it converged. The numbers here follow R's
lme4/lmerTest/pbkrtest (Bates et al. 2015, J Stat Softw 67(1); Kuznetsova et al. 2017, J Stat
Softw 82(13); Halekoh & Hojsgaard 2014, J Stat Softw 59(9)) and are checked against them in
tests/test_lmm.py with values stored from R (tests/fixtures/stats).

- REML is optimised over psi_k = s2_k / s2_e >= 0 with s2_e profiled out (lme4's criterion;
  theta_k = sqrt(psi_k) is lme4's relative standard deviation). On this scale the gradient does
  not vanish at psi_k = 0, so a variance on the boundary is reached exactly and reported as a
  singular fit.
- Satterthwaite df as lmerTest computes them: the covariance of the variance parameters
  (theta_1..theta_K, sigma) is 2 x the inverse of the Hessian of the REML deviance, and the
  gradient of cov(beta) is taken in the same parameters. Both are analytic here (lmerTest uses
  numerical derivatives). Away from the boundary the result does not depend on the
  parametrisation; on the boundary (theta_k = 0) this one drops the collapsed component, as
  lmerTest does.
- Multi-df F tests use lmerTest's eigen-decomposition of L cov(beta) L' (Fai & Cornelius 1996).
- Kenward-Roger (Kenward & Roger 1997) as pbkrtest: adjusted covariance of beta from the
  expected REML information, scaled F and its df.
- Coding: a 2-level factor is -0.5 (reference) / +0.5, so its coefficient is the difference
  (other level - reference); factors with more levels use sum-to-zero coding (R's contr.sum).
  With this coding the type III F test of a term is the joint test of that term's columns,
  which equals lmerTest's type III anova (and R with contr.sum). Numeric variables enter as
  they are, so a factor's effect in an interaction with one is the effect where that variable
  is 0 (lmerTest does the same): centre it first to test at its mean.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, optimize, special

from ..common.errors import InputError

try:  # installed with scikit-learn, which pingouin requires; only a matter of speed
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None

__all__ = ["ANOVA_COLUMNS", "DDF_METHODS", "FIXED_COLUMNS", "LmmResult", "fit_lmm", "parse_formula"]

# lme4::isSingular default: a relative sd theta below 1e-4 counts as zero.
SINGULAR_THETA = 1e-4
# lmerTest: eigenvalues of the deviance Hessian below this are treated as zero.
HESSIAN_TOL = 1e-8
# Upper bound of psi = s2_k / s2_e; reaching it means the residual variance has collapsed.
PSI_MAX = 1e10
_NAME = r"[A-Za-z_.][A-Za-z0-9_.]*"


# ---------------------------------------------------------------------------------------------
# Formula


@dataclass(frozen=True)
class Formula:
    """A parsed model formula: outcome, fixed terms (tuples of variables) and random intercepts."""

    text: str
    outcome: str
    terms: tuple[tuple[str, ...], ...]  # fixed terms, R's order: by degree, then appearance
    groups: tuple[tuple[str, ...], ...]  # one tuple of columns per random intercept

    @property
    def variables(self) -> list[str]:
        seen: list[str] = []
        for name in itertools.chain(*self.terms):
            if name not in seen:
                seen.append(name)
        return seen


def _split_top(text: str, sep: str) -> list[str]:
    """Split at `sep` outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [part.strip() for part in parts]


def parse_formula(formula: str, source: str = "formula") -> Formula:
    """Parse ``outcome ~ a * b + c:d + (1 | g) + (1 | g:h)``.

    Supported: ``+``, ``*`` (main effects and all interactions), ``:`` (interaction only), an
    optional ``1`` (the intercept is always in the model), random intercepts ``(1 | g)`` whose
    grouping may be an interaction of columns.
    """
    where = f"formula {formula!r}"

    def fail(expected, got):
        raise InputError(source, where, None, expected, got)

    if not isinstance(formula, str) or formula.count("~") != 1:
        fail("one '~' between the outcome and the model terms", formula)
    lhs, rhs = (part.strip() for part in formula.split("~"))
    if not re.fullmatch(_NAME, lhs):
        fail("a column name left of '~'", lhs)
    if rhs.count("(") != rhs.count(")"):
        fail("balanced parentheses", rhs)
    fixed: list[tuple[str, ...]] = []
    groups: list[tuple[str, ...]] = []
    order: list[str] = []  # variables in order of first appearance (R orders interactions so)
    for piece in _split_top(rhs, "+"):
        if not piece:
            fail("a term between each '+'", rhs)
        if piece.startswith("("):
            inner = re.fullmatch(r"\(\s*1\s*\|\s*(.+?)\s*\)", piece)
            if not inner:
                fail("random intercepts written (1 | group)", piece)
            names = [name.strip() for name in inner.group(1).split(":")]
            if not all(re.fullmatch(_NAME, name) for name in names):
                fail("column names joined by ':' as the grouping of a random intercept", piece)
            group = tuple(names)
            if group in groups:
                fail("each random intercept once", piece)
            groups.append(group)
            continue
        if piece == "1":
            continue
        if piece in ("0", "-1") or "-" in piece:
            fail("a model with an intercept and no '-' terms", piece)
        if "*" in piece and ":" in piece:
            fail("either '*' or ':' within one term (write the terms out)", piece)
        names = [name.strip() for name in re.split(r"[*:]", piece)]
        if not all(re.fullmatch(_NAME, name) for name in names) or len(set(names)) != len(names):
            fail("distinct column names joined by '*' or ':'", piece)
        for name in names:
            if name not in order:
                order.append(name)
        if "*" in piece:
            for size in range(1, len(names) + 1):
                fixed.extend(itertools.combinations(names, size))
        else:
            fixed.append(tuple(names))
    if lhs in order or any(lhs in group for group in groups):
        fail("the outcome only left of '~'", lhs)
    unique: list[tuple[str, ...]] = []
    for term in fixed:
        term = tuple(sorted(term, key=order.index))
        if term not in unique:
            unique.append(term)
    unique.sort(key=len)  # stable: R puts main effects first, then 2-way, ...
    if not groups:
        fail("at least one random intercept (1 | group)", rhs)
    return Formula(formula, lhs, tuple(unique), tuple(groups))


# ---------------------------------------------------------------------------------------------
# Design


@dataclass(frozen=True)
class _Variable:
    name: str
    levels: tuple | None  # None for a numeric variable
    coding: np.ndarray | None  # k x (k-1) coding matrix of a factor
    column_names: tuple[str, ...]
    mean: float = float("nan")  # of a numeric variable in the fitted rows


def _coding(name: str, levels: tuple) -> tuple[np.ndarray, tuple[str, ...]]:
    k = len(levels)
    if k == 2:
        return np.array([[-0.5], [0.5]]), (f"{name}[{levels[1]}-{levels[0]}]",)
    coding = np.vstack([np.eye(k - 1), -np.ones((1, k - 1))])  # R's contr.sum
    return coding, tuple(f"{name}[{level}]" for level in levels[:-1])


def _is_factor(series: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def _as_float(series: pd.Series, source: str, column: str) -> np.ndarray:
    """Numeric column as floats with NaN for missing; raise on anything that is not a number."""
    if _is_factor(series):
        for label, value in series.items():
            if pd.isna(value):
                continue
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
                raise InputError(source, f"row {label}", column, "a number", value)
        series = series.astype("float64")
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    bad = np.isinf(values)
    if bad.any():
        raise InputError(source, f"row {series.index[np.argmax(bad)]}", column, "a finite number", values[bad][0])
    return values


def _factor_levels(series: pd.Series, given, source: str, column: str) -> tuple:
    """Levels in use: given order, else categorical order, else sorted."""
    present = pd.unique(series.dropna())
    if given is not None:
        given = list(given)
        if len(set(given)) != len(given):
            raise InputError(source, "levels", column, "distinct levels", given)
        for label, value in series.dropna().items():
            if value not in given:
                raise InputError(source, f"row {label}", column, f"one of the levels {given}", value)
        levels = [level for level in given if level in set(present)]
    elif isinstance(series.dtype, pd.CategoricalDtype):
        levels = [level for level in series.cat.categories if level in set(present)]
    else:
        try:
            levels = sorted(present)
        except TypeError:
            raise InputError(source, None, column, "values of one type", sorted(map(repr, present))) from None
    if len(levels) < 2:
        raise InputError(source, None, column, "at least 2 levels in the rows used", levels)
    return tuple(levels)


@dataclass(frozen=True)
class _Design:
    y: np.ndarray
    X: np.ndarray
    Z: list[np.ndarray]  # one n x q_k indicator matrix per random intercept
    column_names: tuple[str, ...]
    term_columns: dict[str, list[int]]
    variables: dict[str, _Variable]
    n_dropped: int
    group_sizes: dict[str, int]


def _term_label(term: tuple[str, ...]) -> str:
    return ":".join(term)


def _build_design(data: pd.DataFrame, formula: Formula, levels: dict | None, source: str) -> _Design:
    if not isinstance(data, pd.DataFrame):
        raise InputError(source, None, None, "a pandas DataFrame", type(data).__name__)
    levels = dict(levels or {})
    group_columns = sorted({name for group in formula.groups for name in group})
    needed = [formula.outcome, *formula.variables, *[c for c in group_columns if c not in formula.variables]]
    for column in needed:
        if column not in data.columns:
            raise InputError(source, None, column, "a column named in the formula", sorted(map(str, data.columns)))
    for column in levels:
        if column not in formula.variables:
            raise InputError(source, "levels", column, "a fixed-effect variable of the formula", sorted(levels))

    y_all = _as_float(data[formula.outcome], source, formula.outcome)
    numeric: dict[str, np.ndarray] = {}
    for name in formula.variables:
        if name not in levels and not _is_factor(data[name]):
            numeric[name] = _as_float(data[name], source, name)
    missing = np.isnan(y_all)
    for name in needed[1:]:
        missing |= np.isnan(numeric[name]) if name in numeric else data[name].isna().to_numpy()
    keep = ~missing
    frame = data.loc[keep]
    n = int(keep.sum())

    variables: dict[str, _Variable] = {}
    coded: dict[str, np.ndarray] = {}
    for name in formula.variables:
        if name in numeric:
            values = numeric[name][keep]
            variables[name] = _Variable(name, None, None, (name,), float(values.mean()) if n else np.nan)
            coded[name] = values[:, None]
        else:
            lv = _factor_levels(frame[name], levels.get(name), source, name)
            coding, names = _coding(name, lv)
            codes = pd.Categorical(frame[name], categories=list(lv)).codes
            variables[name] = _Variable(name, lv, coding, names)
            coded[name] = coding[codes]

    columns = [np.ones(n)]
    column_names = ["(Intercept)"]
    term_columns: dict[str, list[int]] = {}
    for term in formula.terms:
        block = coded[term[0]]
        names = list(variables[term[0]].column_names)
        for name in term[1:]:
            # first variable varies fastest within an interaction, as in R's model.matrix
            other = coded[name]
            block = np.einsum("ni,nj->nji", block, other).reshape(n, -1)
            names = [f"{a}:{b}" for b in variables[name].column_names for a in names]
        start = len(column_names)
        term_columns[_term_label(term)] = list(range(start, start + block.shape[1]))
        columns.extend(block.T)
        column_names.extend(names)
    X = np.column_stack(columns)
    p = X.shape[1]
    if n <= p:
        raise InputError(source, None, formula.outcome, f"more complete rows than the {p} fixed-effect columns", n)
    rank = np.linalg.matrix_rank(X)
    if rank < p:
        # name the first column that is a combination of the ones before it
        for j in range(1, p + 1):
            if np.linalg.matrix_rank(X[:, :j]) < j:
                raise InputError(source, None, column_names[j - 1],
                                 "a full-rank fixed-effect design (every cell of each interaction observed)",
                                 f"rank {rank} < {p} columns")

    Z: list[np.ndarray] = []
    group_sizes: dict[str, int] = {}
    for group in formula.groups:
        codes = frame.groupby(list(group), sort=True, observed=True).ngroup().to_numpy()
        n_levels = int(codes.max()) + 1
        label = _term_label(group)
        if n_levels < 2 or n_levels >= n:
            raise InputError(source, None, label,
                             "between 2 and n_observations - 1 groups for a random intercept",
                             f"{n_levels} groups, {n} rows")
        Zk = np.zeros((n, n_levels))
        Zk[np.arange(n), codes] = 1.0
        Z.append(Zk)
        group_sizes[label] = n_levels
    return _Design(y_all[keep], X, Z, tuple(column_names), term_columns, variables, int(missing.sum()), group_sizes)


# ---------------------------------------------------------------------------------------------
# REML


class _Reml:
    """Profiled REML deviance of psi = (s2_k / s2_e), computed in the space of the random effects.

    With Lambda = diag(sqrt(psi)) per random effect, H = I + Z Lambda Lambda Z' and
    M = Lambda Z'Z Lambda + I: log|H| = log|M| and H^-1 = I - Z Lambda M^-1 Lambda Z', so every
    evaluation costs O(q^3) with q the number of random effects, not O(n^3).
    """

    def __init__(self, y: np.ndarray, X: np.ndarray, Z: list[np.ndarray]):
        self.n, self.p = X.shape
        self.Zall = np.hstack(Z)
        self.component = np.concatenate([np.full(Zk.shape[1], k) for k, Zk in enumerate(Z)])
        self.ZtZ = self.Zall.T @ self.Zall
        self.ZtX = self.Zall.T @ X
        self.Zty = self.Zall.T @ y
        self.XtX = X.T @ X
        self.Xty = X.T @ y
        self.yty = float(y @ y)

    def evaluate(self, psi: np.ndarray, gradient: bool = True):
        n, p = self.n, self.p
        lam = np.sqrt(np.maximum(psi, 0.0))[self.component]
        M = lam[:, None] * self.ZtZ * lam[None, :]
        M[np.diag_indices_from(M)] += 1.0
        cM = linalg.cho_factor(M, lower=True)
        logdet_M = 2.0 * np.log(np.diag(cM[0])).sum()
        A = lam[:, None] * self.ZtX
        b = lam * self.Zty
        MiA = linalg.cho_solve(cM, A)
        Mib = linalg.cho_solve(cM, b)
        XtHX = self.XtX - A.T @ MiA
        XtHy = self.Xty - A.T @ Mib
        ytHy = self.yty - b @ Mib
        cX = linalg.cho_factor(XtHX, lower=True)
        beta = linalg.cho_solve(cX, XtHy)
        r2 = float(ytHy - XtHy @ beta)
        if not r2 > 0:
            raise FloatingPointError("residual sum of squares is not positive")
        logdet_X = 2.0 * np.log(np.diag(cX[0])).sum()
        dof = n - p
        deviance = logdet_M + logdet_X + dof * (1.0 + np.log(2.0 * np.pi * r2 / dof))
        if not gradient:
            return deviance, beta, r2
        # d/dpsi_k = tr(P_H G_k) - (n-p)/r2 * |Z_k' P_H y|^2, with G_k = Z_k Z_k'
        ZtZ = self.ZtZ
        W = lam[:, None] * linalg.cho_solve(cM, lam[:, None] * ZtZ)  # Lambda M^-1 Lambda Z'Z
        ZtHZ = ZtZ - ZtZ @ W
        ZtHX = self.ZtX - W.T @ self.ZtX
        ZtPZ_diag = np.diag(ZtHZ) - np.einsum("ij,ij->i", ZtHX, linalg.cho_solve(cX, ZtHX.T).T)
        Zte = self.Zty - self.ZtX @ beta
        ZtHe = Zte - W.T @ Zte
        K = int(self.component.max()) + 1
        grad = np.array([
            ZtPZ_diag[self.component == k].sum() - dof / r2 * (ZtHe[self.component == k] ** 2).sum()
            for k in range(K)
        ])
        return deviance, grad, beta, r2


def _optimise(reml: _Reml, K: int) -> tuple[np.ndarray, float, bool, str]:
    """Minimise the profiled REML deviance over psi >= 0 from a few starts; keep the best."""

    def fun(psi):
        try:
            dev, grad, _, _ = reml.evaluate(psi)
        except (np.linalg.LinAlgError, FloatingPointError):
            return 1e300, np.zeros(K)  # numerically impossible point: the line search backs off
        return dev, grad

    best = None
    for start in (1.0, 0.1, 10.0):  # lme4 starts at theta = 1; two more guard against local optima
        res = optimize.minimize(fun, np.full(K, start), jac=True, method="L-BFGS-B",
                                bounds=[(0.0, PSI_MAX)] * K,
                                options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 1000})
        if best is None or res.fun < best.fun - 1e-10:
            best = res
    psi = np.asarray(best.x, dtype=float)
    # settle numerically zero variances exactly on the boundary if the deviance agrees
    for k in range(K):
        if 0.0 < psi[k] < SINGULAR_THETA**2:
            trial = psi.copy()
            trial[k] = 0.0
            if reml.evaluate(trial, gradient=False)[0] <= best.fun + 1e-10:
                psi = trial
    dev, grad, _, _ = reml.evaluate(psi)
    # projected gradient: interior components must be flat, boundary ones must point inwards
    scale = np.maximum(psi, 1.0)
    projected = np.where(psi > 0, np.abs(grad) * scale, np.maximum(-grad, 0.0))
    # L-BFGS-B often stops with 'ABNORMAL' (line search at machine precision) at the optimum:
    # judge convergence by the projected gradient, and keep the optimiser's message.
    converged = bool(np.all(projected < 1e-4)) and best.nit < 1000 and bool(np.all(psi < PSI_MAX))
    message = f"L-BFGS-B: {best.message}; max projected gradient {projected.max():.1e}"
    if np.any(psi >= PSI_MAX):
        message += "; a variance ratio reached its upper bound (residual variance near 0?)"
    return psi, float(dev), converged, message


# ---------------------------------------------------------------------------------------------
# Satterthwaite


def _ddf_multi(nu: np.ndarray, tol: float = 1e-8) -> float:
    """Denominator df of a multi-df F test from the df of its orthogonal contrasts (lmerTest)."""
    if nu.size == 1:
        return float(nu[0])
    if np.all(np.abs(np.diff(nu)) < tol):
        return float(nu.mean())
    if np.any(nu <= 2):
        return 2.0
    E = float(np.sum(nu / (nu - 2.0)))
    return 2.0 * E / (E - nu.size)


DDF_METHODS = ("Satterthwaite", "Kenward-Roger")
FIXED_COLUMNS = ["term", "column", "estimate", "se", "df", "t", "p"]
ANOVA_COLUMNS = ["term", "estimate", "se", "F", "df_num", "df_den", "p"]


# scipy.special rather than scipy.stats: the same functions, and a much cheaper import for the
# many short-lived workflow jobs.
def _t_two_sided(t: float, df: float) -> float:
    """Two-sided p of Student's t (df may be inf)."""
    return float(2.0 * special.stdtr(df, -abs(t)))


def _f_upper(F: float, df_num: float, df_den: float) -> float:
    """Upper-tail p of the F distribution."""
    return float(special.fdtrc(df_num, df_den, F))


@dataclass(frozen=True)
class LmmResult:
    """A fitted model: tables, fit diagnostics and what contrasts need (beta, covariances).

    The tables use `ddf_method`; contrast() and f_test() use it too unless told otherwise.
    """

    formula: str
    ddf_method: str
    fixed: pd.DataFrame  # term, column, estimate, se, df, t, p
    anova: pd.DataFrame  # term, estimate, se, F, df_num, df_den, p
    variance_components: pd.DataFrame  # name, variance, sd (Residual last)
    reml_criterion: float  # -2 REML log-likelihood, as lme4's REMLcrit with this coding
    converged: bool
    singular: bool
    optimizer_message: str
    n_observations: int
    n_groups: dict[str, int]
    n_dropped_missing: int
    levels: dict[str, tuple]  # factor levels in coding order, first = reference
    column_names: tuple[str, ...]
    term_columns: dict[str, list[int]]
    beta: np.ndarray = field(repr=False)
    vcov_beta: np.ndarray = field(repr=False)
    vcov_varpar: np.ndarray = field(repr=False)  # of (theta_1..theta_K, sigma), lmerTest's order
    jacobian: np.ndarray = field(repr=False)  # d vcov_beta / d varpar, shape (n_varpar, p, p)
    vcov_beta_kr: np.ndarray = field(repr=False)  # Kenward-Roger adjusted covariance of beta
    kr_P: np.ndarray = field(repr=False)  # X' d(V^-1)/d(variance_j) X, shape (K + 1, p, p)
    kr_W: np.ndarray = field(repr=False)  # 2 x inverse expected REML information of the variances
    source: str = "<data>"
    _variables: dict = field(default_factory=dict, repr=False)

    # -- contrasts -------------------------------------------------------------------------

    def _method(self, ddf: str | None) -> str:
        ddf = self.ddf_method if ddf is None else ddf
        if ddf not in DDF_METHODS:
            raise InputError(self.source, "contrast", "ddf", f"one of {list(DDF_METHODS)}", ddf)
        return ddf

    def _weights(self, L) -> np.ndarray:
        p = len(self.column_names)
        if isinstance(L, dict):
            unknown = [name for name in L if name not in self.column_names]
            if unknown:
                raise InputError(self.source, "contrast", unknown[0], f"one of the columns {list(self.column_names)}")
            w = np.zeros(p)
            for name, value in L.items():
                w[self.column_names.index(name)] = float(value)
            return w
        w = np.asarray(L, dtype=float)
        if w.ndim != 1 or w.size != p:
            raise InputError(self.source, "contrast", "L", f"a vector of {p} weights (one per fixed-effect column)",
                             f"shape {w.shape}")
        return w

    def _satterthwaite(self, w: np.ndarray) -> tuple[float, float]:
        var = float(w @ self.vcov_beta @ w)
        grad = np.einsum("i,kij,j->k", w, self.jacobian, w)
        denom = float(grad @ self.vcov_varpar @ grad)
        return var, (2.0 * var**2 / denom if denom > 0 else np.inf)

    def _kenward_roger(self, L: np.ndarray) -> tuple[float, float]:
        """(ddf m, F scale lambda) of the hypothesis L beta = 0, L of full row rank q.

        Kenward & Roger 1997 (Biometrics 53:983), eqs. for A1, A2, B, g, c1-c3, E*, V*, rho, m
        and lambda, with V linear in the variances (so R_ij = 0), as pbkrtest computes them.
        """
        Phi = self.vcov_beta
        q = L.shape[0]
        Theta = L.T @ np.linalg.solve(L @ Phi @ L.T, L)
        U = [Theta @ Phi @ Pj @ Phi for Pj in self.kr_P]
        traces = np.array([np.trace(u) for u in U])
        W = self.kr_W
        A1 = float(traces @ W @ traces)
        A2 = float(sum(W[i, j] * np.sum(U[i] * U[j].T) for i in range(len(U)) for j in range(len(U))))
        if not A2 > 0:
            return np.inf, 1.0
        B = (A1 + 6.0 * A2) / (2.0 * q)
        g = ((q + 1) * A1 - (q + 4) * A2) / ((q + 2) * A2)
        denom = 3 * q + 2 * (1 - g)
        c1, c2, c3 = g / denom, (q - g) / denom, (q + 2 - g) / denom
        V0 = 1 + c1 * B
        V0 = 0.0 if abs(V0) < 1e-10 else V0
        V1, V2 = 1 - c2 * B, 1 - c3 * B
        rho = (1.0 / q) * ((1 - A2 / q) / V1) ** 2 * V0 / V2
        m = 4 + (q + 2) / (q * rho - 1)
        scale = 1.0 if abs(m - 2) < 0.01 else m * (1 - A2 / q) / (m - 2)
        return float(m), float(scale)

    def contrast(self, L, rhs: float = 0.0, ddf: str | None = None) -> dict:
        """Estimate of L'beta - rhs with its se, df, t and two-sided p.

        L is a vector with one weight per fixed-effect column or a dict {column name: weight}.
        ddf: 'Satterthwaite' or 'Kenward-Roger' (adjusted se and df, as lmerTest's summary).
        """
        w = self._weights(L)
        estimate = float(w @ self.beta) - rhs
        if self._method(ddf) == "Satterthwaite":
            var, df = self._satterthwaite(w)
        else:
            var, df = float(w @ self.vcov_beta_kr @ w), self._kenward_roger(w[None, :])[0]
        se = float(np.sqrt(var))
        t = estimate / se
        return {"estimate": estimate, "se": se, "df": df, "t": t, "p": _t_two_sided(t, df)}

    def f_test(self, L, ddf: str | None = None) -> dict:
        """Joint F test of the rows of L (q x p) = 0, as lmerTest's anova computes it.

        Satterthwaite: eigen-decomposition of L cov(beta) L' (Fai & Cornelius 1996), rank from
        its eigenvalues. Kenward-Roger: Wald F with the adjusted covariance, scaled by lambda.
        """
        p = len(self.column_names)
        L = np.asarray(L, dtype=float)
        if L.ndim == 1:
            L = L[None, :]
        if L.ndim != 2 or L.shape[1] != p or L.shape[0] == 0:
            raise InputError(self.source, "F test", "L", f"a matrix with {p} columns (one per fixed-effect column)",
                             f"shape {L.shape}")
        if self._method(ddf) == "Kenward-Roger":
            q = int(np.linalg.matrix_rank(L))
            if q < L.shape[0]:
                raise InputError(self.source, "F test", "L", "rows that are linearly independent", f"rank {q}")
            m, scale = self._kenward_roger(L)
            Lb = L @ self.beta
            F = scale * float(Lb @ np.linalg.solve(L @ self.vcov_beta_kr @ L.T, Lb)) / q
            return {"F": F, "df_num": q, "df_den": m, "p": _f_upper(F, q, m)}
        if L.shape[0] == 1:
            res = self.contrast(L[0], ddf="Satterthwaite")
            return {"F": res["t"] ** 2, "df_num": 1, "df_den": res["df"], "p": res["p"]}
        d, P = np.linalg.eigh(L @ self.vcov_beta @ L.T)
        d, P = d[::-1], P[:, ::-1]  # descending, as R's eigen()
        q = int(np.sum(d > max(np.sqrt(np.finfo(float).eps) * d[0], 0.0)))
        PtL = P[:, :q].T @ L
        if q == 1:
            res = self.contrast(PtL[0], ddf="Satterthwaite")
            return {"F": res["t"] ** 2, "df_num": 1, "df_den": res["df"], "p": res["p"]}
        F = float(np.sum((PtL @ self.beta) ** 2 / d[:q]) / q)
        nu = np.array([self._satterthwaite(row)[1] for row in PtL])
        ddf_value = _ddf_multi(nu)
        return {"F": F, "df_num": q, "df_den": ddf_value, "p": _f_upper(F, q, ddf_value)}

    def mean_weights(self, values: dict | None = None) -> np.ndarray:
        """L vector of the model's mean at given factor levels / covariate values.

        Factors left out are averaged with equal weight over their levels; numeric variables
        left out are set to their mean in the fitted rows (as emmeans does). A simple effect is
        a difference of two such vectors, e.g. condition at block 3.
        """
        values = dict(values or {})
        for name in values:
            if name not in self._variables:
                raise InputError(self.source, "contrast", name, f"a variable of the model {sorted(self._variables)}")
        rows: dict[str, np.ndarray] = {}
        for name, var in self._variables.items():
            if var.levels is None:
                rows[name] = np.array([float(values.get(name, var.mean))])
            elif name in values:
                if values[name] not in var.levels:
                    raise InputError(self.source, "contrast", name, f"one of the levels {list(var.levels)}", values[name])
                rows[name] = var.coding[var.levels.index(values[name])]
            else:
                rows[name] = var.coding.mean(axis=0)
        w = np.zeros(len(self.column_names))
        w[0] = 1.0
        for label, cols in self.term_columns.items():
            term = label.split(":")
            row = rows[term[0]]
            for name in term[1:]:
                row = np.outer(rows[name], row).ravel()  # first variable fastest, as the design
            w[cols] = row
        return w


def _type3_basis(term: tuple[str, ...], variables: dict[str, _Variable]) -> np.ndarray:
    """Rows of a term's type III hypothesis in the basis lmerTest uses.

    lmerTest builds type III contrasts from treatment coding (level j - level 1 of each factor)
    and maps them to the model's coding; the F value does not depend on the basis but the
    multi-df Satterthwaite df does slightly, so the same basis is used here.
    """
    block = np.ones((1, 1))
    for name in term:
        var = variables[name]
        if var.levels is None:
            T = np.ones((1, 1))
        else:
            k = len(var.levels)
            D = np.hstack([-np.ones((k - 1, 1)), np.eye(k - 1)])
            T = D @ var.coding
        block = np.kron(T, block)  # first variable fastest
    return block


def fit_lmm(data: pd.DataFrame, formula: str, levels: dict | None = None, source: str = "<data>",
            ddf: str = "Satterthwaite") -> LmmResult:
    """Fit ``formula`` (e.g. ``"ratio ~ condition * block + (1 | participant_id)"``) by REML.

    levels: {column: [reference, other, ...]} fixes a factor's level order; a numeric column
    named here becomes a factor. Columns of dtype object/string/category/bool are factors
    (categorical order, else sorted); numeric columns enter as they are. Rows with a missing
    value in any variable of the model are dropped and counted. `source` names the data in
    error messages. ddf: 'Satterthwaite' (default, lmerTest's default) or 'Kenward-Roger'
    (pbkrtest's method) for the fixed and anova tables.
    """
    if ddf not in DDF_METHODS:
        raise InputError(source, "fit_lmm", "ddf", f"one of {list(DDF_METHODS)}", ddf)
    # The matrices are small: multi-threaded BLAS only adds overhead, and on a busy machine
    # its waiting threads made fits 10-25 times slower.
    if threadpool_limits is None:
        return _fit(data, formula, levels, source, ddf)
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit(data, formula, levels, source, ddf)


def _fit(data, formula, levels, source, ddf) -> LmmResult:
    parsed = parse_formula(formula, source)
    design = _build_design(data, parsed, levels, source)
    y, X, Z = design.y, design.X, design.Z
    n, p = X.shape
    K = len(Z)

    reml = _Reml(y, X, Z)
    psi, deviance, converged, message = _optimise(reml, K)
    _, _, r2 = reml.evaluate(psi, gradient=False)
    s2e = r2 / (n - p)
    phi = np.append(psi * s2e, s2e)  # variances: components, then residual

    # Dense algebra at the optimum only (once). G_j = Z_j Z_j' for the random intercepts and
    # G_e = I for the residual; products are formed through Z_j (n x q_j), never G_j.
    m = K + 1
    V = s2e * np.eye(n)
    for ph, Zk in zip(phi[:K], Z):
        V += ph * (Zk @ Zk.T)
    cV = linalg.cho_factor(V, lower=True)
    Vi = linalg.cho_solve(cV, np.eye(n))
    ViX = Vi @ X
    C = linalg.inv(X.T @ ViX)
    C = (C + C.T) / 2.0
    beta = C @ (ViX.T @ y)
    P = Vi - ViX @ C @ ViX.T  # REML projection
    Py = P @ y
    PZ = [P @ Zk for Zk in Z] + [P]
    ZtPy = [Zk.T @ Py for Zk in Z] + [Py]
    ZtViX = [Zk.T @ ViX for Zk in Z] + [ViX]

    def ZtPZ(i, j):  # Z_i' P Z_j
        return PZ[j] if i == K else Z[i].T @ PZ[j]

    # Derivatives of the REML deviance in the variances phi:
    # grad_i = tr(P G_i) - y'P G_i P y, hess_ij = -tr(P G_i P G_j) + 2 y'P G_i P G_j P y.
    grad_phi = np.array([np.trace(ZtPZ(i, i)) - ZtPy[i] @ ZtPy[i] for i in range(m)])
    trPGPG = np.empty((m, m))
    hess_phi = np.empty((m, m))
    for i in range(m):
        for j in range(i, m):
            block = ZtPZ(i, j)
            trPGPG[i, j] = trPGPG[j, i] = np.sum(block * block)
            hess_phi[i, j] = hess_phi[j, i] = -trPGPG[i, j] + 2.0 * ZtPy[i] @ block @ ZtPy[j]
    # d cov(beta) / d phi_j = C X'V^-1 G_j V^-1 X C
    kr_P = np.array([-(a.T @ a) for a in ZtViX])  # X' d(V^-1)/d phi_j X = -X'V^-1 G_j V^-1 X
    dC_dphi = np.array([-(C @ Pj @ C) for Pj in kr_P])

    # Kenward-Roger (variance parametrisation, V linear in phi): W = 2 (tr(P G_i P G_j))^-1,
    # the inverse expected REML information; Q_ij = X'V^-1 G_i V^-1 G_j V^-1 X; adjusted
    # covariance C + 2 C [sum_ij W_ij (Q_ij - P_i C P_j)] C.
    info_evals = np.linalg.eigvalsh(trPGPG)
    kr_W = 2.0 * (np.linalg.inv(trPGPG) if np.min(np.abs(info_evals)) > 1e-10 else np.linalg.pinv(trPGPG))
    GViX = [Zk @ a for Zk, a in zip(Z, ZtViX)] + [ViX]
    U = np.zeros((p, p))
    for i in range(m):
        ViGViX = Vi @ GViX[i]
        for j in range(m):
            U += kr_W[i, j] * (ViGViX.T @ GViX[j] - kr_P[i] @ C @ kr_P[j])
    vcov_beta_kr = C + 2.0 * C @ U @ C
    vcov_beta_kr = (vcov_beta_kr + vcov_beta_kr.T) / 2.0

    # Change to lmerTest's parameters vp = (theta_1..theta_K, sigma): phi_k = theta_k^2 sigma^2,
    # phi_e = sigma^2. Second derivatives of phi enter the Hessian through the gradient, which
    # is zero at an interior optimum but not for a component on the boundary.
    theta = np.sqrt(psi)
    sigma = np.sqrt(s2e)
    J = np.zeros((m, m))  # J[j, a] = d phi_j / d vp_a
    second = np.zeros((m, m, m))  # second[j] = Hessian of phi_j in vp
    for k in range(K):
        J[k, k] = 2.0 * theta[k] * sigma**2
        J[k, K] = 2.0 * theta[k] ** 2 * sigma
        second[k, k, k] = 2.0 * sigma**2
        second[k, k, K] = second[k, K, k] = 4.0 * theta[k] * sigma
        second[k, K, K] = 2.0 * theta[k] ** 2
    J[K, K] = 2.0 * sigma
    second[K, K, K] = 2.0
    hess_vp = J.T @ hess_phi @ J + np.einsum("j,jab->ab", grad_phi, second)
    hess_vp = (hess_vp + hess_vp.T) / 2.0
    evals, evecs = np.linalg.eigh(hess_vp)
    keep = evals > HESSIAN_TOL
    vcov_varpar = 2.0 * (evecs[:, keep] / evals[keep]) @ evecs[:, keep].T
    if np.any(evals < -HESSIAN_TOL):  # not a minimum (lmerTest warns likewise)
        converged = False
        message += f"; REML deviance Hessian has negative eigenvalue(s) {evals[evals < -HESSIAN_TOL]}"
    jacobian = np.einsum("jpq,ja->apq", dC_dphi, J)

    singular = bool(np.any(theta < SINGULAR_THETA))
    if singular:
        names = [label for label, t in zip(design.group_sizes, theta) if t < SINGULAR_THETA]
        message += f"; singular fit: variance of {', '.join(names)} estimated at the boundary (0)"

    result = LmmResult(
        formula=formula,
        ddf_method=ddf,
        fixed=pd.DataFrame(),
        anova=pd.DataFrame(),
        variance_components=pd.DataFrame({
            "name": [*design.group_sizes, "Residual"],
            "variance": phi,
            "sd": np.sqrt(phi),
        }),
        reml_criterion=float(deviance),
        converged=converged,
        singular=singular,
        optimizer_message=message,
        n_observations=n,
        n_groups=dict(design.group_sizes),
        n_dropped_missing=design.n_dropped,
        levels={name: var.levels for name, var in design.variables.items() if var.levels is not None},
        column_names=design.column_names,
        term_columns=design.term_columns,
        beta=beta,
        vcov_beta=C,
        vcov_varpar=vcov_varpar,
        jacobian=jacobian,
        vcov_beta_kr=vcov_beta_kr,
        kr_P=kr_P,
        kr_W=kr_W,
        source=source,
        _variables=design.variables,
    )

    column_term = {0: "(Intercept)"}
    for label, cols in design.term_columns.items():
        column_term.update({c: label for c in cols})
    fixed_rows = []
    for j, name in enumerate(design.column_names):
        res = result.contrast(np.eye(p)[j])
        fixed_rows.append({"term": column_term[j], "column": name, "estimate": res["estimate"], "se": res["se"],
                           "df": res["df"], "t": res["t"], "p": res["p"]})
    anova_rows = []
    for term in parsed.terms:
        label = _term_label(term)
        cols = design.term_columns[label]
        L = np.zeros((len(cols), p))
        L[:, cols] = _type3_basis(term, design.variables)
        res = result.f_test(L)
        single = result.contrast(L[0]) if len(cols) == 1 else {"estimate": np.nan, "se": np.nan}
        anova_rows.append({"term": label, "estimate": single["estimate"], "se": single["se"],
                           "F": res["F"], "df_num": res["df_num"], "df_den": res["df_den"], "p": res["p"]})
    object.__setattr__(result, "fixed", pd.DataFrame(fixed_rows, columns=FIXED_COLUMNS))
    object.__setattr__(result, "anova", pd.DataFrame(anova_rows, columns=ANOVA_COLUMNS))
    return result
