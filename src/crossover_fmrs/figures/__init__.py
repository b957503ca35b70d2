"""Figures of the study: one function per figure, each returning the figure and the table it plots.

`data` reads and validates the input tables and `summary` computes the plotted numbers; neither
imports matplotlib, so both stay cheap. The plotting modules (`mrs`, `clinical`, `qc`, `flow`)
share the look defined in `style`.
"""
