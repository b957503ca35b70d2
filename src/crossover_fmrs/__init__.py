"""Analysis of pharmacological crossover studies with functional MRS and clinical rating scales.

The Snakemake workflow in this repository calls the functions of this package; each module can
be imported and tested on its own.
"""

from .common.version import __version__

__all__ = ["__version__"]
