"""Profiled REML deviance in lme4's formulation (Bates et al. 2015, J Stat Softw 67(1)).

With relative covariance factor Lambda(theta), M = Lambda' Z'Z Lambda + I and its Cholesky
factor L: log|V / sigma^2| = log|M|, and X'H^-1 X, X'H^-1 y, y'H^-1 y follow from L^-1 Lambda' Z'X
and L^-1 Lambda' Z'y (H = V / sigma^2). Only the sufficient statistics Z'Z, Z'X, Z'y, X'X, X'y,
y'y enter an evaluation, so after they are formed the cost does not depend on n.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg


def profiled(logdet_M: float, XtHX: np.ndarray, XtHy: np.ndarray, ytHy: float, n: int):
    """Deviance, beta, r2 and the factor of X'H^-1 X (shared by both backends)."""
    cX = linalg.cho_factor(XtHX, lower=True)
    beta = linalg.cho_solve(cX, XtHy)
    r2 = float(ytHy - XtHy @ beta)
    if not r2 > 0:
        raise FloatingPointError("residual sum of squares is not positive")
    dof = n - XtHX.shape[0]
    deviance = (
        logdet_M + 2.0 * np.log(np.diag(cX[0])).sum() + dof * (1.0 + np.log(2.0 * np.pi * r2 / dof))
    )
    return deviance, beta, r2, cX
