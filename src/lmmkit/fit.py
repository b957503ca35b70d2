"""fit_lmm: design, REML optimum, variance-parameter derivatives, tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import linalg

from .checks import lme4_convergence
from .derivatives import numeric_hessian, numeric_jacobian
from .design import Design, build_design, sparse_z, term_label
from .errors import LmmInputError
from .formula import parse_formula
from .guard import check_memory
from .inference import ANOVA_COLUMNS, DDF_METHODS, FIXED_COLUMNS, LmmResult
from .optimise import PSI_MAX, SINGULAR_THETA, optimise
from .params import Layout
from .reml import BlockReml, make_reml
from .type3 import general_basis, simple_basis

try:  # installed with scikit-learn, which pingouin requires; only a matter of speed
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None

# lmerTest: eigenvalues of the deviance Hessian below this are treated as zero.
HESSIAN_TOL = 1e-8
# A residual variance below this fraction of the response's variance (residual sd below 1e-5 of
# the response's sd) has collapsed: the fixed and random effects explain the response exactly,
# and an F test against it would be a number without meaning (e.g. F = 1e14, p = 0).
RESIDUAL_COLLAPSE = 1e-10


def fit_lmm(
    data: pd.DataFrame,
    formula: str,
    levels: dict | None = None,
    source: str = "<data>",
    ddf: str = "Satterthwaite",
    rank_deficient: str = "drop",
) -> LmmResult:
    """Fit ``formula`` (e.g. ``"ratio ~ condition * block + (1 | participant_id)"``) by REML.

    levels: {column: [reference, other, ...]} fixes a factor's level order; a numeric column
    named here becomes a factor. Columns of dtype object/string/category/bool are factors
    (categorical order, else sorted); numeric columns enter as they are. Rows with a missing
    value in any variable of the model are dropped and counted. `source` names the data in
    error messages. ddf: 'Satterthwaite' (default, lmerTest's default) or 'Kenward-Roger'
    (pbkrtest's method) for the fixed and anova tables. rank_deficient: "drop" (lme4's default:
    aliased fixed-effect columns are dropped, listed in ``dropped_columns``, and the estimable
    part of each term is tested as lmerTest tests it) or "stop" (refuse such a design).
    """
    return fit_parts(data, formula, levels, source, ddf, rank_deficient)[0]


def fit_parts(
    data: pd.DataFrame,
    formula: str,
    levels: dict | None = None,
    source: str = "<data>",
    ddf: str = "Satterthwaite",
    rank_deficient: str = "drop",
) -> tuple[LmmResult, dict]:
    """fit_lmm's result and what lmmkit.lmer needs besides: the design, the parameter layout,
    theta at the optimum, the REML backend and the L matrix of each term's type III test."""
    if ddf not in DDF_METHODS:
        raise LmmInputError(source, "fit_lmm", "ddf", f"one of {list(DDF_METHODS)}", ddf)
    # The per-group blocks are small: multi-threaded BLAS only adds overhead.
    try:
        if threadpool_limits is None:
            return _fit(data, formula, levels, source, ddf, rank_deficient)
        with threadpool_limits(limits=1, user_api="blas"):
            return _fit(data, formula, levels, source, ddf, rank_deficient)
    except FloatingPointError as err:  # no residual left at the optimum (pls.profiled)
        raise LmmInputError(
            source,
            None,
            formula.split("~")[0].strip(),
            "a response the model does not explain exactly (a residual variance above 0)",
            str(err),
        ) from None


def _check_residual(
    design: Design, theta: np.ndarray, s2e: float, source: str, outcome: str
) -> None:
    """Refuse a fit whose residual variance has collapsed (see RESIDUAL_COLLAPSE)."""
    y = design.y
    total = float(np.var(y, ddof=1)) if y.size > 1 else 0.0
    at_bound = bool(np.any(np.abs(theta) >= np.sqrt(PSI_MAX) * (1.0 - 1e-9)))
    if at_bound or not s2e > RESIDUAL_COLLAPSE * total:
        raise LmmInputError(
            source,
            None,
            outcome,
            "a response the model does not explain exactly (a residual variance above 0)",
            f"residual variance {s2e:.3g}, {s2e / total if total > 0 else 0.0:.2g} of the "
            "response's: the fixed and random effects fit every value, so no F test has meaning",
        )


def lme4_check(reml, theta: np.ndarray, deviance: float, layout: Layout) -> dict:
    """lme4's convergence and singularity checks (checks.lme4_convergence) of the profiled REML
    criterion at theta; a point where it cannot be evaluated counts as NaN, as in lme4."""

    def criterion(x):
        try:
            return float(reml.evaluate(np.asarray(x, dtype=float), gradient=False)[0])
        except (np.linalg.LinAlgError, FloatingPointError):
            return np.nan

    return lme4_convergence(criterion, theta, deviance, layout)


def check_design(
    data: pd.DataFrame,
    formula: str,
    levels: dict | None = None,
    source: str = "<data>",
    rank_deficient: str = "drop",
) -> None:
    """Raise fit_lmm's LmmInputError for a model that cannot be estimated (too few rows or groups;
    with rank_deficient="stop" a rank-deficient design) without fitting it."""
    build_design(data, parse_formula(formula, source), levels, source, rank_deficient)


def _chain_rule(d: dict, layout: Layout, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hessian of the REML deviance and d cov(beta) in lmerTest's (theta, sigma) from phi."""
    sigma = np.sqrt(d["sigma2"])
    J, second = layout.chain(theta, sigma)
    hess = J.T @ d["hess_phi"] @ J + np.einsum("j,jab->ab", d["grad_phi"], second)
    C = d["vcov_beta"]
    dC_dphi = np.array([C @ K @ C for K in d["XtViGViX"]])  # d C / d phi_a = C X'V^-1 G_a V^-1 X C
    return (hess + hess.T) / 2.0, np.einsum("jpq,ja->apq", dC_dphi, J)


def _kr_from_parts(d: dict) -> dict:
    """pbkrtest's adjusted covariance: W = 2 (tr P G_i P G_j)^-1, Q_ij = X'V^-1 G_i V^-1 G_j V^-1 X,
    Phi_A = C + 2 C [sum_ij W_ij (Q_ij - P_i C P_j)] C with P_i = -X'V^-1 G_i V^-1 X."""
    C = d["vcov_beta"]
    kr_P = -d["XtViGViX"]
    info = d["trPGPG"]
    evals = np.linalg.eigvalsh(info)
    W = 2.0 * (np.linalg.inv(info) if np.min(np.abs(evals)) > 1e-10 else np.linalg.pinv(info))
    m = len(kr_P)
    U = np.zeros_like(C)
    for i in range(m):
        for j in range(m):
            U += W[i, j] * (d["Q"][i, j] - kr_P[i] @ C @ kr_P[j])
    adjusted = C + 2.0 * C @ U @ C
    return {"vcov_beta_kr": (adjusted + adjusted.T) / 2.0, "kr_P": kr_P, "kr_W": W}


def _sparse_kr_parts(
    design: Design, layout: Layout, theta: np.ndarray, sigma2: float, source: str
) -> dict:
    """Kenward-Roger for non-nested (e.g. crossed) groupings without an n x n matrix.

    V = sigma^2 H with H = I + Z D Z' (D = Lambda Lambda'), so H^-1 = I - Z R Z' with
    R = Lambda M^-1 Lambda'. Every quantity pbkrtest needs (X'V^-1 G_a V^-1 X, the traces
    tr(P G_a P G_b), X'V^-1 G_a V^-1 G_b V^-1 X, for G_a = Z B_a Z' and the residual's G = I)
    is a product of the q x q and q x p matrices Z'H^-1 Z, Z'H^-1 X, X'H^-1 X and of D, using
    H^-2 = H^-1 - H^-1 Z D Z' H^-1 for the residual's terms: memory and time grow with q (the
    random effects), not with the rows.
    """
    X = design.X
    n, p = X.shape
    Z = sparse_z(design.random, n)
    q = Z.shape[1]
    check_memory(
        8.0 * q * q * 10 + 8.0 * q * p * 12,
        "q x q matrices for Kenward-Roger with crossed random effects",
        source,
    )
    K = np.asarray((Z.T @ Z).toarray())
    ZtX = np.asarray(Z.T @ X)
    Lam, starts = _relative_covariance_factor(design, layout, theta, q)
    D = (Lam @ Lam.T).tocsr()
    LtK = np.asarray(Lam.T @ K)
    M = np.asarray(Lam.T @ LtK.T).T + np.eye(q)
    Minv = linalg.cho_solve(linalg.cho_factor(M, lower=True), np.eye(q))
    del M
    R = np.asarray(Lam @ np.asarray(Lam @ Minv.T).T)  # Lambda M^-1 Lambda' (M^-1 symmetric)
    del Minv
    RK = R @ K
    Azz = K - K @ RK
    Azx = ZtX - RK.T @ ZtX
    Axx = X.T @ X - ZtX.T @ (R @ ZtX)
    Axx_inv = np.linalg.inv(Axx)
    tr_H2 = n - 2.0 * np.trace(RK) + float(np.sum(RK * RK.T))
    del R, RK
    H2zx = Azx - Azz @ (D @ Azx)  # Z'H^-2 X
    H2xx = Axx - Azx.T @ (D @ Azx)  # X'H^-2 X
    H3xx = H2xx - Azx.T @ (D @ H2zx)  # X'H^-3 X
    Pzz = Azz - Azx @ Axx_inv @ Azx.T  # Z' Pi Z, Pi = H^-1 - H^-1 X Axx^-1 X'H^-1
    E = Azx @ Axx_inv
    H2zz = Azz - Azz @ (D @ Azz)  # Z'H^-2 Z
    P2zz = H2zz - H2zx @ E.T - E @ H2zx.T + E @ H2xx @ E.T  # Z' Pi^2 Z
    del H2zz

    patterns = _covariance_patterns(design, layout, starts, q)
    m = len(patterns) + 1  # and the residual, last
    s4, s6 = sigma2**-2, sigma2**-3
    BZX = [np.asarray(B @ Azx) for B in patterns]
    K_parts = [s4 * Azx.T @ bzx for bzx in BZX] + [s4 * H2xx]
    BP = [np.asarray(B @ Pzz) for B in patterns]
    tt = np.empty((m, m))
    Q = np.empty((m, m, p, p))
    for i in range(m - 1):
        for j in range(m - 1):
            tt[i, j] = s4 * float(np.sum(BP[i] * BP[j].T))
            Q[i, j] = s6 * BZX[i].T @ Azz @ BZX[j]
        # tr(Pi Z B_i Z' Pi) = tr(B_i Z'Pi^2 Z) (Z'Pi^2 Z symmetric)
        tt[i, -1] = tt[-1, i] = s4 * float(patterns[i].multiply(P2zz).sum())
        Q[i, -1] = s6 * BZX[i].T @ H2zx
        Q[-1, i] = Q[i, -1].T
    # tr(Pi^2) = tr(H^-2) - 2 tr(Axx^-1 X'H^-3 X) + tr((Axx^-1 X'H^-2 X)^2)
    A2 = Axx_inv @ H2xx
    tt[-1, -1] = s4 * (tr_H2 - 2.0 * np.trace(Axx_inv @ H3xx) + float(np.trace(A2 @ A2)))
    Q[-1, -1] = s6 * H3xx
    C = sigma2 * Axx_inv
    return _kr_from_parts(
        {"vcov_beta": (C + C.T) / 2.0, "XtViGViX": np.array(K_parts), "trPGPG": tt, "Q": Q}
    )


def _relative_covariance_factor(
    design: Design, layout: Layout, theta: np.ndarray, q: int
) -> tuple[sp.csr_matrix, list[int]]:
    """lme4's Lambda (q x q, lower triangular, block diagonal: each term's factor repeated over
    its levels) at theta, and the first column of each term."""
    rows, cols, vals, starts, offset = [], [], [], [], 0
    for T, block in zip(layout.factors(theta), design.random):
        s_j = T.shape[0]
        starts.append(offset)
        base = offset + np.arange(block.n_levels) * s_j
        for r in range(s_j):
            for c in range(r + 1):
                rows.append(base + r)
                cols.append(base + c)
                vals.append(np.full(block.n_levels, T[r, c]))
        offset += block.n_levels * s_j
    Lam = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(q, q)
    )
    return Lam, starts


def _covariance_patterns(
    design: Design, layout: Layout, starts: list[int], q: int
) -> list[sp.csr_matrix]:
    """B_a: the 0/1 pattern (symmetric) of each covariance parameter phi_a in the q x q
    covariance of the random effects."""
    patterns = []
    for j, (r, c) in zip(layout.phi_term, layout.phi_rc):
        base = starts[j] + np.arange(design.random[j].n_levels) * layout.sizes[j]
        b_rows, b_cols = [base + r], [base + c]
        if r != c:
            b_rows.append(base + c)
            b_cols.append(base + r)
        b_rows, b_cols = np.concatenate(b_rows), np.concatenate(b_cols)
        patterns.append(sp.csr_matrix((np.ones(b_rows.size), (b_rows, b_cols)), shape=(q, q)))
    return patterns


def _varcomp(layout: Layout, design: Design, theta: np.ndarray, sigma2: float) -> pd.DataFrame:
    """Intercept-only terms: one row named by the grouping. Terms with slopes: one row per
    coefficient ('group coefficient') and one per pair ('group cor(a,b)') whose variance column
    holds the covariance and sd column the correlation (lme4's as.data.frame(VarCorr) does the
    same with vcov and sdcor). Residual last."""
    names, variances, sds = [], [], []
    for T, block in zip(layout.factors(theta), design.random):
        cov = sigma2 * T @ T.T
        coefs = block.term.coefficients
        if coefs == ("(Intercept)",):
            names.append(block.term.label)
            variances.append(cov[0, 0])
            sds.append(np.sqrt(cov[0, 0]))
            continue
        sd = np.sqrt(np.diag(cov))
        for r, coef in enumerate(coefs):
            names.append(f"{block.term.label} {coef}")
            variances.append(cov[r, r])
            sds.append(sd[r])
        for c in range(len(coefs)):
            for r in range(c + 1, len(coefs)):
                names.append(f"{block.term.label} cor({coefs[c]},{coefs[r]})")
                variances.append(cov[r, c])
                sds.append(cov[r, c] / (sd[r] * sd[c]) if sd[r] * sd[c] > 0 else np.nan)
    names.append("Residual")
    variances.append(sigma2)
    sds.append(np.sqrt(sigma2))
    return pd.DataFrame(
        {
            "name": names,
            "variance": np.array(variances, dtype=float),
            "sd": np.array(sds, dtype=float),
        }
    )


def _fit(data, formula, levels, source, ddf, rank_deficient) -> tuple[LmmResult, dict]:
    parsed = parse_formula(formula, source)
    design = build_design(data, parsed, levels, source, rank_deficient)
    layout = Layout.of([block.term for block in design.random])
    n, p = design.X.shape
    reml = make_reml(design, layout, source)
    theta, deviance, _, message = optimise(reml, layout)
    # converged and singular: lme4's checks, the one definition (the optimiser's own projected-
    # gradient test stays in the message)
    check = lme4_check(reml, theta, deviance, layout)
    converged = bool(check["converged"])
    _, beta, r2 = reml.evaluate(theta, gradient=False)
    s2e = r2 / (n - p)
    _check_residual(design, theta, s2e, source, parsed.outcome)
    beta, C, hess_vp, jacobian, kr_parts = _variance_parameter_derivatives(
        reml, design, layout, theta, beta, s2e, source
    )
    vcov_varpar, hessian_message = _vcov_varpar(hess_vp)
    message += hessian_message

    small = layout.diagonal & (theta < SINGULAR_THETA)
    singular = bool(check["singular"])
    if singular:
        names = dict.fromkeys(design.random[j].term.label for j in layout.theta_term[small])
        message += f"; singular fit: variance of {', '.join(names)} estimated at the boundary (0)"

    result = LmmResult(
        formula=formula,
        ddf_method=ddf,
        fixed=pd.DataFrame(),
        anova=pd.DataFrame(),
        variance_components=_varcomp(layout, design, theta, s2e),
        reml_criterion=float(deviance),
        converged=converged,
        singular=singular,
        optimizer_message=message,
        n_observations=n,
        n_groups=dict(design.group_sizes),
        n_dropped_missing=design.n_dropped,
        levels={
            name: var.levels for name, var in design.variables.items() if var.levels is not None
        },
        column_names=design.column_names,
        term_columns=design.term_columns,
        beta=beta,
        vcov_beta=C,
        vcov_varpar=vcov_varpar,
        jacobian=jacobian,
        source=source,
        _variables=design.variables,
        _term_codings=design.term_codings,
        _kenward_roger_parts=kr_parts,
        dropped_columns=design.dropped_columns,
    )
    fixed = _coefficient_table(result, design)
    anova, term_L = _type3_anova(result, parsed, design)
    object.__setattr__(result, "fixed", fixed)
    object.__setattr__(result, "anova", anova)
    parts = {
        "design": design,
        "layout": layout,
        "theta": theta,
        "reml": reml,
        "term_L": term_L,
        "sigma2": s2e,
        "check": check,
    }
    return result, parts


def _variance_parameter_derivatives(
    reml, design: Design, layout: Layout, theta: np.ndarray, beta, s2e: float, source: str
):
    """(beta, cov(beta), Hessian of the REML deviance in lmerTest's (theta, sigma), Jacobian of
    cov(beta) in them, and a function giving the Kenward-Roger parts when asked)."""
    if isinstance(reml, BlockReml):
        parts = reml.derivatives(theta, kenward_roger=False)
        beta, C = parts["beta"], parts["vcov_beta"]
        hess_vp, jacobian = _chain_rule(parts, layout, theta)

        def kr_parts():
            return _kr_from_parts(reml.derivatives(theta, kenward_roger=True))
    else:  # lmerTest's way: finite differences of the deviance and of cov(beta) in (theta, sigma)
        vp = np.append(theta, np.sqrt(s2e))
        C = reml.vcov_beta_vp(vp)
        C = (C + C.T) / 2.0
        hess_vp = numeric_hessian(reml.deviance_vp, vp)
        jacobian = numeric_jacobian(reml.vcov_beta_vp, vp)

        def kr_parts():
            return _sparse_kr_parts(design, layout, theta, s2e, source)

    return beta, C, hess_vp, jacobian, kr_parts


def _vcov_varpar(hess_vp: np.ndarray) -> tuple[np.ndarray, str]:
    """lmerTest's asymptotic covariance of the variance parameters (2 H^-1 over the eigenvalues
    above HESSIAN_TOL) and what to add to the message when H is not positive semi-definite."""
    evals, evecs = np.linalg.eigh(hess_vp)
    keep = evals > HESSIAN_TOL
    vcov_varpar = 2.0 * (evecs[:, keep] / evals[keep]) @ evecs[:, keep].T
    if np.any(evals < -HESSIAN_TOL):  # not a minimum (lmerTest warns likewise)
        return (
            vcov_varpar,
            f"; REML deviance Hessian has negative eigenvalue(s) {evals[evals < -HESSIAN_TOL]}",
        )
    return vcov_varpar, ""


def _coefficient_table(result: LmmResult, design: Design) -> pd.DataFrame:
    """summary()'s coefficient table: one t test per column of X, with its term."""
    p = design.X.shape[1]
    column_term = {0: "(Intercept)"}
    for label, cols in design.term_columns.items():
        column_term.update({c: label for c in cols})
    fixed_rows = []
    for j, name in enumerate(design.column_names):
        res = result.contrast(np.eye(p)[j])
        fixed_rows.append(
            {
                "term": column_term[j],
                "column": name,
                "estimate": res["estimate"],
                "se": res["se"],
                "df": res["df"],
                "t": res["t"],
                "p": res["p"],
            }
        )
    return pd.DataFrame(fixed_rows, columns=FIXED_COLUMNS)


def _type3_anova(result: LmmResult, parsed, design: Design) -> tuple[pd.DataFrame, dict]:
    """lmerTest's type III anova table and the L matrix of each term's test, in the table's
    order (an untestable term, all of whose columns are aliased, last)."""
    p = design.X.shape[1]
    hierarchical = not design.dropped_columns and all(
        m is None or m is design.variables[name].coding
        for term in parsed.terms
        for name, m in zip(term, design.term_codings[term_label(term)])
    )
    general = {} if hierarchical else general_basis(list(parsed.terms), design)
    anova_rows, untestable, term_L = [], [], {}
    for term in parsed.terms:
        label = term_label(term)
        cols = design.term_columns[label]
        if hierarchical:
            L = np.zeros((len(cols), p))
            L[:, cols] = simple_basis(term, design.term_codings[label], design.variables)
        else:
            L = general[label]
        term_L[label] = L
        if L.shape[0] == 0:  # every column aliased: lmerTest's row of NA, after the others
            untestable.append({"term": label, **dict.fromkeys(ANOVA_COLUMNS[1:], np.nan)})
            continue
        res = result.f_test(L)
        single = result.contrast(L[0]) if L.shape[0] == 1 else {"estimate": np.nan, "se": np.nan}
        anova_rows.append(
            {
                "term": label,
                "estimate": single["estimate"],
                "se": single["se"],
                "F": res["F"],
                "df_num": res["df_num"],
                "df_den": res["df_den"],
                "p": res["p"],
            }
        )
    anova_rows += untestable
    term_L = {row["term"]: term_L[row["term"]] for row in anova_rows}
    return pd.DataFrame(anova_rows, columns=ANOVA_COLUMNS), term_L
