# Shared helpers: config validation, raw-file lookup, code dependencies, target lists.
import ast
import hashlib
import copy
import csv
import math
import sys
from functools import cache
from pathlib import Path

from snakemake.utils import validate

SRC = Path(workflow.basedir) / "src"
sys.path.insert(0, str(SRC))
# Where each fMRS format's files live (pure path logic: no pandas at DAG-building time).
from crossover_fmrs.ingest.formats.layout import LAYOUTS, MANIFEST, format_inputs, study_inputs
from crossover_fmrs.common.errors import InputError
from crossover_fmrs.common.provenance import (
    SIDECAR,
    STUDY_RECORD,
    TABLE_SUFFIXES,
    check_study,
    listing_sha256,
    sidecar_of,
    study_labels,
)
from crossover_fmrs.power.grid import EFFECT_NAME_PATTERN, effect_name, grid_error

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

for axis in ("effects", "n_participants", "session_sd"):
    if "power" in config and (problem := grid_error(config["power"][axis])):
        _config_error(f"power.{axis}", *problem)
if "power" in config and config["power"]["planning_effect"] not in config["power"]["effects"]:
    _config_error(
        "power.planning_effect",
        f"one of power.effects {config['power']['effects']}",
        config["power"]["planning_effect"],
    )


def power_cells():
    """(n, effect, session SD) of every cell: the grid at the simulator's session SD, then the
    cells of power.session_sd (no effect, the study's n), where the primary model's false
    positives are counted. Effects as numbers: a YAML 1 and 1.0 name the same cell."""
    power, simulation = config["power"], config["simulation"]
    grid_sd = float(simulation["mrs"]["glx_tnaa_session_sd"])
    cells = [
        (int(n), float(effect), grid_sd)
        for n in power["n_participants"]
        for effect in power["effects"]
    ]
    extra = [
        (int(simulation["n_participants"]), 0.0, float(sd))
        for sd in power["session_sd"]
        if (int(simulation["n_participants"]), 0.0, float(sd)) not in cells
    ]
    return cells + extra


DATA_DIR = Path(config["data_dir"])
# Every output, log and benchmark of a run goes under this folder (config results_dir).
RESULTS = Path(config["results_dir"]).as_posix()
STUDY = f"{RESULTS}/{STUDY_RECORD}"
# The configuration as given (and validated), before the labels below join it.
USER_CONFIG = copy.deepcopy(config)

# One results folder per study. The check runs at every start, so it reads no file: it hashes
# each raw file's path, size and modification time (one stat per file: 1.2 s for 140,000 files,
# 10,000 participants, on a loaded 2-CPU machine, beside the 5 s that listing them takes anyway);
# the bytes are hashed only when that differs from the record (a copy, a checkout) and by rule
# study_record, which writes the record.
@cache
def mrs_inputs():
    """The configured format's raw fMRS files (listed once per start: a glob of the study)."""
    return format_inputs(DATA_DIR, config["mrs"]["format"], config["mrs"]["osprey_subspectrum"])


RAW_INPUTS = study_inputs(
    DATA_DIR, mrs_inputs(), [scale["sheet"] for scale in config["clinical"]["scales"]]
)
RAW_LISTING = listing_sha256(DATA_DIR, RAW_INPUTS)
if problem := check_study(RESULTS, DATA_DIR, RAW_INPUTS, RAW_LISTING):
    sys.exit(f"\nerror: {problem}")

# The SYNTHETIC / CALIBRATED labels, decided here once: from the data's dataset_description.json
# (config synthetic: true adds the synthetic one). Rules get them as params; the report's
# templates, which see only the config, read them under this key, which no config may set (the
# schema allows no such setting).
try:
    LABELS = study_labels(DATA_DIR, config["synthetic"])
except InputError as err:
    sys.exit(f"\nerror: {err}")
config["_study_labels"] = LABELS
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
    """The package modules a script runs, directly or through other modules (Snakemake tracks
    only the script itself)."""
    pending, seen = [Path(workflow.basedir) / "scripts" / script], set()
    while pending:
        for module in _imported_modules(pending.pop()):
            if module not in seen:
                seen.add(module)
                pending.append(module)
    return sorted(str(module) for module in seen)


