"""SchurReml, the path for crossed (non-nested) groupings where all terms but the largest are
small, e.g. 2,972 students crossed with 1,128 lecturers, or subjects crossed with items.

M = Lambda'Z'Z Lambda + I is split by the largest random term (1) against the others (2):
M11 is block diagonal (one s x s block per level of term 1, s its coefficients, since every row
has one level of it), M22 is small. With L11 the blockwise Cholesky factor of M11,
W = L11^-1 M12 and L22 the dense Cholesky factor of the Schur complement S = M22 - W'W,

    L = [[L11, 0], [W', L22]],  L L' = M,  log|M| = log|M11| + log|S|,

which is what a sparse Cholesky with a fill-reducing ordering (CHOLMOD in lme4) does when it
eliminates the many levels of term 1 first: their blocks do not fill, and the fill goes to the
dense q2 x q2 block, factorised by LAPACK. The profiled criterion needs only L^-1 applied to
Lambda'Z'X and Lambda'Z'y (forward substitution). W is a sparse matrix when q1 x q2 is large, a
dense array when small (no sparse-matrix overhead per evaluation).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy import linalg

from .design import Design
from .guard import check_memory
from .params import Layout
from .sparse import SparseReml

# Largest q2 (random effects outside the largest term) factorised densely: S and Z2'Z2 take
# 2 x 8 q2^2 bytes (4,000: 256 MB); above it the general sparse LDL' is used.
MAX_DENSE_REST = 4000
# Below this many entries of M12 (q1 x q2) W is kept dense: a sparse product costs more per
# call than the arithmetic it saves on a small design.
DENSE_CROSS = 200_000


def _block_diagonal(blocks: np.ndarray) -> sp.spmatrix:
    """A (G, s, s) stack as a sparse block-diagonal matrix."""
    G, s, _ = blocks.shape
    if s == 1:
        return sp.diags(blocks[:, 0, 0], format="csr")
    return sp.bsr_matrix((blocks, np.arange(G), np.arange(G + 1)), shape=(G * s, G * s)).tocsr()


class SchurReml(SparseReml):
    """REML by the Schur complement of the largest random term (see the module docstring)."""

    @classmethod
    def applies(cls, design: Design) -> bool:
        """Two or more random terms and the ones outside the largest small enough to be dense."""
        if len(design.random) < 2:
            return False
        q = [block.n_levels * block.values.shape[1] for block in design.random]
        return sum(q) - max(q) <= MAX_DENSE_REST

    def __init__(self, design: Design, layout: Layout, source: str = "<data>"):
        super().__init__(design, layout, source)
        q = [block.n_levels * block.values.shape[1] for block in design.random]
        big = int(np.argmax(q))
        starts = np.concatenate([[0], np.cumsum(q)])
        first = np.arange(starts[big], starts[big + 1])
        rest = np.setdiff1d(np.arange(self.q), first)
        self.big, self.G, self.s = big, design.random[big].n_levels, layout.sizes[big]
        q1, q2 = first.size, rest.size
        check_memory(8.0 * (4 * q2 * q2 + 2 * q1 * q2), "the Schur complement of M", source)
        ZtZ = self.ZtZ.tocsr()
        diag = ZtZ[first][:, first].tocsr()
        # Z1'Z1 blocks: level g's s x s block starts at row/column g * s
        K1 = np.zeros((self.G, self.s, self.s))
        for r in range(self.s):
            for c in range(self.s):
                K1[:, r, c] = diag[
                    np.arange(self.G) * self.s + r, np.arange(self.G) * self.s + c
                ].A1
        self.K1 = K1
        cross = ZtZ[first][:, rest]
        self.dense_cross = q1 * q2 <= DENSE_CROSS
        self.C = cross.toarray() if self.dense_cross else cross.tocsr()
        self.K2 = ZtZ[rest][:, rest].toarray()
        # Z'[X y] of each part, stacked once
        self.R1 = np.column_stack([self.ZtX[first], self.Zty[first]]).reshape(self.G, self.s, -1)
        self.R2 = np.column_stack([self.ZtX[rest], self.Zty[rest]])
        self.I1, self.I2 = np.eye(self.s), np.eye(q2)
        # Lambda2: the entries of Lambda within the rest, as (row, column, theta index)
        position = np.full(self.q, -1)
        position[rest] = np.arange(q2)
        inside = position[self.lam_rows] >= 0
        self.lam2 = (position[self.lam_rows[inside]], position[self.lam_cols[inside]])
        self.lam2_theta = self.lam_theta[inside]
        self.q2 = q2

    def _compute(self, theta: np.ndarray):
        T1 = self.layout.factors(theta)[self.big]
        # M11 blocks T1' K1_g T1 + I, their Cholesky factors and B_g = L11_g^-1 T1'
        M11 = T1.T @ self.K1 @ T1 + self.I1
        L11 = np.linalg.cholesky(M11)  # raises LinAlgError if not positive definite
        logdet = 2.0 * float(np.log(np.einsum("gii->gi", L11)).sum())
        B = np.linalg.solve(L11, np.broadcast_to(T1.T, L11.shape))
        if self.dense_cross:
            Lam2 = np.zeros((self.q2, self.q2))
            Lam2[self.lam2] = theta[self.lam2_theta]
            W = (B @ self.C.reshape(self.G, self.s, self.q2)).reshape(-1, self.q2) @ Lam2
            WtW = W.T @ W
            M22 = Lam2.T @ self.K2 @ Lam2
        else:  # Lambda2 is block diagonal: sparse products, never a dense q2^3 one
            Lam2 = sp.csr_matrix((theta[self.lam2_theta], self.lam2), shape=(self.q2, self.q2))
            W = (_block_diagonal(B) @ self.C @ Lam2).tocsr()
            WtW = (W.T @ W).toarray()
            LtK = np.asarray(Lam2.T @ self.K2)
            M22 = np.asarray(Lam2.T @ LtK.T).T
        S = M22 + self.I2 - WtW
        L22 = linalg.cholesky(S, lower=True, check_finite=False)
        logdet += 2.0 * float(np.log(np.diag(L22)).sum())

        # forward substitution of [Lambda'Z'X, Lambda'Z'y]
        F1 = (B @ self.R1).reshape(self.G * self.s, -1)
        R2 = np.asarray(Lam2.T @ self.R2)
        F2 = linalg.solve_triangular(L22, R2 - W.T @ F1, lower=True, check_finite=False)
        F = np.vstack([F1, F2])
        FA, Fb = F[:, : self.p], F[:, self.p]
        XtHX = self.XtX - FA.T @ FA
        XtHy = self.Xty - FA.T @ Fb
        ytHy = self.yty - float(Fb @ Fb)
        return logdet, (XtHX + XtHX.T) / 2.0, XtHy, ytHy
