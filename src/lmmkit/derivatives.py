"""Finite-difference derivatives with Richardson extrapolation (as numDeriv, which lmerTest uses),
for the sparse backend where exact derivatives would need a selected inverse of M."""

from __future__ import annotations

import numpy as np

STEPS = 3  # successive halvings of the step (numDeriv: 4)


def _steps(x: np.ndarray) -> np.ndarray:
    """Relative steps of 3e-2 (numDeriv: 1e-4): the deviance carries rounding noise of ~1e-12
    relative, which second differences with smaller steps amplify; Richardson removes the
    truncation error of the larger step."""
    return np.where(np.abs(x) < 1e-2, 3e-4, 3e-2 * np.abs(x))


def _richardson(values: list) -> object:
    """Extrapolate central differences taken with steps h, h/2, h/4, ... (error O(h^2))."""
    table = list(values)
    for m in range(1, len(table)):
        factor = 4.0**m
        table = [(factor * table[k + 1] - table[k]) / (factor - 1.0) for k in range(len(table) - 1)]
    return table[0]


def numeric_hessian(f, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    k = len(x)
    h0 = _steps(x)
    f0 = f(x)
    H = np.zeros((k, k))
    for i in range(k):
        for j in range(i, k):
            estimates = []
            for level in range(STEPS):
                hi, hj = h0[i] / 2**level, h0[j] / 2**level
                ei, ej = np.eye(k)[i] * hi, np.eye(k)[j] * hj
                if i == j:
                    estimates.append((f(x + ei) - 2.0 * f0 + f(x - ei)) / hi**2)
                else:
                    estimates.append(
                        (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej))
                        / (4 * hi * hj)
                    )
            H[i, j] = H[j, i] = _richardson(estimates)
    return H


def numeric_jacobian(f, x: np.ndarray) -> np.ndarray:
    """d f / d x_i stacked on the first axis (f returns an array)."""
    x = np.asarray(x, dtype=float)
    h0 = _steps(x)
    out = []
    for i in range(len(x)):
        estimates = []
        for level in range(STEPS):
            e = np.eye(len(x))[i] * (h0[i] / 2**level)
            estimates.append((f(x + e) - f(x - e)) / (2 * e[i]))
        out.append(_richardson(estimates))
    return np.array(out)
