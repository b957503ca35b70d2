"""Choice of the REML backend (see block.py and sparse.py; the deviance itself in pls.py)."""

from __future__ import annotations

from .block import BlockReml
from .design import Design
from .errors import LmmInputError
from .params import Layout
from .sparse import SparseReml

__all__ = ["BlockReml", "SparseReml", "make_reml"]


def make_reml(design: Design, layout: Layout, source: str):
    """The block backend when every grouping is nested in one factor, else the sparse one
    (also when the padded blocks would be too large: a few groups with very many levels)."""
    if BlockReml.applies(design):
        try:
            return BlockReml(design, layout, source)
        except LmmInputError:
            pass  # the sparse backend checks its own size
    try:
        return SparseReml(design, layout, source)
    except ImportError:  # pragma: no cover - qdldl is a declared dependency
        raise LmmInputError(
            source, "fit_lmm", None, "the qdldl package for crossed random effects", "not installed"
        ) from None
