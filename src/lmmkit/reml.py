"""Choice of the REML backend (see block.py and sparse.py; the deviance itself in pls.py)."""

from __future__ import annotations

from .block import BlockReml, block_width
from .design import Design
from .errors import LmmInputError
from .params import Layout
from .schur import SchurReml
from .sparse import SparseReml

__all__ = ["BlockReml", "SchurReml", "SparseReml", "make_reml"]


# Nested groups wider than this (random-effect columns per group of the nesting factor) go to the
# Schur backend when it applies: the block backend's cost grows with the cube of the width, so a
# few large sites of hundreds of participants each are far cheaper as participants (diagonal)
# against a small dense site block. Sessions within participants are a few columns wide.
MAX_BLOCK_WIDTH = 64


def make_reml(design: Design, layout: Layout, source: str):
    """The block backend when every grouping is nested in one factor with narrow groups; else the
    Schur complement of the largest term when the other terms are small (crossed designs, or few
    wide nesting groups such as sites); else the general sparse one (also when the padded blocks
    would be too large)."""
    nested = BlockReml.applies(design)
    if nested and block_width(design) > MAX_BLOCK_WIDTH and SchurReml.applies(design):
        nested = False
    if nested:
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
