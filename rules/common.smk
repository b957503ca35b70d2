# Shared helpers: config validation, raw-file lookup, code dependencies, target lists.
import ast
import math
import sys
from functools import cache
from pathlib import Path

from snakemake.utils import validate

SRC = Path(workflow.basedir) / "src"
sys.path.insert(0, str(SRC))
# Where each fMRS format's files live (pure path logic: no pandas at DAG-building time).
from crossover_fmrs.ingest.formats.layout import format_inputs

validate(config, schema="../schemas/config.schema.yaml")


def _config_error(setting, expected, got):
    """A setting the schema cannot check: one line on its own line, then stop (no traceback)."""
    sys.exit(f"\nerror: config, column '{setting}': expected {expected}, got {got!r}")


if config["study"]["reference_condition"] not in config["study"]["conditions"]:
    _config_error(
        "study.reference_condition",
        f"one of study.conditions {config['study']['conditions']}",
        config["study"]["reference_condition"],
    )

DATA_DIR = Path(config["data_dir"])
CONDITIONS = config["study"]["conditions"]
# {name: {sheet, timepoints}} in config order (clinical.scale_specs does the same for the package).
SCALES = {
    entry["name"]: {"sheet": entry["sheet"], "timepoints": entry["timepoints"]}
    for entry in config["clinical"]["scales"]
}
SCALE_TIMEPOINTS = {scale: spec["timepoints"] for scale, spec in SCALES.items()}
RATIO_LABEL = "{numerator}/{denominator}".format(**config["mrs"]["ratio"])


# The packages whose modules the jobs track: the pipeline and the mixed-model engine it imports.
PACKAGES = ("crossover_fmrs", "lmmkit")


@cache
def _imported_modules(path):
    """Files of the packages (PACKAGES) that one Python file imports (absolute or relative)."""
    package_parts = (
        path.relative_to(SRC).parent.parts if path.is_relative_to(SRC) else ()
    )
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = (
                list(package_parts[: len(package_parts) - node.level + 1])
                if node.level
                else []
            )
            names = (node.module or "").split(".") if node.module else []
            stems = [base + names + [alias.name] for alias in node.names] + [
                base + names
            ]
        elif isinstance(node, ast.Import):
            stems = [alias.name.split(".") for alias in node.names]
        else:
            continue
        for stem in stems:
            for candidate in (
                SRC.joinpath(*stem).with_suffix(".py"),
                SRC.joinpath(*stem, "__init__.py"),
            ):
                if stem and stem[0] in PACKAGES and candidate.is_file():
                    found.add(candidate)
    # importing a module runs the __init__.py of every package above it
    for module in list(found):
        for parent in module.parents:
            if parent == SRC:
                break
            if (parent / "__init__.py").is_file():
                found.add(parent / "__init__.py")
    return frozenset(found)


def package_code(script):
    """The package modules a script runs, directly or through other modules. Snakemake tracks
    only the script itself; with these as inputs, editing a module reruns the jobs it affects.
    """
    pending, seen = [Path(workflow.basedir) / "scripts" / script], set()
    while pending:
        for module in _imported_modules(pending.pop()):
            if module not in seen:
                seen.add(module)
                pending.append(module)
    return sorted(str(module) for module in seen)


def raw_mrs_files(wildcards):
    """The fit outputs and block-timing sidecars the configured format's reader reads (its own
    input listing), so that only a change to one of them reruns ingestion."""
    return format_inputs(
        DATA_DIR, config["mrs"]["format"], config["mrs"]["osprey_subspectrum"]
    )


def participants_dictionary(wildcards):
    """participants.json, the data dictionary whose Levels the codes are checked against, if the study has one."""
    path = DATA_DIR / "participants.json"
    return [str(path)] if path.is_file() else []


def raw_clinical_sheets(wildcards):
    return [str(DATA_DIR / "clinical" / scale["sheet"]) for scale in SCALES.values()]


def calibrated_study():
    """True when data_dir holds the simulator's calibrated study (simulation.calibrate)."""
    simulation = config.get("simulation", {})
    return bool(
        config["synthetic"]
        and simulation.get("calibrate", False)
        and Path(simulation.get("output_dir", "")) == DATA_DIR
    )


def final_outputs():
    """What `snakemake --cores 4` builds; the sex analyses and the paper comparison are switches."""
    stats = config["stats"]
    figures = [
        name for name in FIGURES if stats["sex_analyses"] or not name.startswith("sex_")
    ]
    targets = [
        "results/tidy/participants.tsv",
        "results/qc/participant_columns.tsv",
        "results/tidy/mrs_long.tsv",
        "results/tidy/clinical_items.tsv",
        "results/tidy/clinical_scores.tsv",
        "results/qc/mrs_spectra.tsv",
        "results/qc/clinical_qc.tsv",
        "results/qc/participant_flow.tsv",
        "results/stats/glx_lmm.tsv",
        "results/stats/clinical_lmm.tsv",
        "results/stats/crossover_checks.tsv",
        "results/stats/baseline_characteristics.tsv",
        "results/run/config.yaml",
        "results/run/software_versions.tsv",
        *expand(
            "results/figures/{name}.{ext}", name=figures, ext=["png", "svg", "tsv"]
        ),
    ]
    if stats["sex_analyses"]:
        targets.append("results/stats/sex_stratified.tsv")
    if stats["attenuation"]:
        targets.append("results/stats/attenuation.tsv")
    if stats["paper_comparison"]:
        targets.append("results/paper_comparison.tsv")
    return targets + TABLE_PAGES
