"""The package mirrors the workflow: one room per stage over a shared layer, no import circle,
no arrow upwards, and the mixed-model engine knows nothing of the pipeline. The rules are
import-linter contracts in pyproject.toml ([tool.importlinter]); import-linter reads the source,
so a deferred import inside a function counts too."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = SRC / "crossover_fmrs"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(project: Path) -> subprocess.CompletedProcess:
    """import-linter's contracts of project/pyproject.toml over project/src."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=project,
        env={"PYTHONPATH": str(project / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )


def test_every_module_lives_in_a_stage_room_or_the_shared_layer():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in contracts["contracts"] if c["type"] == "layers")["layers"]
    rooms = {room.strip() for layer in layers for room in layer.split("|")}
    found = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    assert found == rooms
    assert [path.name for path in PACKAGE.glob("*.py")] == ["__init__.py"]


def test_the_import_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    "module, line",
    [
        ("lmmkit/_probe.py", "from crossover_fmrs.common import errors\n"),
        ("crossover_fmrs/common/_probe.py", "def f():\n    from crossover_fmrs.stats import lmm\n"),
        ("crossover_fmrs/qc/_probe.py", "from crossover_fmrs.ingest import mrs\n"),
    ],
)
def test_the_contracts_see_an_arrow_upwards_or_sideways(tmp_path, module, line):
    shutil.copytree(SRC, tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "src" / module).write_text(line)
    result = lint_imports(tmp_path)
    assert result.returncode != 0 and "BROKEN" in result.stdout, result.stdout[-2000:]


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff").exists(),
    reason="ruff is not installed (pip install -r requirements.txt installs it)",
)
def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    root = ROOT
    result = subprocess.run(
        [ruff, "check", "src", "scripts", "tests", "tools"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:]


def test_vulture_finds_no_dead_code():
    """`vulture` as configured in pyproject.toml ([tool.vulture]): package, scripts, tools."""
    vulture = Path(sys.executable).parent / "vulture"
    result = subprocess.run([str(vulture)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
