"""The docs stand on their own and say what is true: the README is short, names only config keys
that exist, points nowhere outside the repository, and every command it gives runs; the evidence
the docs cite is reproduced by its script."""

import fnmatch
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from benchmark_workflow import copy_workflow  # noqa: E402  (the benchmark copies the workflow the same way)

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SCHEMA = yaml.safe_load((ROOT / "schemas" / "config.schema.yaml").read_text())
TOP_KEYS = set(SCHEMA["properties"])
FILE_ENDINGS = {
    "tsv",
    "csv",
    "json",
    "yaml",
    "md",
    "py",
    "table",
    "rst",
    "html",
    "png",
    "svg",
    "txt",
    "R",
    "smk",
}


def schema_keys(node: dict, prefix: str = "") -> set[str]:
    """Every dotted key path the schema describes."""
    keys = set()
    for name, child in (node.get("properties") or {}).items():
        path = f"{prefix}{name}"
        keys.add(path)
        if isinstance(child, dict):
            keys |= schema_keys(child, path + ".")
    return keys


def config_keys_named(text: str) -> set[str]:
    """Backticked dotted names that start with a top-level config key (file names excluded)."""
    found = set()
    for token in re.findall(r"`([A-Za-z0-9_.*]+)`", text):
        parts = token.split(".")
        if len(parts) > 1 and parts[0] in TOP_KEYS and parts[-1] not in FILE_ENDINGS:
            found.add(token)
    return found


def test_every_config_key_the_docs_name_exists_in_the_schema():
    known = schema_keys(SCHEMA)
    named = {key for doc in DOCS for key in config_keys_named(doc.read_text())}
    assert len(named) > 10  # the docs do name settings: the check would pass vacuously otherwise
    unknown = sorted(
        key
        for key in named
        if not any(
            fnmatch.fnmatchcase(k, key) or fnmatch.fnmatchcase(k, key.rstrip(".*") + ".*")
            for k in known
        )
    )
    assert unknown == []