@cache
def code_version(script):
    """A fingerprint of the package modules a script runs (package_code): a rule's `code` param,
    so that editing a module reruns the jobs it affects (Snakemake reruns a job whose params
    changed), without listing every module among the inputs Snakemake prints for each job."""
    digest = hashlib.sha256()
    for module in package_code(script):
        digest.update(str(Path(module).relative_to(SRC)).encode() + b"\0")
        digest.update(Path(module).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def existing(path):
    """[path] if the file is there, else []: an input a rule reads when another target made it."""
    return [path] if Path(path).is_file() else []


def participants_dictionary(wildcards):
    """participants.json, the data dictionary whose Levels the codes are checked against, if the study has one."""
    path = DATA_DIR / "participants.json"
    return [str(path)] if path.is_file() else []


def raw_clinical_sheets(wildcards):
    return [str(DATA_DIR / "clinical" / scale["sheet"]) for scale in SCALES.values()]


@cache
def participants_sheet():
    """(header, rows) of participants.tsv, read once when the DAG is built (no checks:
    ingest_participants makes them); empty when the file is missing, which that rule reports."""
    path = DATA_DIR / "participants.tsv"
    if not path.is_file():
        return [], []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    return (rows[0], rows[1:]) if rows else ([], [])


def sheet_column(name):
    header, rows = participants_sheet()
    if name not in header:
        return []
    at = header.index(name)
    return [row[at] for row in rows if len(row) > at]


# A pooled study (more than one site) has outputs a single-site study lacks.
MULTISITE = len(set(sheet_column(config["study"]["site_column"]))) > 1
# The fMRS spectra are read and QC'd in batches of participants (scale.batch_size), in ID order,
# where each participant's files sit in their own folder; a manifest or a study-level table is
# read in one job.
BATCHED = config["mrs"]["format"] in LAYOUTS and not (DATA_DIR / MANIFEST).is_file()
_IDS = sorted(set(sheet_column("participant_id")))
_SIZE = config["scale"]["batch_size"] if BATCHED else max(1, len(_IDS))
MRS_BATCHES = {
    f"{number:04d}": _IDS[start : start + _SIZE]
    for number, start in enumerate(range(0, max(1, len(_IDS)), _SIZE))
}


@cache
def _raw_mrs_by_participant():
    """The configured format's raw files, by the participant folder they sit in ('' for
    study-level files)."""
    grouped = {}
    for path in mrs_inputs():
        parts = Path(path).relative_to(DATA_DIR).parts
        owner = parts[0] if BATCHED and len(parts) > 1 else ""
        grouped.setdefault(owner, []).append(path)
    return grouped


def raw_mrs_batch_files(wildcards):
    """The raw files one batch's reader reads: its participants' (or all, unbatched)."""
    grouped = _raw_mrs_by_participant()
    if not BATCHED:
        return sorted(path for paths in grouped.values() for path in paths)
    return [path for pid in MRS_BATCHES[wildcards.batch] for path in grouped.get(pid, [])]


def raw_mrs_batch_fingerprint(wildcards):
    """Which raw files one batch reads (raw_mrs_batch_files), as a short hash: a param instead of
    hundreds of inputs printed for every job. A raw file that changes is caught before any job by
    the study check (check_study: the results folder then belongs to another study)."""
    names = "\n".join(
        str(Path(path).relative_to(DATA_DIR)) for path in raw_mrs_batch_files(wildcards)
    )
    return hashlib.sha256(names.encode()).hexdigest()[:16]


def with_sidecars(**outputs):
    """A rule's outputs and, for its tables (.tsv, .parquet), the JSON sidecar of each stem (one
    for a table written as both), named <output>_sidecar. run_step writes them after the step
    from the study record (input `study`) and the step's settings (its params), so a failed step
    leaves neither table nor sidecar."""
    sidecars = {}
    for name, path in outputs.items():
        if str(path).endswith(TABLE_SUFFIXES) and str(sidecar_of(path)) not in sidecars.values():
            sidecars[f"{name}{SIDECAR}"] = str(sidecar_of(path))
    return {**outputs, **sidecars}


def final_outputs():
    """What `snakemake --cores 4` builds; the sex analyses and the paper comparison are switches."""
    stats = config["stats"]
    figures = [
        name
        for name in FIGURES
        if (stats["sex_analyses"] or not name.startswith("sex_"))
        and (MULTISITE or not name.startswith("site_"))
    ]
    targets = [
        STUDY,
        f"{RESULTS}/tidy/participants.tsv",
        f"{RESULTS}/qc/participant_columns.tsv",
        f"{RESULTS}/tidy/mrs_long.tsv",
        f"{RESULTS}/tidy/clinical_items.tsv",
        f"{RESULTS}/tidy/clinical_scores.tsv",
        f"{RESULTS}/qc/mrs_spectra.tsv",
        f"{RESULTS}/qc/clinical_qc.tsv",
        f"{RESULTS}/stats/participant_flow.tsv",
        f"{RESULTS}/stats/glx_lmm.tsv",
        f"{RESULTS}/stats/glx_lmm_sensitivity.tsv",
        f"{RESULTS}/stats/clinical_lmm.tsv",
        f"{RESULTS}/stats/crossover_checks.tsv",
        f"{RESULTS}/stats/baseline_characteristics.tsv",
        f"{RESULTS}/run/config.yaml",
        f"{RESULTS}/run/software_versions.tsv",
        *expand(
            f"{RESULTS}/figures/{{name}}.{{ext}}", name=figures, ext=["png", "svg", "tsv"]
        ),
    ]
    if stats["sex_analyses"]:
        targets.append(f"{RESULTS}/stats/sex_stratified.tsv")
    if MULTISITE:
        targets.append(f"{RESULTS}/stats/site_effects.tsv")
    if stats["attenuation"]:
        targets.append(f"{RESULTS}/stats/attenuation.tsv")
    if stats["paper_comparison"]:
        targets.append(f"{RESULTS}/paper_comparison.tsv")
    return targets + TABLE_PAGES + [CONFIG_PAGE]
