"""The interface an lme4/lmerTest user recognises: ``lmer(formula, data)`` and a fitted model
with ``anova()``, ``fixef``, ``ranef``, ``varcorr``, ``summary()`` and lme4's diagnostics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse import linalg as sparse_linalg

from .checks import SINGULAR_MESSAGE, singular_reasons
from .design import rank_message, sparse_z
from .errors import LmmInputError
from .fit import fit_parts
from .inference import DDF_METHODS, LmmResult, row_basis

ANOVA_TABLE_COLUMNS = ["term", "sum_sq", "mean_sq", "num_df", "den_df", "F", "p"]
VARCORR_COLUMNS = ["grp", "var1", "var2", "vcov", "sdcor"]


def _ddf_name(ddf: str, source: str) -> str:
    """'Satterthwaite' or 'Kenward-Roger' from any spelling R users write (case, '-', '_')."""
    key = str(ddf).lower().replace("-", "").replace("_", "").replace(" ", "")
    names = {"satterthwaite": "Satterthwaite", "kenwardroger": "Kenward-Roger"}
    if names.get(key) is None:
        raise LmmInputError(source, "ddf", None, f"one of {list(DDF_METHODS)}", ddf)
    return names[key]


class LmerSummary:
    """The text of ``LmerFit.summary()``; printed as lmerTest's ``summary()`` prints."""

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__