def test_readme_is_short_and_nothing_points_outside_the_repository():
    assert len((ROOT / "README.md").read_bytes()) <= 8 * 1024
    outside = "../" + "shared"  # built here, so that this file does not name it
    listed = subprocess.run(
        ["git", "grep", "-l", "-F", "-e", outside, "--", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert listed.stdout == ""


def test_the_evidence_the_docs_cite_is_what_its_script_writes(tmp_path):
    committed = (ROOT / "docs" / "evidence" / "df_check.tsv").read_text()
    script = tmp_path / "df_check.py"
    script.write_text(
        (ROOT / "docs" / "evidence" / "df_check.py")
        .read_text()
        .replace("ROOT = Path(__file__).resolve().parents[2]", f"ROOT = Path({str(ROOT)!r})")
    )
    subprocess.run([sys.executable, str(script)], check=True, capture_output=True)
    assert (tmp_path / "df_check.tsv").read_text() == committed
    table = pd.read_csv(tmp_path / "df_check.tsv", sep="\t")
    assert table["df_den"].round().astype(int).tolist()[:3] == [75, 74, 74]


def readme_block(heading: str) -> list[str]:
    """Command lines of the first sh block under a README heading (comment lines dropped)."""
    text = (ROOT / "README.md").read_text()
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [
        line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]


def test_quick_start_is_two_commands_and_ci_runs_the_test_one():
    install_run, install_test = readme_block("Quick start")
    install = "python3.11 -m venv .venv && .venv/bin/pip install -r requirements.txt"
    assert install_run == f"{install} && .venv/bin/snakemake --cores 4"
    assert install_test == f"{install} && .venv/bin/python -m pytest"
    # CI runs it in two steps, ruff's format and lint checks between the install and pytest
    assert (ROOT / ".ci" / "run").read_text().splitlines()[-4:] == [
        install,
        ".venv/bin/ruff format --check .",
        ".venv/bin/ruff check .",
        ".venv/bin/python -m pytest",
    ]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    target = copy_workflow(tmp_path_factory.mktemp("readme") / "w")
    (target / "tests" / "fixtures").mkdir(parents=True)
    subprocess.run(
        [
            "cp",
            "-r",
            str(ROOT / "tests" / "fixtures" / "second_study"),
            str(target / "tests" / "fixtures"),
        ],
        check=True,
    )
    shutil.copytree(ROOT / "tools", target / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    return target


def as_run_here(command: str) -> list[str]:
    """A README command with this interpreter; a full run only where it is quick, else a dry run.
    Leading VAR=value words stay in front (run through env)."""
    words = shlex.split(command)
    settings = []
    while "=" in words[0] and not words[0].startswith("-"):
        settings.append(words.pop(0))
    if settings:
        return ["env", *settings, *as_run_here(shlex.join(words))]
    if words[:3] == ["python", "-m", "crossover_fmrs.simulate"]:
        return [sys.executable, *words[1:]]  # the simulator's draw of 200 participants: quick
    if words[0] == "snakemake":
        dry = [] if {"--report", "--lint"} & set(words) else ["-n"]
        if "--" in words:  # targets follow '--': the dry-run flag goes before them
            cut = words.index("--")
            return [sys.executable, "-m", *words[:cut], *dry, *words[cut:]]
        return [sys.executable, "-m", *words, *dry]
    if words[0] == "python":
        return [sys.executable, *words[1:], "--help"]  # the tools' dry run: their usage
    raise AssertionError(f"no way to run {command!r} here")


@pytest.mark.workflow
def test_every_command_of_the_readme_runs(workdir):
    quick = [part for line in readme_block("Quick start") for part in line.split(" && ")[2:]]
    commands = [q.replace(".venv/bin/snakemake", "snakemake") for q in quick if "snakemake" in q]
    commands += readme_block("Commands")
    assert len(commands) >= 8
    subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "--quiet"],
        cwd=workdir,
        check=True,
        capture_output=True,
    )  # a report needs a finished run
    for command in commands:
        result = subprocess.run(as_run_here(command), cwd=workdir, capture_output=True, text=True)
        assert result.returncode == 0, f"{command}: {result.stderr[-2000:]}"


def test_speed_figures_in_the_docs_are_those_of_the_benchmark_files():
    import quote_benchmarks

    measured = pd.read_csv(
        ROOT / "docs" / "evidence" / "benchmarks" / "workflow.tsv", sep="\t"
    ).set_index("measure")["median_s"]
    speed = (ROOT / "README.md").read_text().split("## Speed\n", 1)[1].split("\n## ", 1)[0]
    quoted = dict(re.findall(r"^\| ([^|]+?) \| ([0-9.]+) s", speed, flags=re.M))
    assert {name: float(value) for name, value in quoted.items()} == measured.to_dict()
    assert quote_benchmarks.workflow_table() in (ROOT / "README.md").read_text()
    assert quote_benchmarks.power_table() in (ROOT / "docs" / "power.md").read_text()
    assert quote_benchmarks.scale_table() in (ROOT / "docs" / "performance.md").read_text()


def test_every_repository_path_the_docs_name_exists():
    named = set()
    for doc in DOCS + [ROOT / "results" / "README.md", ROOT / "resources" / "README.md"]:
        named |= set(
            re.findall(
                r"`((?:src|tests|tools|scripts|rules|docs|resources|schemas)/[A-Za-z0-9_./*-]+)`",
                doc.read_text(),
            )
        )
    assert len(named) > 5
    assert sorted(path for path in named if not list(ROOT.glob(path))) == []


def test_the_mixed_model_speed_ratios_the_docs_quote_are_those_of_the_benchmark_file():
    measured = pd.read_csv(
        ROOT / "docs" / "evidence" / "benchmarks" / "lmm.tsv", sep="\t", dtype={"participants": str}
    )
    text = (
        (ROOT / "docs" / "statistics.md").read_text().split("**Speed.**", 1)[1].split("\n\n", 1)[0]
    )
    for model in ("intercept", "slopes"):
        ratios = measured[(measured["model"] == model) & (measured["participants"] != "200x50")][
            "time_ratio"
        ]
        assert ratios.size == 5
        for ratio in ratios:
            assert f"{ratio:.2f}".rstrip("0").rstrip(".") in text, (model, ratio)
    crossed = pd.read_csv(ROOT / "docs" / "evidence" / "benchmarks" / "lmm_crossed.tsv", sep="\t")
    for ratio in crossed["cpu_ratio"]:
        assert f"{ratio:.2f} ×" in text, ratio
