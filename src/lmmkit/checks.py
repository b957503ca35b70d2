"""Fit diagnostics as lme4 reports them: singular fits (and why), convergence by the scaled
gradient, the Hessian of the REML criterion.

lme4 (lmerControl's defaults) first asks whether the fit is singular (a diagonal element of a
relative covariance factor below 1e-4); a singular fit is reported as such and its gradient is
not checked. Otherwise it takes the gradient g and Hessian H of the profiled REML criterion in
theta by central differences of step 1e-4, and calls the fit not converged when some component
of min(|R^-1 g|, |g|) exceeds 0.002 (R: the Cholesky factor of H, R'R = H) or when H has an
eigenvalue below -1e-6. The finite differences here follow the same formulas, so a fit that lme4
accepts is accepted here.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from .params import Layout

SINGULAR_TOL = 1e-4  # lme4: check.conv.singular tol
GRAD_TOL = 2e-3  # lme4: check.conv.grad tol
HESS_TOL = 1e-6  # lme4: check.conv.hess tol
DELTA = 1e-4  # lme4's finite-difference step for the gradient and Hessian
SINGULAR_MESSAGE = "boundary (singular) fit: see help('isSingular')"
# A correlation this close to +/-1 is reported as +/-1.
CORRELATION_ONE = 1 - 1e-4


def gradient_hessian(deviance, theta: np.ndarray, value: float) -> tuple[np.ndarray, np.ndarray]:
    """Central-difference gradient and Hessian of `deviance` at theta (value = deviance(theta))."""
    k = theta.size
    g, H = np.zeros(k), np.zeros((k, k))

    def at(changes):
        x = theta.copy()
        for i, step in changes:
            x[i] += step
        return deviance(x)

    d = DELTA
    for j in range(k):
        up, down = at([(j, d)]), at([(j, -d)])
        H[j, j] = (up - 2.0 * value + down) / d**2
        g[j] = (up - down) / (2.0 * d)
        for i in range(j):
            H[i, j] = H[j, i] = (
                at([(i, d), (j, d)])
                - at([(i, d), (j, -d)])
                - at([(i, -d), (j, d)])
                + at([(i, -d), (j, -d)])
            ) / (2.0 * d) ** 2
    return g, H


def singular_reasons(layout: Layout, theta: np.ndarray, labels: list[str], coefs: list) -> list:
    """Why a fit is singular: per random term, which variance is 0 or which correlation is +/-1.

    A diagonal element of a relative factor T_j below the tolerance means the covariance matrix of
    that term is singular. If the whole row of T_j is small, the coefficient's variance is 0;
    otherwise the coefficient is a multiple of others: its correlation with them is +/-1.
    """
    reasons = []
    for j, T in enumerate(layout.factors(theta)):
        cov = T @ T.T
        sd = np.sqrt(np.diag(cov))
        for r in range(T.shape[0]):
            if T[r, r] >= SINGULAR_TOL:
                continue
            name = labels[j] if coefs[j] == ("(Intercept)",) else f"{labels[j]} {coefs[j][r]}"
            if np.all(np.abs(T[r, :]) < SINGULAR_TOL):
                reasons.append(f"variance of {name} estimated as 0")
                continue
            ones = []
            for c in range(T.shape[0]):
                if c != r and sd[r] > 0 and sd[c] > 0:
                    rho = cov[r, c] / (sd[r] * sd[c])
                    if abs(rho) >= CORRELATION_ONE:
                        sign = "+1" if rho > 0 else "-1"
                        ones.append(f"correlation of {labels[j]} ({coefs[j][c]}, {coefs[j][r]})")
                        ones[-1] += f" estimated as {sign}"
            reasons.extend(ones or [f"covariance matrix of {labels[j]} is singular"])
    return reasons


def lme4_convergence(deviance, theta: np.ndarray, value: float, layout: Layout) -> dict:
    """lme4's checks at the optimum: {'singular', 'converged', 'messages', 'max_grad'}.

    deviance: the profiled REML criterion as a function of theta; value: its value at theta.
    """
    singular = bool(np.any(theta[layout.diagonal] < SINGULAR_TOL))
    if singular:  # lme4 reports the boundary fit and checks no gradient
        return {"singular": True, "converged": True, "messages": [], "max_grad": np.nan}
    g, H = gradient_hessian(deviance, theta, value)
    messages, converged = [], True
    if not np.all(np.isfinite(g)) or not np.all(np.isfinite(H)):
        return {
            "singular": False,
            "converged": False,
            "messages": ["Gradient contains NAs"],
            "max_grad": np.nan,
        }
    try:
        R = linalg.cholesky(H, lower=False)
        # R's solve(chol(H), g) solves R x = g
        scaled = linalg.solve_triangular(R, g, lower=False)
        max_grad = float(np.max(np.minimum(np.abs(scaled), np.abs(g))))
        if max_grad > GRAD_TOL:
            component = int(np.argmax(np.minimum(np.abs(scaled), np.abs(g)))) + 1
            messages.append(
                f"Model failed to converge with max|grad| = {max_grad:.6g} "
                f"(tol = {GRAD_TOL:g}, component {component})"
            )
            converged = False
    except linalg.LinAlgError:
        max_grad = np.nan
        messages.append("unable to evaluate scaled gradient")
        converged = False
    evals = np.linalg.eigvalsh((H + H.T) / 2.0)
    negative = int(np.sum(evals < -HESS_TOL))
    if negative:
        messages.append(
            f"Model failed to converge: degenerate Hessian with {negative} negative eigenvalues"
        )
        converged = False
    return {"singular": False, "converged": converged, "messages": messages, "max_grad": max_grad}
