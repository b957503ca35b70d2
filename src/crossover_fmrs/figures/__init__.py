"""Figures of the study: one function per figure, each returning the figure and the table it plots.

`data` reads and validates the input tables and `summary` computes the plotted numbers (means and
SEMs included); neither imports matplotlib, so both stay cheap. The plotting modules (`mrs`,
`clinical`, `qc`, `flow`, `sites`) share the look and the size limits defined in `style`; each
figure's cost is linear in the study's size (docs/reproducibility.md, "Figures at any size").
"""
