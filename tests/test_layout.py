"""The package mirrors the workflow: one room per stage over a shared layer, no import circle,
no arrow upwards. Checked on the source (ast), so a deferred import inside a function counts too."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "crossover_fmrs"
# The mixed-model engine: a package of its own, which the pipeline imports and which knows nothing
# of the pipeline.
ENGINE = SRC / "lmmkit"
# Layers from the bottom. A room may import its own modules and the rooms listed for it.
# The simulator writes the raw files ingestion reads (scale layouts, LCModel's .table), so it
# sits above ingest; no pipeline room knows the simulator.
ALLOWED = {
    "common": set(),
    "ingest": {"common"},
    "qc": {"common"},
    "stats": {"common"},
    "figures": {"common"},
    "report": {"common"},
    # The calibration runs the pipeline's own chain (ingest -> QC -> stats) on candidate files.
    "simulate": {"common", "ingest", "qc", "stats"},
    # Power planning draws studies with the simulator and tests them with the analysis's models.
    "power": {"common", "simulate", "stats"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Absolute names of the crossover_fmrs modules a file imports (resolved relative imports)."""
    return imports_of_text(path.read_text(), path)


def imports_of_text(text: str, path: Path) -> set[str]:
    """imports_of for the source `text` of a module at `path` (under src/)."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = base + (node.module.split(".") if node.module else [])
            names = [".".join(target)] + [".".join(target + [alias.name]) for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {name for name in names if name.startswith("crossover_fmrs")}
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {
        name: {imported for imported in imports_of(path) if imported in modules} - {name}
        for name, path in modules.items()
    }


def room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_module_lives_in_a_stage_room_or_the_shared_layer():
    assert {room(module) for module in graph()} - {None} == set(ALLOWED)


@pytest.mark.parametrize("source_room", sorted(ALLOWED))
def test_a_room_imports_only_itself_and_the_rooms_below_it(source_room):
    arrows = [
        (module, target)
        for module, targets in graph().items()
        if room(module) == source_room
        for target in targets
        if room(target) not in {source_room} | ALLOWED[source_room]
    ]
    assert arrows == []


def test_no_import_circle():
    edges = graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module, path):
        state[module] = 1
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                pytest.fail("import circle: " + " -> ".join(path + [module, target]))
            if target not in state:
                visit(target, path + [module])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [])


def test_lmmkit_imports_nothing_from_crossover_fmrs():
    modules = sorted(ENGINE.rglob("*.py"))
    assert len(modules) > 10  # the engine is there (and the check below can fail)
    arrows = [(module_name(path), sorted(imports_of(path))) for path in modules if imports_of(path)]
    assert arrows == []


def test_the_layout_check_sees_an_import_of_crossover_fmrs_from_lmmkit(tmp_path):
    fake = SRC / "lmmkit" / "_probe_layout.py"  # never written: parsed from a temporary copy
    copy = tmp_path / "probe.py"
    copy.write_text("from crossover_fmrs.common import errors\n")
    found = {name for name in imports_of_text(copy.read_text(), fake)}
    assert found == {"crossover_fmrs.common", "crossover_fmrs.common.errors"}


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff").exists(),
    reason="ruff is not installed (pip install -r requirements.txt installs it)",
)
def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    root = SRC.parent
    result = subprocess.run(
        [ruff, "check", "src", "scripts", "tests", "tools"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:]
