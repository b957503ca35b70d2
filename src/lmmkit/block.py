"""BlockReml, the fast path: every grouping is nested in one factor (e.g. participant, with
participant:condition and random slopes). Z'Z and M are then block diagonal by that factor's
levels, and each block is at most a few coefficients wide, so M is factorised by numpy's batched
dense Cholesky on a (groups, b, b) array (blocks padded to the widest with identity rows, which
add 0 to log|M|). Cost and memory are linear in the number of groups. The gradient and the exact
derivatives for Satterthwaite / Kenward-Roger need blocks of M^-1 only, never an n x n matrix.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy import linalg

from .design import Design
from .guard import check_memory
from .params import Layout
from .pls import profiled


def _nesting_factor(design: Design) -> int | None:
    """Index of the random term whose grouping contains every other grouping, if any."""
    order = sorted(range(len(design.random)), key=lambda j: design.random[j].n_levels)
    for top in order:
        codes_top = design.random[top].codes
        ok = True
        for block in design.random:
            parent = np.full(block.n_levels, -1)
            parent[block.codes] = codes_top
            if not np.array_equal(parent[block.codes], codes_top):
                ok = False
                break
        if ok:
            return top
    return None


def block_width(design: Design) -> int:
    """Random-effect columns of the largest group of the nesting factor: the side of the dense
    matrix the block backend factorises per group (participants nested in a site: all of the
    site's participants)."""
    top = design.random[_nesting_factor(design)]
    width = np.zeros(top.n_levels, dtype=np.int64)
    for block in design.random:
        parent = np.zeros(block.n_levels, dtype=np.int64)
        parent[block.codes] = top.codes
        width += np.bincount(parent, minlength=top.n_levels) * block.values.shape[1]
    return int(width.max())


def _bmm(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """A @ B for stacks of tiny matrices: numpy's matmul runs a small product per group, slower
    (~3x for 2 x 2) than a few broadcast multiply-adds over all groups at once."""
    if A.shape[-1] > 8 or B.shape[-1] > 8:
        return A @ B
    out = A[..., :, 0, None] * B[..., None, 0, :]
    for k in range(1, A.shape[-1]):
        out += A[..., :, k, None] * B[..., None, k, :]
    return out


def _bmv(A: np.ndarray, v: np.ndarray) -> np.ndarray:
    """A @ v for a stack of tiny matrices and vectors."""
    return np.einsum("gab,gb->ga", A, v) if A.shape[-1] > 8 else (A * v[:, None, :]).sum(axis=-1)


class BlockReml:
    """REML for groupings nested in one factor: batched dense algebra on per-group blocks."""

    exact_derivatives = True

    @classmethod
    def applies(cls, design: Design) -> bool:
        return _nesting_factor(design) is not None

    def __init__(self, design: Design, layout: Layout, source: str = "<data>"):
        y, X = design.y, design.X
        self.n, self.p = X.shape
        self.layout = layout
        top = design.random[_nesting_factor(design)]
        G = top.n_levels
        # position of each term's level inside its group's block
        positions, width = [], np.zeros(G, dtype=np.int64)
        for block in design.random:
            parent = np.zeros(block.n_levels, dtype=np.int64)
            parent[block.codes] = top.codes
            order = np.lexsort((np.arange(block.n_levels), parent))
            first = np.searchsorted(parent[order], np.arange(G))
            rank = np.empty(block.n_levels, dtype=np.int64)
            rank[order] = np.arange(block.n_levels) - first[parent[order]]
            s_j = block.values.shape[1]
            positions.append((parent, width[parent] + rank * s_j))
            width += np.bincount(parent, minlength=G) * s_j
        s = int(width.max())
        self.G, self.s = G, s
        n_phi = len(layout.phi_term)
        check_memory(
            8.0 * G * s * (s * (14 + n_phi) + 6 * self.p) + 8.0 * self.n * 3 * sum(layout.sizes),
            "per-group blocks",
            source,
        )
        rows, cols, vals, lam_flat, lam_theta, phi_flat, phi_id = [], [], [], [], [], [], []
        theta_start = np.concatenate([[0], np.cumsum([sz * (sz + 1) // 2 for sz in layout.sizes])])
        phi_start = theta_start  # same lower-triangle order
        for j, (block, (parent, pos)) in enumerate(zip(design.random, positions)):
            s_j = block.values.shape[1]
            base = parent * s + pos  # column of coefficient 0 of each level
            for r in range(s_j):
                rows.append(np.arange(self.n))
                cols.append(base[block.codes] + r)
                vals.append(block.values[:, r])
            k = 0
            for c in range(s_j):
                for r in range(c, s_j):
                    a, b = pos + r, pos + c
                    lam_flat.append(parent * s * s + a * s + b)
                    lam_theta.append(np.full(block.n_levels, theta_start[j] + k))
                    phi_flat.append(parent * s * s + a * s + b)
                    phi_id.append(np.full(block.n_levels, phi_start[j] + k))
                    if r != c:
                        phi_flat.append(parent * s * s + b * s + a)
                        phi_id.append(np.full(block.n_levels, phi_start[j] + k))
                    k += 1
        Z = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(self.n, G * s),
        )
        ZtZ = (Z.T @ Z).tocoo()
        self.ZtZ = np.zeros((G, s, s))
        self.ZtZ[ZtZ.row // s, ZtZ.row % s, ZtZ.col % s] = ZtZ.data
        self.ZtX = np.asarray(Z.T @ X).reshape(G, s, self.p)
        self.Zty = np.asarray(Z.T @ y).reshape(G, s)
        self.XtX = X.T @ X
        self.Xty = X.T @ y
        self.yty = float(y @ y)
        self.lam_flat = np.concatenate(lam_flat)
        self.lam_theta = np.concatenate(lam_theta)
        self.phi_flat = np.concatenate(phi_flat)
        self.phi_id = np.concatenate(phi_id)
        self.eye = np.eye(s)

    def lam(self, theta: np.ndarray) -> np.ndarray:
        out = np.zeros(self.G * self.s * self.s)
        out[self.lam_flat] = theta[self.lam_theta]
        return out.reshape(self.G, self.s, self.s)

    def _solve(self, theta: np.ndarray):
        Lam = self.lam(theta)
        ZL = _bmm(self.ZtZ, Lam)  # Z'Z Lambda
        M = _bmm(Lam.transpose(0, 2, 1), ZL) + self.eye
        Lc = np.linalg.cholesky(M)
        logdet_M = 2.0 * np.log(np.diagonal(Lc, axis1=1, axis2=2)).sum()
        Li = np.linalg.inv(Lc)
        LiLt = _bmm(Li, Lam.transpose(0, 2, 1))  # L^-1 Lambda'
        RZX = LiLt @ self.ZtX
        rzy = _bmv(LiLt, self.Zty)
        flat = RZX.reshape(-1, self.p)  # one BLAS product rather than G small ones
        XtHX = self.XtX - flat.T @ flat
        XtHy = self.Xty - flat.T @ rzy.reshape(-1)
        ytHy = self.yty - float(rzy.reshape(-1) @ rzy.reshape(-1))
        return (Lam, ZL, Li, RZX, rzy), logdet_M, XtHX, XtHy, ytHy

    def evaluate(self, theta: np.ndarray, gradient: bool = True, psi: bool = False):
        """Deviance (and its gradient in theta, or in psi = theta^2 if `psi`); theta >= 0 given."""
        factors, logdet_M, XtHX, XtHy, ytHy = self._solve(theta)
        deviance, beta, r2, cX = profiled(logdet_M, XtHX, XtHy, ytHy, self.n)
        if not gradient:
            return deviance, beta, r2
        parts = self._h_parts(factors, cX, beta)
        S, u = parts["S"], parts["u"]
        dof = self.n - self.p
        if psi:  # d/dpsi_k = tr(Z_k' P_H Z_k) - (n-p)/r2 |Z_k' P_H y|^2 (previous engine's formula)
            diag = (np.diagonal(S, axis1=1, axis2=2) - dof / r2 * u * u).reshape(-1)
            values = diag[self.lam_flat // self.s]
        else:  # d Lambda Lambda' / d theta_i = E_i Lambda' + Lambda E_i'
            Lam = factors[0]
            Ltu = _bmv(Lam.transpose(0, 2, 1), u)
            values = 2.0 * (_bmm(S, Lam) - dof / r2 * u[:, :, None] * Ltu[:, None, :])
            values = values.reshape(-1)[self.lam_flat]
        grad = np.bincount(self.lam_theta, weights=values, minlength=len(theta))
        return deviance, grad, beta, r2

    def _h_parts(self, factors, cX, beta) -> dict:
        """Blocks of Z'H^-1 Z and Z'P_H Z, Z'H^-1 X and Z'P_H y (H = V / sigma^2), from
        Q = Z'Z Lambda L^-T: Z'H^-1 Z = Z'Z - Q Q', Z'H^-1 X = Z'X - Q R_ZX."""
        Lam, ZL, Li, RZX, rzy = factors
        Q = _bmm(ZL, Li.transpose(0, 2, 1))
        ZtHZ = self.ZtZ - _bmm(Q, Q.transpose(0, 2, 1))
        ZtHX = self.ZtX - Q @ RZX
        C = linalg.cho_solve(cX, np.eye(self.p))
        S = ZtHZ - (ZtHX.reshape(-1, self.p) @ C).reshape(ZtHX.shape) @ ZtHX.transpose(0, 2, 1)
        Zte = self.Zty - (self.ZtX.reshape(-1, self.p) @ beta).reshape(self.G, self.s)
        u = Zte - _bmv(Q, rzy - (RZX.reshape(-1, self.p) @ beta).reshape(self.G, self.s))
        return {"ZtHZ": ZtHZ, "ZtHX": ZtHX, "C": C, "S": S, "u": u}

    def pattern(self, a: int) -> np.ndarray:
        """A_a, the (groups, b, b) 0/1 pattern of variance parameter a in Z'Z's blocks."""
        out = np.zeros(self.G * self.s * self.s)
        out[self.phi_flat[self.phi_id == a]] = 1.0
        return out.reshape(self.G, self.s, self.s)

    def derivatives(self, theta: np.ndarray, kenward_roger: bool) -> dict:
        """Exact first and second derivatives of the REML deviance in phi, and the Kenward-Roger
        matrices, from blocks only: P = V^-1 - V^-1 X C X' V^-1 enters through
        Z'PZ = Q - U C U' with Q = Z'V^-1 Z (block diagonal) and U = Z'V^-1 X. The residual's
        G_e = I is never formed: V = sum_a phi_a G_a + phi_e I and P V P = P give its terms from
        the others."""
        factors, logdet_M, XtHX, XtHy, ytHy = self._solve(theta)
        _, beta, r2, cX = profiled(logdet_M, XtHX, XtHy, ytHy, self.n)
        parts = self._h_parts(factors, cX, beta)
        n, p = self.n, self.p
        s2 = r2 / (n - p)
        Q = parts["ZtHZ"] / s2
        U = parts["ZtHX"] / s2
        C = s2 * parts["C"]
        w = parts["u"] / s2
        S = Q - np.einsum("gap,pq,gbq->gab", U, C, U)
        phi = self.layout.phi(theta, s2)
        m = len(phi)
        A = [self.pattern(a) for a in range(m - 1)]
        AU = [a @ U for a in A]
        Aw = [(a @ w[..., None])[..., 0] for a in A]
        QA = [Q @ a for a in A]
        K = np.array([np.einsum("gsp,gsq->pq", U, au) for au in AU] + [np.zeros((p, p))])
        tr = np.zeros(m)
        ypp = np.zeros(m)
        tt = np.zeros((m, m))
        yy = np.zeros((m, m))
        Qab = np.zeros((m, m, p, p))
        for a in range(m - 1):
            tr[a] = np.sum(S * A[a])
            ypp[a] = np.sum(w * Aw[a])
            for b in range(a, m - 1):
                inner = np.einsum("gsp,gst,gtq->pq", AU[a], Q, AU[b])  # U'A_a Q A_b U
                Qab[a, b], Qab[b, a] = inner, inner.T
                t1 = np.sum(QA[a] * QA[b].transpose(0, 2, 1))
                tt[a, b] = tt[b, a] = (
                    t1 - 2.0 * np.sum(C * inner) + np.sum((C @ K[a]) * (C @ K[b]).T)
                )
                wUa, wUb = np.einsum("gs,gsp->p", Aw[a], U), np.einsum("gs,gsp->p", Aw[b], U)
                yy[a, b] = yy[b, a] = np.einsum("gs,gst,gt->", Aw[a], Q, Aw[b]) - wUa @ C @ wUb
        # residual (index m-1) from homogeneity: sum_a phi_a G_a + phi_e I = V, and P V P = P
        e, pe = m - 1, phi[-1]
        fr = phi[:-1]
        tr[e] = (n - p - fr @ tr[:-1]) / pe
        ypp[e] = (r2 / s2 - fr @ ypp[:-1]) / pe
        for a in range(m - 1):
            tt[a, e] = tt[e, a] = (tr[a] - fr @ tt[a, :-1]) / pe
            yy[a, e] = yy[e, a] = (ypp[a] - fr @ yy[a, :-1]) / pe
        tt[e, e] = (tr[e] - fr @ tt[e, :-1]) / pe
        yy[e, e] = (ypp[e] - fr @ yy[e, :-1]) / pe
        XtViX = linalg.cho_solve(linalg.cho_factor(C), np.eye(p))
        K[e] = (XtViX - np.einsum("a,apq->pq", fr, K[:-1])) / pe  # X'V^-2 X
        out = {
            "beta": beta,
            "vcov_beta": (C + C.T) / 2.0,
            "phi": phi,
            "sigma2": s2,
            "grad_phi": tr - ypp,
            "trPGPG": tt,
            "hess_phi": -tt + 2.0 * yy,
            "XtViGViX": K,
        }
        if kenward_roger:
            for a in range(m - 1):  # Q_ae = X'V^-1 G_a V^-2 X
                Qab[a, e] = (K[a] - np.einsum("b,bpq->pq", fr, Qab[a, :-1])) / pe
                Qab[e, a] = Qab[a, e].T
            Qab[e, e] = (K[e] - np.einsum("b,bpq->pq", fr, Qab[:-1, e])) / pe
            out["Q"] = Qab
        return out
