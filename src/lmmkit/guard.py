"""Size guard: estimate memory before a large allocation and refuse with a one-line error."""

from __future__ import annotations

import os

from .errors import LmmInputError

# Fraction of the machine's memory one fit may plan to use (the rest: Python, data, other jobs).
USABLE_FRACTION = 0.75
# Tests set this (bytes) to simulate a small machine; None reads the machine's total memory.
MEMORY_LIMIT: float | None = None


def total_memory() -> float:
    """Physical memory in bytes (sysconf; /proc/meminfo as a fallback)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return float(line.split()[1]) * 1024.0
    raise OSError("cannot read the machine's memory")  # pragma: no cover


def memory_limit() -> float:
    return MEMORY_LIMIT if MEMORY_LIMIT is not None else USABLE_FRACTION * total_memory()


def _gib(nbytes: float) -> str:
    return f"{nbytes / 2**30:.2f} GiB"


def check_memory(nbytes: float, what: str, source: str) -> None:
    """Raise LmmInputError (one line, with the estimate) if `nbytes` would not fit."""
    limit = memory_limit()
    if nbytes > limit:
        raise LmmInputError(
            source,
            "size guard",
            None,
            f"a model whose {what} fit in the {_gib(limit)} usable memory",
            f"an estimated {_gib(nbytes)}",
        )
