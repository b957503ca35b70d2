"""A real SLURM cluster for the tests marked slurm: why a test skips, and Snakemake run with the
environment a login shell would give it (tools/slurm_local.sh starts one on this machine)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path


def slurm_skip_reason() -> str | None:
    """None when an idle SLURM node and the executor plugin are there, else why not."""
    for tool in ("slurmctld", "sinfo", "sbatch", "squeue"):
        if shutil.which(tool) is None:
            return f"{tool} is not on PATH (a local cluster: tools/slurm_local.sh)"
    try:
        states = subprocess.run(
            ["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=20
        ).stdout.split()
    except subprocess.TimeoutExpired:
        return "sinfo timed out: slurmctld is not reachable"
    if not any(state.rstrip("*~#") in ("idle", "mixed") for state in states):
        return (
            f"no idle SLURM node (sinfo: {states or 'no answer'}); "
            "start one with tools/slurm_local.sh"
        )
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        return "snakemake-executor-plugin-slurm is not installed (pip install -r requirements.txt)"
    return None


def snakemake(workdir: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Snakemake in workdir; SLURM_* of an enclosing allocation must not reach the plugin."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_") or k == "SLURM_CONF"}
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