class LmerFit:
    """A linear mixed model fitted by REML, as ``lmerTest::lmer`` returns it.

    Made by :func:`lmer`. Attributes mirror lme4's accessors: ``fixef`` (``fixef()``),
    ``ranef`` (``ranef()``), ``varcorr`` (``as.data.frame(VarCorr())``), ``sigma``,
    ``reml_criterion`` (``REMLcrit()``), ``loglik`` (``logLik()``), ``nobs``, ``ngrps``, and the
    diagnostics ``converged``, ``singular`` and ``messages`` (lme4's checks with its tolerances).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import lmmkit
    >>> rng = np.random.default_rng(1)
    >>> data = pd.DataFrame({"id": np.repeat(np.arange(20), 4), "time": np.tile([0, 1, 2, 3], 20)})
    >>> data["y"] = rng.normal(size=20)[data["id"]] + 0.5 * data["time"] + rng.normal(size=80)
    >>> fit = lmmkit.lmer("y ~ time + (1 | id)", data)
    >>> fit.converged, fit.singular, fit.nobs
    (True, False, 80)
    >>> round(float(fit.fixef["time"]), 3)
    0.471
    """

    def __init__(self, result: LmmResult, parts: dict, data_name: str):
        self._result = result
        self._parts = parts
        self._data_name = data_name
        design, layout, theta = parts["design"], parts["layout"], parts["theta"]
        labels = [block.term.label for block in design.random]
        coefs = [block.term.coefficients for block in design.random]
        check = parts["check"]  # lme4's checks, made by the fit (LmmResult.converged is the same)
        self.converged: bool = bool(check["converged"])
        """lme4's convergence checks passed (a singular fit is not checked, as in lme4)."""
        self.singular: bool = bool(check["singular"])
        self.max_grad: float = float(check["max_grad"])
        messages = list(check["messages"])
        self.singular_reasons: list[str] = (
            singular_reasons(layout, theta, labels, coefs) if self.singular else []
        )
        if self.singular:
            messages.insert(0, f"{SINGULAR_MESSAGE}: " + "; ".join(self.singular_reasons))
        if result.dropped_columns:
            messages.insert(0, rank_message(result.dropped_columns))
        self.messages: list[str] = messages
        self._ranef = None

    # -- what was fitted ---------------------------------------------------------------------

    @property
    def formula(self) -> str:
        return self._result.formula

    @property
    def nobs(self) -> int:
        """Rows used."""
        return int(self._result.n_observations)

    @property
    def n_dropped(self) -> int:
        """Rows dropped for a missing value in a variable of the model."""
        return int(self._result.n_dropped_missing)

    @property
    def ngrps(self) -> dict[str, int]:
        """Number of levels of each grouping factor."""
        return dict(self._result.n_groups)

    @property
    def dropped_columns(self) -> list[str]:
        """Fixed-effect columns dropped for rank deficiency, as lme4 drops them: columns in
        order, each kept unless (to 1e-7 of its norm) a combination of those kept before it."""
        return list(self._result.dropped_columns)

    @property
    def result(self) -> LmmResult:
        """The lower-level result (tables, contrasts, f_test) the pipeline uses."""
        return self._result

    # -- estimates ---------------------------------------------------------------------------

    @property
    def fixef(self) -> pd.Series:
        """Fixed-effect estimates by column name (lme4's ``fixef()``).

        Factors are coded as this package codes them: two levels -0.5/+0.5 (a coefficient is
        the second level minus the first), more levels R's ``contr.sum``.
        """
        return pd.Series(self._result.beta, index=list(self._result.column_names), name="fixef")

    @property
    def sigma(self) -> float:
        """Residual standard deviation."""
        return float(np.sqrt(self._parts["sigma2"]))

    @property
    def reml_criterion(self) -> float:
        """-2 x the REML log-likelihood at the optimum (lme4's ``REMLcrit()``)."""
        return float(self._result.reml_criterion)

    @property
    def loglik(self) -> float:
        """REML log-likelihood (lme4's ``logLik()`` of a REML fit)."""
        return -0.5 * self.reml_criterion

    @property
    def varcorr(self) -> pd.DataFrame:
        """Variance components as lme4's ``as.data.frame(VarCorr(fit))``: columns grp, var1,
        var2 (None for a variance), vcov (variance or covariance), sdcor (sd or correlation);
        per random term its variances, then its covariances; the residual last."""
        design, layout = self._parts["design"], self._parts["layout"]
        s2 = self._parts["sigma2"]
        rows = []
        for T, block in zip(layout.factors(self._parts["theta"]), design.random):
            cov = s2 * T @ T.T
            sd = np.sqrt(np.diag(cov))
            names = block.term.coefficients
            for r, name in enumerate(names):
                rows.append((block.term.label, name, None, cov[r, r], sd[r]))
            for c in range(len(names)):
                for r in range(c + 1, len(names)):
                    cor = cov[r, c] / (sd[r] * sd[c]) if sd[r] * sd[c] > 0 else np.nan
                    rows.append((block.term.label, names[c], names[r], cov[r, c], cor))
        rows.append(("Residual", None, None, s2, np.sqrt(s2)))
        return pd.DataFrame(rows, columns=VARCORR_COLUMNS)

    def _conditional_modes(self) -> np.ndarray:
        """b = Lambda u with u = (Lambda'Z'Z Lambda + I)^-1 Lambda'Z'(y - X beta)."""
        if self._ranef is None:
            design, layout = self._parts["design"], self._parts["layout"]
            theta = self._parts["theta"]
            n = design.X.shape[0]
            Z = sparse_z(design.random, n)
            rows, cols, vals, offset = [], [], [], 0
            for T, block in zip(layout.factors(theta), design.random):
                s = T.shape[0]
                base = offset + np.arange(block.n_levels) * s
                for r in range(s):
                    for c in range(r + 1):
                        if T[r, c] != 0.0:
                            rows.append(base + r)
                            cols.append(base + c)
                            vals.append(np.full(block.n_levels, T[r, c]))
                offset += block.n_levels * s
            q = Z.shape[1]
            if rows:
                Lam = sp.csc_matrix(
                    (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                    shape=(q, q),
                )
            else:
                Lam = sp.csc_matrix((q, q))
            ZL = (Z @ Lam).tocsc()
            M = (ZL.T @ ZL + sp.identity(q, format="csc")).tocsc()
            resid = design.y - design.X @ self._result.beta
            u = sparse_linalg.splu(M).solve(np.asarray(ZL.T @ resid).ravel())
            self._ranef = np.asarray(Lam @ u).ravel()
        return self._ranef

    @property
    def ranef(self) -> dict[str, pd.DataFrame]:
        """Conditional modes of the random effects (lme4's ``ranef()``): per grouping, a frame
        with one row per level and one column per coefficient."""
        b, out, offset = self._conditional_modes(), {}, 0
        for block in self._parts["design"].random:
            s = block.values.shape[1]
            values = b[offset : offset + block.n_levels * s].reshape(block.n_levels, s)
            out[block.term.label] = pd.DataFrame(
                values,
                index=pd.Index(block.level_names, name=block.term.label),
                columns=list(block.term.coefficients),
            )
            offset += block.n_levels * s
        return out

    @property
    def fitted(self) -> np.ndarray:
        """X beta + Z b for the rows used."""
        design = self._parts["design"]
        Z = sparse_z(design.random, design.X.shape[0])
        return design.X @ self._result.beta + np.asarray(Z @ self._conditional_modes()).ravel()

    @property
    def residuals(self) -> np.ndarray:
        """y - fitted for the rows used."""
        return self._parts["design"].y - self.fitted

    # -- tests -------------------------------------------------------------------------------

    def coef_table(self, ddf: str = "Satterthwaite") -> pd.DataFrame:
        """The fixed-effects table of lmerTest's ``summary()``: column, estimate, se, df, t, p."""
        ddf = _ddf_name(ddf, self._result.source)
        p = len(self._result.column_names)
        rows = []
        for j, name in enumerate(self._result.column_names):
            res = self._result.contrast(np.eye(p)[j], ddf=ddf)
            rows.append({"column": name, **{k: res[k] for k in ("estimate", "se", "df", "t", "p")}})
        return pd.DataFrame(rows, columns=["column", "estimate", "se", "df", "t", "p"])

    def anova(self, type: int = 3, ddf: str = "Satterthwaite") -> pd.DataFrame:
        """Type III F tests as ``lmerTest::anova(fit, type = 3, ddf = ...)`` gives them.

        Parameters
        ----------
        type : int
            3 (the only type offered): each term tested given every other term, with contrasts
            that do not depend on the coding of the factors (lmerTest's type III).
        ddf : {"Satterthwaite", "Kenward-Roger"}
            The denominator degrees of freedom (lmerTest's default: Satterthwaite; Kenward-Roger
            as pbkrtest, with the adjusted covariance of the estimates).

        Returns
        -------
        pandas.DataFrame
            Columns term, sum_sq, mean_sq, num_df, den_df, F, p (lmerTest's "Sum Sq",
            "Mean Sq", "NumDF", "DenDF", "F value", "Pr(>F)"); mean_sq = F x sigma^2 (with
            Kenward-Roger: the Wald F from the adjusted covariance, before its scaling, as
            lmerTest), sum_sq = mean_sq x num_df. In a rank-deficient design each term is tested
            on its estimable part (lmerTest's hypotheses); a term whose every column was dropped
            has a row of NaN, after the others, as lmerTest lists it.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> import lmmkit
        >>> rng = np.random.default_rng(2)
        >>> data = pd.DataFrame({
        ...     "id": np.repeat(np.arange(12), 6),
        ...     "dose": np.tile(["none", "low", "high"], 24),
        ... })
        >>> high = 1.0 * (data["dose"] == "high")
        >>> data["y"] = rng.normal(size=12)[data["id"]] + high + rng.normal(size=72)
        >>> table = lmmkit.lmer("y ~ dose + (1 | id)", data).anova()
        >>> table[["term", "num_df", "den_df"]].round(1).to_string(index=False)
        'term  num_df  den_df\\ndose       2    58.0'
        """
        source = self._result.source
        if type != 3:
            raise LmmInputError(source, "anova", "type", "3 (type III tests)", type)
        ddf = _ddf_name(ddf, source)
        s2 = self._parts["sigma2"]
        rows = []
        for term, L in self._parts["term_L"].items():
            if L.shape[0] == 0:  # every column of the term aliased: lmerTest's row of NA
                rows.append({"term": term, **dict.fromkeys(ANOVA_TABLE_COLUMNS[1:], np.nan)})
                continue
            res = self._result.f_test(L, ddf=ddf)
            mean_sq = res["F"] * s2
            if ddf == "Kenward-Roger":  # lmerTest: the Wald F with the adjusted covariance,
                B = row_basis(L)  # before pbkrtest's scaling of F
                Lb = B @ self._result.beta
                wald = float(Lb @ np.linalg.solve(B @ self._result.vcov_beta_kr @ B.T, Lb))
                mean_sq = wald / B.shape[0] * s2
            rows.append(
                {
                    "term": term,
                    "sum_sq": mean_sq * res["df_num"],
                    "mean_sq": mean_sq,
                    "num_df": res["df_num"],
                    "den_df": res["df_den"],
                    "F": res["F"],
                    "p": res["p"],
                }
            )
        return pd.DataFrame(rows, columns=ANOVA_TABLE_COLUMNS)

    # -- printing ----------------------------------------------------------------------------

    def summary(self, ddf: str = "Satterthwaite") -> LmerSummary:
        """What lmerTest's ``summary()`` prints: REML criterion, scaled residuals, random
        effects, numbers of observations and groups, fixed effects with t tests, and lme4's
        messages.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> import lmmkit
        >>> rng = np.random.default_rng(1)
        >>> data = pd.DataFrame({"g": np.repeat(np.arange(10), 5), "x": np.tile(range(5), 10)})
        >>> data["y"] = rng.normal(size=10)[data["g"]] + data["x"] + rng.normal(size=50)
        >>> print(lmmkit.lmer("y ~ x + (1 | g)", data, data_name="data").summary())
        ... # doctest: +ELLIPSIS
        Linear mixed model fit by REML. t-tests use Satterthwaite's method
        Formula: y ~ x + (1 | g)
           Data: data
        <BLANKLINE>
        REML criterion at convergence: ...
        """
        ddf = _ddf_name(ddf, self._result.source)
        lines = [
            f"Linear mixed model fit by REML. t-tests use {ddf}'s method",
            f"Formula: {self.formula}",
            f"   Data: {self._data_name}",
            "",
            f"REML criterion at convergence: {self.reml_criterion:.1f}",
            "",
            "Scaled residuals: ",
        ]
        quant = np.quantile(self.residuals / self.sigma, [0, 0.25, 0.5, 0.75, 1])
        lines += _columns(
            ["Min", "1Q", "Median", "3Q", "Max"], [[f"{v:.4f}" for v in quant]], index=None
        )
        lines += ["", "Random effects:"]
        vc = self.varcorr
        table = []
        for grp, frame in vc.groupby("grp", sort=False):
            variances = frame[frame["var2"].isna()]
            cors = frame[frame["var2"].notna()]
            for i, (_, row) in enumerate(variances.iterrows()):
                corr = [f"{c['sdcor']:.2f}" for _, c in cors.iterrows() if c["var2"] == row["var1"]]
                table.append(
                    [
                        grp if i == 0 else "",
                        row["var1"] if isinstance(row["var1"], str) else "",
                        f"{row['vcov']:.4g}",
                        f"{row['sdcor']:.4g}",
                        " ".join(corr),
                    ]
                )
        has_corr = any(row[4] for row in table)
        header = ["Groups", "Name", "Variance", "Std.Dev."] + (["Corr"] if has_corr else [])
        lines += [" " + line for line in _rows(header, [r[: len(header)] for r in table])]
        groups = ", ".join(f"{k}, {v}" for k, v in self.ngrps.items())
        lines.append(f"Number of obs: {self.nobs}, groups:  {groups}")
        lines += ["", "Fixed effects:"]
        coefs = self.coef_table(ddf)
        body = [
            [
                f"{r.estimate:.4g}",
                f"{r.se:.4g}",
                f"{r.df:.3f}",
                f"{r.t:.3f}",
                _p_text(r.p),
                _stars(r.p),
            ]
            for r in coefs.itertuples()
        ]
        lines += _columns(
            ["Estimate", "Std. Error", "df", "t value", "Pr(>|t|)", ""],
            body,
            index=list(coefs["column"]),
        )
        lines += ["---", "Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1"]
        if self.messages:
            lines += [""] + self.messages
        if self.n_dropped:
            lines.append(f"{self.n_dropped} rows dropped for missing values")
        return LmerSummary("\n".join(lines))


def _p_text(p: float) -> str:
    return "< 2e-16" if p < 2e-16 else f"{p:.3g}"


def _stars(p: float) -> str:
    for cut, mark in ((0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, ".")):
        if p < cut:
            return mark
    return ""


def _columns(header: list[str], body: list[list[str]], index: list[str] | None) -> list[str]:
    """Right-aligned columns with an optional left-aligned row index, as R prints a matrix."""
    names = index or [""] * len(body)
    first = max([len(n) for n in names] + [0])
    widths = [max([len(h)] + [len(row[i]) for row in body]) for i, h in enumerate(header)]
    out = [" " * first + "".join(f" {h:>{w}}" for h, w in zip(header, widths)).rstrip()]
    for name, row in zip(names, body):
        out.append(f"{name:<{first}}" + "".join(f" {v:>{w}}" for v, w in zip(row, widths)))
    return [line.rstrip() for line in out]


def _rows(header: list[str], body: list[list[str]]) -> list[str]:
    """Left-aligned text columns then right-aligned numbers (lme4's random-effects table)."""
    widths = [max([len(h)] + [len(row[i]) for row in body]) for i, h in enumerate(header)]
    out = []
    for row in [header, *body]:
        cells = [f"{v:<{w}}" if i < 2 else f"{v:>{w}}" for i, (v, w) in enumerate(zip(row, widths))]
        out.append(" ".join(cells).rstrip())
    return out


def lmer(
    formula: str,
    data: pd.DataFrame,
    levels: dict | None = None,
    data_name: str = "<data>",
) -> LmerFit:
    """Fit a linear mixed model by REML, as ``lmerTest::lmer(formula, data)``.

    Parameters
    ----------
    formula : str
        An lme4 formula: ``y ~ fixed terms + (random | group)``. Fixed terms: ``a``, ``a:b``,
        ``a * b``; random terms: ``(1 | g)``, ``(1 + x | g)`` (correlated), ``(0 + x | g)``,
        ``(1 | g/h)`` (nested), ``(1 | g) + (1 | h)`` (crossed); x numeric.
    data : pandas.DataFrame
        One row per observation. Text, categorical and boolean columns are factors (levels in
        categorical order, else sorted); numeric columns enter as numbers. Rows with a missing
        value (NaN/None) in a variable of the model are dropped and counted (``n_dropped``).
    levels : dict, optional
        ``{column: [first, second, ...]}``: a factor's level order (the first is the
        reference); a numeric column named here becomes a factor.
    data_name : str
        How the data are named in messages and in ``summary()``.

    Returns
    -------
    LmerFit

    Raises
    ------
    LmmInputError
        A one-line message naming the data, the column or term, what was expected and what was
        found: an unknown column, a factor with one level, a non-numeric value in a numeric
        column, a response the model explains exactly. (A rank-deficient fixed-effect design is
        fitted without its aliased columns, as lme4 fits it: see ``LmerFit.dropped_columns``.)

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import lmmkit
    >>> rng = np.random.default_rng(0)
    >>> data = pd.DataFrame({
    ...     "participant": np.repeat(np.arange(30), 4),
    ...     "condition": np.tile(["placebo", "placebo", "drug", "drug"], 30),
    ...     "time": np.tile(["pre", "post"], 60),
    ... })
    >>> effect = 1.0 * ((data["condition"] == "drug") & (data["time"] == "post"))
    >>> data["y"] = rng.normal(size=30)[data["participant"]] + effect + rng.normal(size=120)
    >>> fit = lmmkit.lmer("y ~ condition * time + (1 | participant)", data)
    >>> fit.anova()["term"].tolist()
    ['condition', 'time', 'condition:time']
    >>> fit.anova(ddf="Kenward-Roger")["den_df"].round(1).tolist()
    [87.0, 87.0, 87.0]
    """
    result, parts = fit_parts(data, formula, levels=levels, source=data_name)
    return LmerFit(result, parts, data_name)
