"""Minimise the profiled REML deviance.

Intercept-only models are optimised over psi_k = theta_k^2 = s2_k / s2_e >= 0 with L-BFGS-B from
the same starts and tolerances as the previous (dense) engine, so the pipeline's numbers do not
move; on this scale the gradient does not vanish at psi_k = 0, so a variance on the boundary is
reached exactly. Models with random slopes are optimised over lme4's theta (diagonal of each
T_j >= 0, off-diagonal free) from lme4's start (T_j = I) and two rescalings of it. Both end
with a few Newton steps (`_polish`).
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from .params import Layout

# lme4::isSingular default: a relative sd theta below 1e-4 counts as zero.
SINGULAR_THETA = 1e-4
# Upper bound of psi = s2_k / s2_e; reaching it means the residual variance has collapsed.
PSI_MAX = 1e10
STARTS = (1.0, 0.1, 10.0)  # lme4 starts at theta = 1; two more guard against local optima
OPTIONS = {"ftol": 1e-15, "gtol": 1e-10, "maxiter": 1000}


def _polish(
    fun, x: np.ndarray, diagonal: np.ndarray, iterations: int = 4, reuse_hessian: bool = False
) -> np.ndarray:
    """Newton steps on the interior parameters (Hessian from differences of the gradient).

    L-BFGS-B often stops where its line search meets rounding noise ('ABNORMAL'), with a
    gradient of ~1e-6 that still moves the Satterthwaite df in the 6th digit; where exactly
    depends on rounding, so two implementations of the same deviance would differ there. A few
    Newton steps take the optimum to the gradient's own precision; a step is kept only if it
    lowers the gradient without raising the deviance beyond its rounding noise (~1e-12 relative).
    reuse_hessian: the Hessian of the first step serves every step (a chord method: near the
    optimum it hardly changes, and with finite-difference gradients each Hessian costs 2k
    gradients of 2k + 1 evaluations).
    """
    free = ~(diagonal & (x <= 0))
    if not free.any():
        return x
    dev, grad = fun(x)
    H = None
    for _ in range(iterations):
        idx = np.flatnonzero(free)
        if H is None or not reuse_hessian:
            H = np.empty((idx.size, idx.size))
            for col, i in enumerate(idx):
                h = 1e-5 * max(abs(x[i]), 1e-3)
                up, down = x.copy(), x.copy()
                up[i] += h
                down[i] -= h
                if diagonal[i] and down[i] < 0:
                    down[i] = x[i]
                    H[:, col] = (fun(up)[1][idx] - grad[idx]) / h
                else:
                    H[:, col] = (fun(up)[1][idx] - fun(down)[1][idx]) / (up[i] - down[i])
            H = (H + H.T) / 2.0
        try:
            if np.min(np.linalg.eigvalsh(H)) <= 0:
                break
            step = np.linalg.solve(H, grad[idx])
        except np.linalg.LinAlgError:
            break
        trial = x.copy()
        trial[idx] -= step
        if np.any(trial[diagonal] < 0):
            break
        dev2, grad2 = fun(trial)
        if dev2 > dev + 1e-10 * abs(dev) or np.max(np.abs(grad2[idx])) >= np.max(np.abs(grad[idx])):
            break
        x, dev, grad = trial, dev2, grad2
    return x


def optimise(reml, layout: Layout) -> tuple[np.ndarray, float, bool, str]:
    """theta at the REML optimum, deviance, converged flag and a message."""
    psi_mode = layout.intercepts_only
    k = layout.n_theta
    diagonal = layout.diagonal

    def to_theta(x):
        return np.sqrt(np.maximum(x, 0.0)) if psi_mode else x

    def fun(x):
        try:
            dev, grad, _, _ = reml.evaluate(to_theta(x), psi=psi_mode)
        except (np.linalg.LinAlgError, FloatingPointError):
            return 1e300, np.zeros(k)  # numerically impossible point: the line search backs off
        return dev, grad

    if psi_mode:
        bounds = [(0.0, PSI_MAX)] * k
    else:
        bounds = [(0.0, np.sqrt(PSI_MAX)) if d else (None, None) for d in diagonal]
    # Exact gradients (block backend): every start runs; theta (random slopes) runs the starts
    # to a looser tolerance and refines the best (the tight tolerance's long tail is most of the
    # cost when theta is badly scaled, e.g. slopes per minute). Intercept-only models keep the
    # previous engine's procedure, so the pipeline's numbers stay put.
    # Finite-difference gradients (Schur and sparse backends, crossed designs) cost 2k + 1
    # evaluations each: the starts are compared by their deviance and only the best is run (as
    # lme4 runs one), and the tight tail is left to the Newton steps of _polish, which reach the
    # gradient's precision in a few steps where L-BFGS-B's line search meets rounding noise.
    finite_differences = not reml.exact_derivatives
    two_stage = not (psi_mode and reml.exact_derivatives) and not finite_differences
    options = {**OPTIONS, "ftol": 1e-10} if two_stage or finite_differences else OPTIONS
    starts = [np.where(diagonal, start, 0.0) for start in STARTS]
    if finite_differences:
        values = []
        for x0 in starts:
            try:
                values.append(reml.evaluate(to_theta(x0), gradient=False)[0])
            except (np.linalg.LinAlgError, FloatingPointError):
                values.append(np.inf)
        starts = [starts[int(np.argmin(values))]]
    best = None
    for x0 in starts:
        res = optimize.minimize(
            fun, x0, jac=True, method="L-BFGS-B", bounds=bounds, options=options
        )
        if best is None or res.fun < best.fun - 1e-10:
            best = res
    if two_stage:
        res = optimize.minimize(
            fun, best.x, jac=True, method="L-BFGS-B", bounds=bounds, options=OPTIONS
        )
        if res.fun <= best.fun:
            res.nit += best.nit
            best = res
    x = np.asarray(best.x, dtype=float)
    # settle numerically zero variances exactly on the boundary if the deviance agrees
    tiny = SINGULAR_THETA**2 if psi_mode else SINGULAR_THETA
    for i in np.flatnonzero(diagonal):
        if 0.0 < x[i] < tiny:
            trial = x.copy()
            trial[i] = 0.0
            if reml.evaluate(to_theta(trial), gradient=False)[0] <= best.fun + 1e-10:
                x = trial
    # the first Hessian serves every Newton step when gradients are differences (2k + 1
    # evaluations each); an exact gradient (sparse.EXACT_GRADIENT_Q) makes a fresh one cheap
    exact_gradient = bool(getattr(reml, "exact_gradient", False))
    x = _polish(fun, x, diagonal, reuse_hessian=finite_differences and not exact_gradient)
    dev, grad, _, _ = reml.evaluate(to_theta(x), psi=psi_mode)
    # projected gradient: interior components must be flat, boundary ones must point inwards
    scale = np.maximum(np.abs(x), 1.0)
    at_bound = diagonal & (x <= 0)
    projected = np.where(at_bound, np.maximum(-grad, 0.0), np.abs(grad) * scale)
    # L-BFGS-B often stops with 'ABNORMAL' (line search at machine precision) at the optimum:
    # judge convergence by the projected gradient, and keep the optimiser's message.
    top = PSI_MAX if psi_mode else np.sqrt(PSI_MAX)
    converged = bool(np.all(projected < 1e-4)) and best.nit < 1000 and bool(np.all(np.abs(x) < top))
    message = f"L-BFGS-B: {best.message}; max projected gradient {projected.max():.1e}"
    if np.any(np.abs(x) >= top):
        message += "; a variance ratio reached its upper bound (residual variance near 0?)"
    return to_theta(x), float(dev), converged, message
