"""Which study a results folder belongs to, and the provenance every result table carries.

- `study_labels`: the SYNTHETIC / CALIBRATED labels of a study, read from the
  `dataset_description.json` at its root (BIDS style); config `synthetic: true` can add the
  synthetic label, never remove one the data carry.
- `listing_sha256`, `raw_inputs_sha256`: two hashes of the raw files the pipeline reads
  (`ingest.formats.layout.study_inputs`): a cheap one of names, sizes and modification times
  (the guard at every start), and one of their bytes (the record), both linear in the study's
  size.
- `config_sha256`: the hash of the settings a step used.
- `check_study`: stop when a results folder holds another study's results.
- `study_record`, `write_sidecars`: `<results_dir>/study.json`, and the JSON sidecar beside each
  result table (`glx_lmm.json` beside `glx_lmm.tsv`), deterministic bytes. The listing hash,
  which follows modification times, is kept apart in `<results_dir>/study_listing.sha256` (a
  cache of the check, not a result): study.json is the same bytes in every checkout.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from importlib import metadata
from pathlib import Path

from .errors import InputError

DESCRIPTION = "dataset_description.json"
STUDY_RECORD = "study.json"
LISTING_CACHE = "study_listing.sha256"
# The suffix of a rule's output name that is the sidecar of its tables (rules/common.smk).
SIDECAR = "_sidecar"
TABLE_SUFFIXES = (".tsv", ".parquet")
# Distributions whose versions a sidecar and run/software_versions.tsv record.
PACKAGES = (
    "snakemake",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "pingouin",
    "matplotlib",
    "seaborn",
    "PyYAML",
    "jsonschema",
)
CHUNK = 1 << 20


def json_bytes(obj) -> str:
    """Deterministic JSON text: sorted keys, 2-space indent, newline at the end."""
    return json.dumps(obj, indent=2, sort_keys=True) + "\n"


# ---------------------------------------------------------------------------------------------
# Labels


def study_labels(data_dir: str | Path, config_synthetic: bool = False) -> dict[str, bool]:
    """{"synthetic", "calibrated"} of the study in data_dir.

    Synthetic when its dataset_description.json says `"Synthetic": true` or config adds it;
    calibrated only when the file says both. A folder without the file is real data unless config
    says synthetic. A file that is not a JSON object with true/false labels is an InputError.
    """
    path = Path(data_dir) / DESCRIPTION
    described = {}
    if path.is_file():
        try:
            described = json.loads(path.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise InputError(
                path, None, None, "a JSON object (BIDS dataset description)", str(err)
            ) from None
        if not isinstance(described, dict):
            raise InputError(path, None, None, "a JSON object", type(described).__name__)
        for key in ("Synthetic", "Calibrated"):
            if key in described and not isinstance(described[key], bool):
                raise InputError(path, None, key, "true or false", described[key])
    synthetic_data = described.get("Synthetic", False)
    return {
        "synthetic": bool(synthetic_data or config_synthetic),
        "calibrated": bool(synthetic_data and described.get("Calibrated", False)),
    }


# ---------------------------------------------------------------------------------------------
# The raw files and their hashes


def listing_sha256(data_dir: str | Path, files: list[Path]) -> str:
    """Hash of each raw file's path in data_dir, size and modification time: a stat per file, no
    read, so the check at every start stays fast for a study of any size."""
    digest = hashlib.sha256()
    for path in files:
        stat = path.stat()
        name = path.relative_to(data_dir).as_posix()
        digest.update(f"{name}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def raw_inputs_sha256(data_dir: str | Path, files: list[Path]) -> str:
    """Hash of each raw file's path in data_dir, size and bytes, read in 1 MiB chunks (memory
    does not grow with the study)."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.relative_to(data_dir).as_posix()}\t{path.stat().st_size}\n".encode())
        with path.open("rb") as stream:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def config_sha256(settings: dict) -> str:
    """Hash of settings as sorted JSON (paths and other values as their text)."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# The study a results folder belongs to


def check_study(
    results_dir: str | Path, data_dir: str | Path, files: list[Path], listing: str
) -> str | None:
    """None when results_dir is new or holds this study's results; else the one-line reason.

    Same study: the same data folder and the same raw bytes. The listing hash of the last
    record (LISTING_CACHE) settles it without reading a file; when only modification times
    differ (a copy, a checkout) or the cache is gone the bytes are hashed once more and decide.
    """
    path = Path(results_dir) / STUDY_RECORD
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        keys = ("data_dir", "raw_inputs_sha256")
        if not isinstance(record, dict) or not all(isinstance(record.get(k), str) for k in keys):
            raise ValueError(f"the keys {', '.join(keys)}")
    except ValueError as err:
        return (
            f"{path.as_posix()}: expected the record of the study this folder holds, got a file "
            f"without {err}; remove {path.parent.as_posix()}/ or choose another with "
            "--config results_dir=<folder>"
        )
    same_folder = Path(record["data_dir"]).resolve() == Path(data_dir).resolve()
    cache = path.parent / LISTING_CACHE
    cached = cache.read_text(encoding="utf-8").strip() if cache.is_file() else None
    if same_folder and (
        cached == listing or record["raw_inputs_sha256"] == raw_inputs_sha256(data_dir, files)
    ):
        return None
    what = "other raw files" if same_folder else f"data_dir {record['data_dir']}"
    return (
        f"{path.parent.as_posix()}/ holds the results of another study ({what}, "
        f"{STUDY_RECORD}); run this study into its own folder with --config results_dir=<folder> "
        f"(or remove {path.parent.as_posix()}/)"
    )


def study_record(data_dir: str, files: list[Path], labels: dict[str, bool]) -> dict:
    """The content of <results_dir>/study.json (the raw bytes hashed here, once per study). No
    configuration hash: the record changes only with the study, so a changed setting reruns only
    the steps that use it (each table's sidecar hashes its step's settings)."""
    return {
        "data_dir": data_dir,
        "synthetic": labels["synthetic"],
        "calibrated": labels["calibrated"],
        "raw_inputs_sha256": raw_inputs_sha256(data_dir, files),
        "raw_inputs_files": len(files),
    }


# ---------------------------------------------------------------------------------------------
# Sidecars of the result tables


def software_versions() -> list[tuple[str, str]]:
    """(name, version) of Python, this package, its mixed-model engine and PACKAGES."""
    # The package's version from its __init__, imported before any of its modules (no import
    # of the package from here: the shared layer imports no room, tests/test_layout.py).
    __version__ = sys.modules[__name__.split(".")[0]].__version__
    # lmmkit ships in this project's src/ beside crossover_fmrs: the same version
    rows = [("python", platform.python_version()), ("crossover_fmrs", __version__)]
    rows.append(("lmmkit", __version__))
    return rows + [(name, metadata.version(name)) for name in (*PACKAGES, "pyarrow")]


def sidecar_of(table: str | Path) -> Path:
    """The sidecar of a table: the same folder and stem, .json."""
    return Path(table).with_suffix(".json")


def write_sidecars(outputs: dict, record_path: str | Path, settings: dict) -> None:
    """Write every output named <name>_sidecar: the study record's labels, data folder and raw
    files' hash; the hash of the settings the step used (`settings`, its params from config:
    changing one reruns the step and so rewrites the sidecar); the software versions; and the
    name and SHA-256 of each table output of the same stem."""
    record = json.loads(Path(record_path).read_text(encoding="utf-8"))
    provenance = {
        key: record[key] for key in ("data_dir", "synthetic", "calibrated", "raw_inputs_sha256")
    }
    provenance["config_sha256"] = config_sha256(settings)
    software = dict(software_versions())
    tables = [
        Path(path)
        for name, path in outputs.items()
        if not name.endswith(SIDECAR) and str(path).endswith(TABLE_SUFFIXES)
    ]
    for name, path in outputs.items():
        if not name.endswith(SIDECAR):
            continue
        described = {
            table.name: hashlib.sha256(table.read_bytes()).hexdigest()
            for table in tables
            if sidecar_of(table) == Path(path)
        }
        if not described:
            raise ValueError(f"{path}: no table output of the same stem to describe")
        from .tables import atomic_write_text  # here: the workflow imports this module, not pandas

        atomic_write_text(
            path, json_bytes({**provenance, "software": software, "tables": described})
        )
