"""Figures of the study: one function per figure, each returning the figure and the table it plots.

`data` reads and validates the input tables and `summary` computes the plotted numbers (means and
SEMs included: seaborn never estimates them); neither imports matplotlib or seaborn, so both stay
cheap. The plotting modules (`mrs`, `clinical`, `qc`, `flow`) share the look defined in `style`
(seaborn's theme with journal sizes); `qc` draws its distributions with seaborn.
"""
