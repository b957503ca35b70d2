"""Fitted-model object: Satterthwaite (lmerTest) and Kenward-Roger (pbkrtest) tests of contrasts.

- Satterthwaite df as lmerTest computes them: the covariance of the variance parameters
  (theta..., sigma) is 2 x the inverse of the Hessian of the REML deviance, and the gradient of
  cov(beta) is taken in the same parameters. Multi-df F tests use lmerTest's eigen-decomposition
  of L cov(beta) L' (Fai & Cornelius 1996).
- Kenward-Roger (Kenward & Roger 1997) as pbkrtest: adjusted covariance of beta from the expected
  REML information, scaled F and its df; computed on first use only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from .errors import LmmInputError


def ddf_multi(nu: np.ndarray, tol: float = 1e-8) -> float:
    """Denominator df of a multi-df F test from the df of its orthogonal contrasts (lmerTest)."""
    if nu.size == 1:
        return float(nu[0])
    if np.all(np.abs(np.diff(nu)) < tol):
        return float(nu.mean())
    if np.any(nu <= 2):
        return 2.0
    E = float(np.sum(nu / (nu - 2.0)))
    return 2.0 * E / (E - nu.size)


def row_basis(L: np.ndarray) -> np.ndarray:
    """L itself if its rows are independent, else rank(L) rows spanning the same space (a Wald
    or Kenward-Roger F test depends on the space only; lmerTest accepts dependent rows)."""
    u, s, vt = np.linalg.svd(L, full_matrices=False)
    rank = int(np.sum(s > max(L.shape) * np.finfo(float).eps * (s[0] if s.size else 0.0)))
    return L if rank == L.shape[0] else s[:rank, None] * vt[:rank]


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
    converged: bool  # lme4's checks (checks.lme4_convergence): scaled gradient, Hessian
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
    source: str = "<data>"
    _variables: dict = field(default_factory=dict, repr=False)
    _term_codings: dict = field(default_factory=dict, repr=False)
    _kenward_roger_parts: object = field(
        default=None, repr=False
    )  # callable -> (vcov_beta_kr, kr_P, kr_W)
    _cache: dict = field(default_factory=dict, repr=False)
    dropped_columns: tuple[str, ...] = ()  # aliased fixed-effect columns lme4's rule removed

    # -- Kenward-Roger parts, computed on first use -----------------------------------------

    def _kr(self, key: str) -> np.ndarray:
        if "kr" not in self._cache:
            self._cache["kr"] = self._kenward_roger_parts()
        return self._cache["kr"][key]

    @property
    def vcov_beta_kr(self) -> np.ndarray:
        """Kenward-Roger adjusted covariance of beta."""
        return self._kr("vcov_beta_kr")

    @property
    def kr_P(self) -> np.ndarray:
        """X' d(V^-1)/d(phi_a) X for each variance parameter, shape (n_phi, p, p)."""
        return self._kr("kr_P")

    @property
    def kr_W(self) -> np.ndarray:
        """2 x inverse expected REML information of the variance parameters."""
        return self._kr("kr_W")

    # -- contrasts -------------------------------------------------------------------------

    def _method(self, ddf: str | None) -> str:
        ddf = self.ddf_method if ddf is None else ddf
        if ddf not in DDF_METHODS:
            raise LmmInputError(self.source, "contrast", "ddf", f"one of {list(DDF_METHODS)}", ddf)
        return ddf

    def _weights(self, L) -> np.ndarray:
        p = len(self.column_names)
        if isinstance(L, dict):
            unknown = [name for name in L if name not in self.column_names]
            if unknown:
                raise LmmInputError(
                    self.source,
                    "contrast",
                    unknown[0],
                    f"one of the columns {list(self.column_names)}",
                )
            w = np.zeros(p)
            for name, value in L.items():
                w[self.column_names.index(name)] = float(value)
            return w
        w = np.asarray(L, dtype=float)
        if w.ndim != 1 or w.size != p:
            raise LmmInputError(
                self.source,
                "contrast",
                "L",
                f"a vector of {p} weights (one per fixed-effect column)",
                f"shape {w.shape}",
            )
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
        A2 = float(
            sum(W[i, j] * np.sum(U[i] * U[j].T) for i in range(len(U)) for j in range(len(U)))
        )
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
        its eigenvalues. Kenward-Roger: Wald F with the adjusted covariance, scaled by lambda, on a
        basis of L's rows (dependent rows, as a rank-deficient design's hypotheses have, are
        allowed as in lmerTest).
        """
        p = len(self.column_names)
        L = np.asarray(L, dtype=float)
        if L.ndim == 1:
            L = L[None, :]
        if L.ndim != 2 or L.shape[1] != p or L.shape[0] == 0:
            raise LmmInputError(
                self.source,
                "F test",
                "L",
                f"a matrix with {p} columns (one per fixed-effect column)",
                f"shape {L.shape}",
            )
        if self._method(ddf) == "Kenward-Roger":
            L = row_basis(L)
            q = L.shape[0]
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
        ddf_value = ddf_multi(nu)
        return {"F": F, "df_num": q, "df_den": ddf_value, "p": _f_upper(F, q, ddf_value)}

    def mean_weights(self, values: dict | None = None) -> np.ndarray:
        """L vector of the model's mean at given factor levels / covariate values.

        Factors left out are averaged with equal weight over their levels; numeric variables
        left out are set to their mean in the fitted rows (as emmeans does). A simple effect is
        a difference of two such vectors, e.g. condition at block 3.
        """
        if self.dropped_columns:  # which means are estimable is not worked out here
            raise LmmInputError(
                self.source,
                "contrast",
                None,
                "a fixed-effect design without dropped columns for model means (weights of the "
                "full coding; contrast() takes weights of the kept columns)",
                list(self.dropped_columns),
            )
        values = dict(values or {})
        for name in values:
            if name not in self._variables:
                raise LmmInputError(
                    self.source,
                    "contrast",
                    name,
                    f"a variable of the model {sorted(self._variables)}",
                )
        rows: dict[str, np.ndarray] = {}
        for name, var in self._variables.items():
            if var.levels is None:
                rows[name] = np.array([float(values.get(name, var.mean))])
            elif name in values and values[name] not in var.levels:
                raise LmmInputError(
                    self.source,
                    "contrast",
                    name,
                    f"one of the levels {list(var.levels)}",
                    values[name],
                )
        w = np.zeros(len(self.column_names))
        w[0] = 1.0
        for label, cols in self.term_columns.items():
            row = np.ones(1)
            for name, matrix in zip(label.split(":"), self._term_codings[label]):
                var = self._variables[name]
                if matrix is None:
                    part = rows[name]
                elif name in values:
                    part = matrix[var.levels.index(values[name])]
                else:
                    part = matrix.mean(axis=0)
                row = np.outer(part, row).ravel()  # first variable fastest, as the design
            w[cols] = row
        return w
