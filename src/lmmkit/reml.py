"""Choice of the REML backend (see block.py and sparse.py; the deviance itself in pls.py)."""

from __future__ import annotations

from .block import BlockReml
from .design import Design
from .errors import LmmInputError
from .params import Layout
from .schur import SchurReml
from .sparse import SparseReml

__all__ = ["BlockReml", "SchurReml", "SparseReml", "make_reml"]


def make_reml(design: Design, layout: Layout, source: str):
    """The block backend when every grouping is nested in one factor; else the Schur complement
    of the largest term when the other terms are small (crossed designs); else the general
    sparse one (also when the padded blocks would be too large)."""
    if BlockReml.applies(design):
        try:
            return BlockReml(design, layout, source)
        except LmmInputError:
            pass  # the sparse backend checks its own size
    try:
        if SchurReml.applies(design):
            try:
                return SchurReml(design, layout, source)
            except LmmInputError:
                pass  # too large for its dense block: the general sparse factor
        return SparseReml(design, layout, source)
    except ImportError:  # pragma: no cover - qdldl is a declared dependency
        raise LmmInputError(
            source, "fit_lmm", None, "the qdldl package for crossed random effects", "not installed"
        ) from None
