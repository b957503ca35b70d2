"""Type III hypotheses of the fixed-effect terms, as lmerTest builds them.

Hierarchical models (every factor of a term coded by contrasts): lmerTest's contrasts reduce to
treatment contrasts (level j - level 1) of each factor mapped to the model's coding, which is
`simple_basis`. When a factor is coded by indicators because its marginal term is absent (e.g.
``condition + condition:time``), lmerTest's general algorithm is needed (get_contrasts_type3 /
extract_contrasts_type3 in lmerTest 3.1): estimable functions of the full cell-means design in
treatment coding, orthogonalised against the terms that contain each term, mapped to the
model's coding. `general_basis` follows that definition (the F value of a term does not depend
on the basis of its hypothesis, but which hypothesis is tested does in such models). It is also
the one for a rank-deficient design (e.g. an empty interaction cell): as lmerTest, the treatment-
coded design loses its aliased columns by the same QR rule as the model's, the empty cells give
zero rows, and a term none of whose columns is estimable has no hypothesis (0 rows).
"""

from __future__ import annotations

import numpy as np

from .design import Design, independent_columns, term_label


def simple_basis(term: tuple[str, ...], codings: tuple, variables: dict) -> np.ndarray:
    """Rows of a term's hypothesis in the basis lmerTest uses (model with contrast codings)."""
    block = np.ones((1, 1))
    for name, matrix in zip(term, codings):
        var = variables[name]
        if matrix is None:
            T = np.ones((1, 1))
        else:
            k = len(var.levels)
            T = np.hstack([-np.ones((k - 1, 1)), np.eye(k - 1)]) @ matrix
        block = np.kron(T, block)  # first variable fastest
    return block


def _zapsmall(x: np.ndarray, digits: int = 7) -> np.ndarray:
    """R's zapsmall: round to `digits` significant digits of the largest entry."""
    mx = np.max(np.abs(x)) if x.size else 0.0
    if not mx > 0:
        return x
    return np.round(x, max(0, digits - int(np.ceil(np.log10(mx)))))


def _term_matrix(term, matrices, design: Design) -> np.ndarray:
    n = design.X.shape[0]
    block = np.ones((n, 1))
    for name, matrix in zip(term, matrices):
        other = (
            design.numeric_values[name][:, None]
            if matrix is None
            else matrix[design.factor_codes[name]]
        )
        block = np.einsum("ni,nj->nji", block, other).reshape(n, -1)
    return block


def _treatment_and_cell_designs(
    terms: list[tuple[str, ...]], design: Design
) -> tuple[list[np.ndarray], list[np.ndarray], list[int], dict[str, set]]:
    """Per term (intercept first) its columns in treatment coding and in the full cell-means
    coding (indicators of every level), the rows of the cell-means design that are coefficients
    of the treatment-coded X, and per term the variables it is a contrast of (numeric, or a
    factor coded by contrasts)."""
    variables = design.variables
    n = design.X.shape[0]
    treatment, full, keep_rows, contrast_vars = [np.ones((n, 1))], [np.ones((n, 1))], [0], {}
    offset = 1
    for term in terms:
        label = term_label(term)
        codings = design.term_codings[label]
        trt, ind, grids = [], [], []
        for name, matrix in zip(term, codings):
            if matrix is None:
                trt.append(None)
                ind.append(None)
                grids.append(np.array([0]))
                continue
            k = len(variables[name].levels)
            ind.append(np.eye(k))
            if matrix.shape[1] == k:  # indicator-coded in the model: all levels
                trt.append(np.eye(k))
                grids.append(np.arange(k))
            else:
                trt.append(np.eye(k)[:, 1:])  # contr.treatment
                grids.append(np.arange(1, k))
        treatment.append(_term_matrix(term, trt, design))
        full.append(_term_matrix(term, ind, design))
        sizes = [1 if m is None else m.shape[1] for m in ind]
        strides = np.cumprod([1, *sizes[:-1]])  # first variable fastest
        index = np.zeros(1, dtype=int)
        for grid, stride in zip(grids, strides):
            index = (index[None, :] + grid[:, None] * stride).ravel()
        keep_rows.extend(offset + index)
        offset += int(np.prod(sizes))
        contrast_vars[label] = {
            name
            for name, m in zip(term, codings)
            if m is None or m.shape[1] != len(variables[name].levels)
        }
    return treatment, full, keep_rows, contrast_vars


def general_basis(terms: list[tuple[str, ...]], design: Design) -> dict[str, np.ndarray]:
    """Hypothesis matrix (rows x p, in the model's coding) of each term, lmerTest's algorithm."""
    variables = design.variables
    Xorig = design.X
    p = Xorig.shape[1]
    treatment, full, keep_rows, contrast_vars = _treatment_and_cell_designs(terms, design)
    X = np.column_stack(treatment)
    # lmerTest's ensure_full_rank: the treatment-coded design without its aliased columns
    kept = independent_columns(X)
    position = {int(c): k for k, c in enumerate(kept)}
    X = X[:, kept]
    rdX = np.column_stack(full)
    XtX = X.T @ X
    L = _zapsmall(np.linalg.solve(XtX, X.T @ rdX).T)  # estimable functions, rows: cells
    cols, start = {}, 1
    for term in terms:
        width = treatment[len(cols) + 1].shape[1]
        cols[term_label(term)] = [position[c] for c in range(start, start + width) if c in position]
        start += width
    numeric = {
        label: {v for v in vs if variables[v].levels is None} for label, vs in contrast_vars.items()
    }

    def contains(a: str, b: str) -> bool:
        return (
            contrast_vars[a] <= contrast_vars[b]
            and bool(contrast_vars[b] - contrast_vars[a])
            and numeric[a] == numeric[b]
        )

    labels = [term_label(t) for t in terms]
    order = [labels[i] for i in sorted(range(len(terms)), key=lambda i: len(terms[i]))][::-1]
    for label in order:
        containing = [other for other in labels if contains(label, other)]
        A = L[:, [c for other in containing for c in cols[other]]]
        B = L[:, cols[label]]
        if A.size and B.size:
            coef, *_ = np.linalg.lstsq(A, B, rcond=None)
            L[:, cols[label]] = _zapsmall(B - A @ coef)
    L = L[np.array(keep_rows)[kept]]  # rows: the coefficients of the treatment-coded X
    mapping = _zapsmall(np.linalg.solve(XtX, X.T @ Xorig))
    out = {}
    for label in labels:
        rows = L[:, cols[label]].T
        rows = rows[np.abs(rows).sum(axis=1) > 1e-8].reshape(-1, X.shape[1])
        out[label] = rows @ mapping
    assert all(v.shape[1] == p for v in out.values())
    return out
