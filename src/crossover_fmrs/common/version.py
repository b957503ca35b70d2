"""The package's version, in the shared layer so that every room may record it (run records,
the simulator's dataset_description.json)."""

__version__ = "0.1.0"
