"""Puts the project's package (src/crossover_fmrs) on the import path of a script in this folder.

Snakemake adds a script's own folder to sys.path, and so does `python scripts/<step>.py`; this
module then adds ../src, with no install step and no environment variable, also inside conda
environments and on executors without the project installed.
"""

import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
# First on the path, even when Snakemake has appended it already: an installed copy of the package
# (another checkout's editable install in a shared venv) must not shadow this checkout's.
if sys.path[:1] != [SRC]:
    if SRC in sys.path:
        sys.path.remove(SRC)
    sys.path.insert(0, SRC)
