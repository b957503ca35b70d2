"""The Schur-complement backend (crossed designs) against the general sparse LDL' backend: the
same profiled REML quantities at any theta, with W dense (small designs) or sparse."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lmmkit import schur
from lmmkit.__main__ import read_data
from lmmkit.design import build_design
from lmmkit.formula import parse_formula
from lmmkit.params import Layout
from lmmkit.reml import SchurReml, SparseReml, make_reml

DATA = Path(__file__).parents[1] / "fixtures" / "lmmkit" / "crossed_slope.tsv"


@pytest.mark.parametrize(
    "formula",
    [
        "y ~ x + (1 + x | subject) + (1 | item)",
        "y ~ x + (1 | item) + (1 + x | subject)",
        "y ~ x + (1 | subject) + (1 + x | item)",
        "y ~ x + (1 | subject) + (1 | item)",
    ],
)
@pytest.mark.parametrize("dense_cross", [True, False])
def test_schur_backend_equals_the_sparse_factor(monkeypatch, formula, dense_cross):
    monkeypatch.setattr(schur, "DENSE_CROSS", 10**9 if dense_cross else 0)
    design = build_design(read_data(str(DATA), [], []), parse_formula(formula), None, "x")
    layout = Layout.of([block.term for block in design.random])
    general, split = SparseReml(design, layout), SchurReml(design, layout)
    assert split.dense_cross == dense_cross
    assert isinstance(make_reml(design, layout, "x"), SchurReml)
    rng = np.random.default_rng(3)
    for _ in range(3):
        theta = np.where(
            layout.diagonal, rng.uniform(0.05, 2.0, layout.n_theta), rng.normal(size=layout.n_theta)
        )
        a, b = general._solve(theta), split._solve(theta)
        assert b[0] == pytest.approx(a[0], rel=1e-12)
        np.testing.assert_allclose(b[1], a[1], rtol=1e-10)
        np.testing.assert_allclose(b[2], a[2], rtol=1e-10)
        assert b[3] == pytest.approx(a[3], rel=1e-12)


def test_schur_backend_is_not_used_when_the_rest_is_large(monkeypatch):
    monkeypatch.setattr(schur, "MAX_DENSE_REST", 10)
    formula = parse_formula("y ~ x + (1 | subject) + (1 | item)")
    design = build_design(read_data(str(DATA), [], []), formula, None, "x")
    layout = Layout.of([block.term for block in design.random])
    reml = make_reml(design, layout, "x")
    assert type(reml) is SparseReml  # 15 items outside the 25 subjects: above 10


@pytest.mark.parametrize(
    "formula",
    ["y ~ x + (1 + x | subject) + (1 | item)", "y ~ x + (1 | subject) + (1 + x | item)"],
)
def test_exact_gradient_equals_central_differences(formula):
    """Small crossed models with random slopes take the gradient from a dense M^-1; it is the
    derivative the differences approximate (to their truncation error, ~1e-7 here), and at a
    diagonal element of 0 (where the deviance is even in it) the one-sided difference."""
    design = build_design(read_data(str(DATA), [], []), parse_formula(formula), None, "x")
    layout = Layout.of([block.term for block in design.random])
    reml = make_reml(design, layout, "x")
    assert reml.exact_gradient
    rng = np.random.default_rng(5)
    points = [
        np.where(layout.diagonal, rng.uniform(0.1, 2.0, layout.n_theta), rng.normal(size=4))
        for _ in range(5)
    ]
    # theta[2] = 0: the slope variance of the first formula (a diagonal element at its bound)
    points.append(np.where(layout.diagonal, 0.5, 0.2) * (np.arange(4) != 2))
    for theta in points:
        reml.exact_gradient = True
        exact = reml.evaluate(theta)[1]
        reml.exact_gradient = False
        differences = reml.evaluate(theta)[1]
        scale = max(np.abs(differences).max(), 1.0)
        assert np.abs(exact - differences).max() / scale < 1e-5


def test_wide_nesting_groups_go_to_the_schur_backend_narrow_ones_to_the_block_backend():
    """Participants nested in a few sites: one site's block would be hundreds of columns wide
    (cubic cost), so participants (diagonal) against the small site block; sessions nested in
    participants stay with the block backend. Both backends give the same REML criterion."""
    import pandas as pd

    from lmmkit.block import BlockReml
    from lmmkit.reml import MAX_BLOCK_WIDTH

    rng = np.random.default_rng(11)
    n, sites = 4 * (MAX_BLOCK_WIDTH + 1), 4
    people = np.repeat(np.arange(n), 4)
    frame = pd.DataFrame(
        {
            "participant": [f"p{i}" for i in people],
            "site": [f"s{i % sites}" for i in people],
            "condition": np.tile(["a", "a", "b", "b"], n),
        }
    )
    frame["y"] = rng.normal(size=len(frame)) + rng.normal(size=n)[people]

    def backend(formula):
        design = build_design(frame, parse_formula(formula), None, "x")
        layout = Layout.of([block.term for block in design.random])
        return design, layout, make_reml(design, layout, "x")

    design, layout, wide = backend("y ~ condition + (1 | participant) + (1 | site)")
    assert isinstance(wide, SchurReml)
    theta = np.array([0.7, 0.3])
    assert wide.evaluate(theta, gradient=False)[0] == pytest.approx(
        BlockReml(design, layout).evaluate(theta, gradient=False)[0], rel=1e-10
    )
    narrow = backend("y ~ condition + (1 | participant) + (1 | participant:condition)")[2]
    assert isinstance(narrow, BlockReml)
