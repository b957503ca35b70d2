"""SparseReml, the general path (e.g. crossed factors): M as a scipy sparse matrix factorised by
QDLDL (the `qdldl` package: LDL' with AMD ordering; log|M| = sum log D). Derivatives by finite
differences, as lmerTest takes them.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy import linalg

from .design import Design, sparse_z
from .guard import check_memory
from .params import Layout
from .pls import profiled

# How many evaluations _solve remembers (each a few p x p arrays).
SOLVE_CACHE = 64
# Up to this many random effects a model with random slopes gets the exact gradient from a dense
# M^-1 (q^3 flops: below the 2k evaluations of central differences); above it, differences.
EXACT_GRADIENT_Q = 400


class SparseReml:
    """REML for any random-effect structure (e.g. crossed) with a sparse LDL' factor of M."""

    exact_derivatives = False

    def __init__(self, design: Design, layout: Layout, source: str = "<data>"):
        import qdldl  # the sparse factorisation library; only this backend needs it

        self._qdldl = qdldl
        self._cache: dict[bytes, tuple] = {}
        y, X = design.y, design.X
        self.n, self.p = X.shape
        self.layout = layout
        Z = sparse_z(design.random, self.n)
        ZtZ = (Z.T @ Z).tocsc()
        q = Z.shape[1]
        check_memory(
            8.0 * (20 * ZtZ.nnz + q * (3 * self.p + 8)), "sparse random-effect matrices", source
        )
        self.ZtZ = ZtZ
        self.ZtX = np.asarray(Z.T @ X)
        self.Zty = np.asarray(Z.T @ y).ravel()
        self.XtX = X.T @ X
        self.Xty = X.T @ y
        self.yty = float(y @ y)
        rows, cols, which = [], [], []
        offset, theta_start = 0, 0
        for block in design.random:
            s_j = block.values.shape[1]
            base = offset + np.arange(block.n_levels) * s_j
            k = 0
            for c in range(s_j):
                for r in range(c, s_j):
                    rows.append(base + r)
                    cols.append(base + c)
                    which.append(np.full(block.n_levels, theta_start + k))
                    k += 1
            offset += block.n_levels * s_j
            theta_start += k
        self.lam_rows, self.lam_cols = np.concatenate(rows), np.concatenate(cols)
        self.lam_theta = np.concatenate(which)
        self.q = q
        # small q, theta parameterisation: the gradient exactly, from a dense M^-1
        self.exact_gradient = q <= EXACT_GRADIENT_Q and not layout.intercepts_only
        if self.exact_gradient:
            self._K = ZtZ.toarray()
            self._R0 = np.column_stack([self.ZtX, self.Zty])
            self._entries = [np.flatnonzero(self.lam_theta == a) for a in range(layout.n_theta)]
        # Intercept-only terms: Lambda is diagonal, so M = D Z'Z D + I keeps Z'Z's pattern and is
        # refactorised in place (qdldl's update reuses the ordering and symbolic analysis).
        self.diagonal = layout.intercepts_only
        if self.diagonal:
            upper = sp.triu(ZtZ + sp.identity(q, format="csc"), format="csc")
            upper.sort_indices()
            self._upper = upper
            self._upper_rows = upper.indices
            self._upper_cols = np.repeat(np.arange(q), np.diff(upper.indptr))
            self._upper_base = upper.data - (self._upper_rows == self._upper_cols)  # Z'Z entries
            self._solver = None

    def lam(self, theta: np.ndarray) -> sp.csc_matrix:
        return sp.csc_matrix(
            (theta[self.lam_theta], (self.lam_rows, self.lam_cols)), shape=(self.q, self.q)
        )

    def _factor(self, theta: np.ndarray):
        """LDL' factor of M = Lambda' Z'Z Lambda + I, and Lambda' as a linear map."""
        if self.diagonal:
            lam = theta[self.lam_theta]
            M = self._upper.copy()
            M.data = self._upper_base * lam[self._upper_rows] * lam[self._upper_cols] + (
                self._upper_rows == self._upper_cols
            )
            if self._solver is None:
                self._solver = self._qdldl.Solver(M, upper=True)
            else:
                self._solver.update(M, upper=True)
            return self._solver, (lambda B: lam[:, None] * B if B.ndim == 2 else lam * B)
        Lam = self.lam(theta)
        M = (Lam.T @ self.ZtZ @ Lam + sp.identity(self.q, format="csc")).tocsc()
        solver = self._qdldl.Solver(sp.triu(M, format="csc"), upper=True)
        LamT = Lam.T.tocsr()
        return solver, (lambda B: np.asarray(LamT @ B))

    def _solve(self, theta: np.ndarray):
        """log|M|, X'H^-1X, X'H^-1y, y'H^-1y at theta, remembered for the last few theta: the
        finite differences in (theta, sigma) of lmerTest's Hessian and Jacobian revisit the
        same theta (every step in sigma, and the steps in theta_i that the diagonal and the
        mixed differences share)."""
        key = np.asarray(theta, dtype=float).tobytes()
        if key in self._cache:
            return self._cache[key]
        out = self._compute(theta)
        if len(self._cache) >= SOLVE_CACHE:
            self._cache.pop(next(iter(self._cache)))  # the oldest
        self._cache[key] = out
        return out

    def _compute(self, theta: np.ndarray):
        solver, lam_t = self._factor(theta)
        _, D, _ = solver.factors()
        if not np.all(D > 0):
            raise np.linalg.LinAlgError("M is not positive definite")
        logdet_M = float(np.log(D).sum())
        A = lam_t(self.ZtX)
        b = lam_t(self.Zty).ravel()
        MiA = np.column_stack([solver.solve(A[:, k]) for k in range(self.p)])
        Mib = solver.solve(b)
        XtHX = self.XtX - A.T @ MiA
        XtHy = self.Xty - A.T @ Mib
        ytHy = self.yty - float(b @ Mib)
        return logdet_M, (XtHX + XtHX.T) / 2.0, XtHy, ytHy

    def evaluate(self, theta: np.ndarray, gradient: bool = True, psi: bool = False):
        deviance, beta, r2, _ = profiled(*self._solve(theta), self.n)
        if not gradient:
            return deviance, beta, r2
        if self.exact_gradient and not psi:
            grad = self._gradient(theta, beta, r2)
            # At a diagonal element of 0 the deviance is even in it (only Lambda Lambda'
            # enters), so its derivative there is 0 and says nothing about moving inwards: the
            # one-sided difference below does.
            for i in np.flatnonzero(self.layout.diagonal & (theta < 1e-4 * 1e-2)):
                h = 1e-4 * max(abs(theta[i]), 1e-2)
                up = theta.copy()
                up[i] += h
                grad[i] = (self._dev(up, False) - deviance) / h
            return deviance, grad, beta, r2
        # central differences in the optimiser's parameter; one-sided at the lower bound 0
        x = theta**2 if psi else theta
        grad = np.zeros_like(x)
        for i in range(len(x)):
            h = 1e-4 * max(abs(x[i]), 1e-2)  # the deviance carries ~1e-12 relative rounding noise
            up, down = x.copy(), x.copy()
            up[i] += h
            lower_bound = psi or self.layout.diagonal[i]
            if lower_bound and x[i] - h < 0:
                f0, f1 = deviance, self._dev(up, psi)
                grad[i] = (f1 - f0) / h
                continue
            down[i] -= h
            grad[i] = (self._dev(up, psi) - self._dev(down, psi)) / (2 * h)
        return deviance, grad, beta, r2

    def _gradient(self, theta: np.ndarray, beta: np.ndarray, r2: float) -> np.ndarray:
        """d deviance / d theta_a, with Lambda = sum_a theta_a E_a, Y = Lambda'Z'[X y] and
        G = M^-1 Y: d log|M| = 2 tr(M^-1 Lambda'Z'Z E_a); d(Y'M^-1 Y) = V'E_a G + G'E_a'V with
        V = Z'[X y] - Z'Z Lambda G, which gives d X'H^-1X, d X'H^-1y, d y'H^-1y, hence
        d log|X'H^-1X| and d r2 = d y'H^-1y - 2 beta'd X'H^-1y + beta'd X'H^-1X beta."""
        q, p = self.q, self.p
        Lam = np.zeros((q, q))
        Lam[self.lam_rows, self.lam_cols] = theta[self.lam_theta]
        LtK = Lam.T @ self._K
        factor = linalg.cho_factor(LtK @ Lam + np.eye(q), lower=True)
        G = linalg.cho_solve(factor, Lam.T @ self._R0)
        MiLtK = linalg.cho_solve(factor, LtK)
        V = self._R0 - LtK.T @ G
        Y = Lam.T @ self._R0
        XtHX = self.XtX - Y[:, :p].T @ G[:, :p]
        XtHX_inv = np.linalg.inv((XtHX + XtHX.T) / 2.0)
        grad = np.empty(self.layout.n_theta)
        for a, k in enumerate(self._entries):
            rows, cols = self.lam_rows[k], self.lam_cols[k]
            D = V[rows].T @ G[cols]
            D = D + D.T
            dXX, dXy, dyy = -D[:p, :p], -D[:p, p], -D[p, p]
            d_r2 = dyy - 2.0 * beta @ dXy + beta @ dXX @ beta
            grad[a] = (
                2.0 * MiLtK[cols, rows].sum() + np.sum(XtHX_inv * dXX) + (self.n - p) * d_r2 / r2
            )
        return grad

    def _dev(self, x, psi):
        theta = np.sqrt(np.maximum(x, 0.0)) if psi else x
        return profiled(*self._solve(theta), self.n)[0]

    def deviance_vp(self, vp: np.ndarray) -> float:
        """REML deviance (not profiled) in lmerTest's parameters (theta, sigma)."""
        logdet_M, XtHX, XtHy, ytHy = self._solve(vp[:-1])
        sigma2 = vp[-1] ** 2
        cX = linalg.cho_factor(XtHX, lower=True)
        beta = linalg.cho_solve(cX, XtHy)
        r2 = float(ytHy - XtHy @ beta)
        return float(
            logdet_M
            + 2.0 * np.log(np.diag(cX[0])).sum()
            + (self.n - self.p) * np.log(2 * np.pi * sigma2)
            + r2 / sigma2
        )

    def vcov_beta_vp(self, vp: np.ndarray) -> np.ndarray:
        _, XtHX, _, _ = self._solve(vp[:-1])
        return vp[-1] ** 2 * linalg.inv(XtHX)
