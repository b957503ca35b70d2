"""The machine a speed was measured on, recorded beside every benchmark's numbers."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    """The processor's name as /proc/cpuinfo gives it (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_1min() -> str:
    """The 1-minute load average now: other processes slow every measure of a run alike."""
    return f"{os.getloadavg()[0]:.2f}"
