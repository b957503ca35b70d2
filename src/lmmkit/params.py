"""Parameters of the random-effect covariances: lme4's theta (relative Cholesky factors) and the
variance parameters phi (entries of each covariance matrix, then the residual variance)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .formula import RandomTerm


@dataclass(frozen=True)
class Layout:
    """theta: per term the lower triangle of T_j, column by column (lme4's order); Sigma_j =
    sigma^2 T_j T_j'. phi: per term the lower-triangle entries (r >= c) of Sigma_j, then sigma^2."""

    sizes: tuple[int, ...]
    theta_term: np.ndarray  # term of each theta
    theta_rc: np.ndarray  # (n_theta, 2) row, column in T_j
    phi_term: np.ndarray
    phi_rc: np.ndarray  # (n_phi - 1, 2), residual not included

    @classmethod
    def of(cls, terms: list[RandomTerm]) -> Layout:
        sizes = tuple(term.size for term in terms)
        t_term, t_rc = [], []
        for j, s in enumerate(sizes):
            for c in range(s):
                for r in range(c, s):
                    t_term.append(j)
                    t_rc.append((r, c))
        rc = np.array(t_rc, dtype=int).reshape(-1, 2)
        return cls(sizes, np.array(t_term, dtype=int), rc, np.array(t_term, dtype=int), rc.copy())

    @property
    def n_theta(self) -> int:
        return len(self.theta_term)

    @property
    def intercepts_only(self) -> bool:
        """Every term is a single coefficient: optimise psi = theta^2 as the previous engine did."""
        return all(s == 1 for s in self.sizes)

    @property
    def diagonal(self) -> np.ndarray:
        return self.theta_rc[:, 0] == self.theta_rc[:, 1]

    def factors(self, theta: np.ndarray) -> list[np.ndarray]:
        """T_j for each term."""
        out = [np.zeros((s, s)) for s in self.sizes]
        for value, j, (r, c) in zip(theta, self.theta_term, self.theta_rc):
            out[j][r, c] = value
        return out

    def phi(self, theta: np.ndarray, sigma2: float) -> np.ndarray:
        T = self.factors(theta)
        cov = [sigma2 * t @ t.T for t in T]
        return np.array([*(cov[j][r, c] for j, (r, c) in zip(self.phi_term, self.phi_rc)), sigma2])

    def chain(self, theta: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
        """J[a, i] = d phi_a / d vp_i and second[a] = Hessian of phi_a in vp = (theta, sigma)."""
        T = self.factors(theta)
        m, k = len(self.phi_term) + 1, self.n_theta + 1
        J = np.zeros((m, k))
        second = np.zeros((m, k, k))
        units = []
        for j, (r, c) in zip(self.theta_term, self.theta_rc):
            E = np.zeros((self.sizes[j], self.sizes[j]))
            E[r, c] = 1.0
            units.append(E)
        s2 = sigma**2
        for a, (j, (r, c)) in enumerate(zip(self.phi_term, self.phi_rc)):
            TT = T[j] @ T[j].T
            J[a, -1] = 2.0 * sigma * TT[r, c]
            second[a, -1, -1] = 2.0 * TT[r, c]
            mine = np.flatnonzero(self.theta_term == j)
            for i in mine:
                dTT = units[i] @ T[j].T + T[j] @ units[i].T
                J[a, i] = s2 * dTT[r, c]
                second[a, i, -1] = second[a, -1, i] = 2.0 * sigma * dTT[r, c]
                for k2 in mine:
                    second[a, i, k2] = s2 * (units[i] @ units[k2].T + units[k2] @ units[i].T)[r, c]
        J[-1, -1] = 2.0 * sigma
        second[-1, -1, -1] = 2.0
        return J, second
