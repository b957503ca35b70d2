"""Where each fMRS format's files live: their names and the files a reader reads.

Pure path logic (no pandas), so the workflow can list a format's raw files as the inputs of
its ingestion rule when it builds the job graph: a file no reader reads changes nothing.

Per-session formats keep the BIDS-like tree,

    <data_dir>/sub-01/ses-placebo/mrs/<one fit output per block, or one per session>
    <data_dir>/sub-01/ses-placebo/mrs/sub-01_ses-placebo_blocks.tsv     block timing sidecar

and study-level formats (osprey, tidy_tsv) keep one table for the whole study at <data_dir>,
with block timing either in that table (onset_min, offset_min) or in the same sidecars.

Instead of the tree, a per-session format may list its outputs in a manifest
<data_dir>/mrs_files.tsv (participant_id, condition, block, path[, onset_min, offset_min]), so
tool-default names (sub01_LCM_A.table, ...) need no renaming. Extensions are matched without
regard to case (LCModel users often have .TABLE and .CSV).

`study_inputs` lists every raw file of a study the pipeline reads, whose hash identifies the
study (common/provenance.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ...common.provenance import DESCRIPTION

_ID = r"(?P<participant>sub-[A-Za-z0-9]+)_ses-(?P<condition>[A-Za-z0-9]+)"
SIDECAR_NAME = re.compile(rf"^{_ID}_blocks\.tsv$")
SIDECAR_GLOB = "sub-*/ses-*/mrs/*_blocks.tsv"
SESSION_GLOB = "sub-*/ses-*/mrs/*"


# Per-session formats: how one fit output is named inside sub-XX/ses-YY/mrs/ and whether it is a
# file or a folder. `claims` decides which entries the format reads, so a misnamed one is an error.
@dataclass(frozen=True)
class Layout:
    name: re.Pattern
    example: str
    is_dir: bool
    suffix: str
    per_block: bool = True
    files: tuple[str, ...] = ()  # inside a folder output: the files the reader reads, if present

    def claims(self, path: Path) -> bool:
        return path.is_dir() == self.is_dir and path.name.lower().endswith(self.suffix)


FSL_MRS_REQUIRED = ("concentrations.csv", "qc.csv")
LAYOUTS = {
    "lcmodel_table": Layout(
        re.compile(rf"^{_ID}_block-(?P<block>\d+)\.(?i:table)$"),
        "sub-01_ses-placebo_block-01.table",
        False,
        ".table",
    ),
    "lcmodel_csv": Layout(
        re.compile(rf"^{_ID}_block-(?P<block>\d+)\.(?i:csv)$"),
        "sub-01_ses-placebo_block-01.csv",
        False,
        ".csv",
    ),
    "fsl_mrs": Layout(
        re.compile(rf"^{_ID}_block-(?P<block>\d+)_fsl_mrs$"),
        "sub-01_ses-placebo_block-01_fsl_mrs/",
        True,
        "_fsl_mrs",
        files=(*FSL_MRS_REQUIRED, "summary.csv"),
    ),
    "fsl_dynmrs": Layout(
        re.compile(rf"^{_ID}_fsl_dynmrs$"),
        "sub-01_ses-placebo_fsl_dynmrs/",
        True,
        "_fsl_dynmrs",
        per_block=False,
        files=("mapped_parameters.csv", "dyn_cov.csv"),
    ),
}
# Study-level formats: the file that marks them at the top of data_dir.
STUDY_FILES = {"osprey": "osprey_datasets.tsv", "tidy_tsv": "mrs.tsv"}
# The names of config mrs.format, in the order messages and docs list them: each is written once,
# as a key above. The reader dispatch (ingest.mrs.FORMATS), the schema's enum and the docs'
# format tables are checked against this list (tests/test_formats.py).
FORMAT_NAMES = (*LAYOUTS, *STUDY_FILES)

# Per-session formats may instead list their outputs here (one row per block).
MANIFEST = "mrs_files.tsv"
MANIFEST_COLUMNS = ("participant_id", "condition", "block", "path")

# Osprey: its output folder inside data_dir, and the candidate names of its tables in the order
# they are looked for (Osprey 2 first); the first that exists is read.
OSPREY_FOLDER = "osprey"
# Sub-spectrum whose tables are read (config mrs.osprey_subspectrum): 'auto' takes the unedited
# one, A (Osprey 2) or off (Osprey 1); edited data (MEGA, HERMES) name diff1, diff2, sum, ...
OSPREY_AUTO_SUBSPECTRA = ("A", "off")
_OSPREY_PATTERNS = (
    "{sub}_{quant}_Voxel_1_Basis_1.tsv",
    "{sub}_{quant}_Voxel_1_Basis_1.csv",
    "{sub}_{quant}_Voxel_1.tsv",
    "{sub}_{quant}_Voxel_1.csv",
    "{sub}_{quant}.csv",
)
_OSPREY_NAME = re.compile(
    r"^(?P<sub>[A-Za-z0-9]+)_(?P<quant>[A-Za-z]+)(?:_Voxel_\d+)?(?:_Basis_\d+)?\.(?:tsv|csv)$"
)
OSPREY_QM_FILES = ("QM_processed_spectra.tsv", "QM_processed_spectra.csv")
OSPREY_QUANTITIES = ("amplMets", "tCr")
OSPREY_CRLB = "CRLB"  # LCModel mode: LCModel's %SD per metabolite, one row per dataset


def osprey_subspectra(subspectrum: str = "auto") -> tuple[str, ...]:
    return OSPREY_AUTO_SUBSPECTRA if subspectrum == "auto" else (subspectrum,)


def osprey_quant_table(folder: Path, quant: str, subspectrum: str = "auto") -> Path | None:
    for sub in osprey_subspectra(subspectrum):
        for pattern in _OSPREY_PATTERNS:
            path = folder / "QuantifyResults" / pattern.format(sub=sub, quant=quant)
            if path.is_file():
                return path
    return None


def osprey_found_subspectra(folder: Path) -> list[str]:
    """Sub-spectra that have quantification tables in QuantifyResults/ (for messages)."""
    names = (p.name for p in (folder / "QuantifyResults").glob("*") if p.is_file())
    return sorted(
        {
            m.group("sub")
            for m in map(_OSPREY_NAME.match, names)
            if m and m.group("quant") in (*OSPREY_QUANTITIES, OSPREY_CRLB)
        }
    )


def manifest_paths(data_dir: Path) -> list[Path]:
    """The paths a manifest lists (no checks: the reader validates; this only feeds Snakemake)."""
    manifest = data_dir / MANIFEST
    try:
        lines = manifest.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    header = [name.strip() for name in lines[0].split("\t")] if lines else []
    if "path" not in header:
        return []
    at = header.index("path")
    fields = (line.split("\t") for line in lines[1:] if line.strip())
    return [data_dir / row[at].strip() for row in fields if len(row) > at and row[at].strip()]


def osprey_qm_table(folder: Path) -> Path | None:
    return next((folder / name for name in OSPREY_QM_FILES if (folder / name).is_file()), None)


def output_kind(path: Path) -> str | None:
    """The per-session format an entry of an mrs/ folder belongs to, if any (other tools' files)."""
    for fmt, layout in LAYOUTS.items():
        if layout.claims(path):
            return fmt
    return None


def format_inputs(data_dir: str | Path, fmt: str, osprey_subspectrum: str = "auto") -> list[str]:
    """Sorted paths of the raw files format `fmt` reads, as they exist now (never raises for
    missing files), so that Snakemake reruns ingestion when one of them changes, and only then."""
    data_dir = Path(data_dir)
    paths = [p for p in data_dir.glob(SIDECAR_GLOB) if p.is_file()]
    if fmt in LAYOUTS:
        layout = LAYOUTS[fmt]
        if (data_dir / MANIFEST).is_file():
            entries = [data_dir / MANIFEST, *manifest_paths(data_dir)]
        else:
            entries = [
                e
                for e in data_dir.glob(SESSION_GLOB)
                if layout.claims(e) and layout.name.match(e.name)
            ]
        for entry in entries:
            if layout.is_dir and entry.is_dir():
                paths += [entry / name for name in layout.files if (entry / name).is_file()]
            else:
                paths.append(entry)
    elif fmt == "osprey":
        folder = data_dir / OSPREY_FOLDER
        found = [
            osprey_quant_table(folder, quant, osprey_subspectrum)
            for quant in (*OSPREY_QUANTITIES, OSPREY_CRLB)
        ] + [osprey_qm_table(folder)]
        paths += [data_dir / STUDY_FILES[fmt]] + [p for p in found if p is not None]
    elif fmt in STUDY_FILES:
        paths.append(data_dir / STUDY_FILES[fmt])
    else:
        raise ValueError(f"mrs.format: expected one of {list(FORMAT_NAMES)}, got {fmt!r}")
    return sorted({str(p) for p in paths if p.is_file()})


def study_inputs(data_dir: str | Path, mrs_files: list[str], sheets: list[str]) -> list[Path]:
    """The raw files the pipeline reads (participants.tsv and its dictionary, the clinical sheets,
    the configured format's fMRS files, `format_inputs`, given so that a caller lists them once)
    and dataset_description.json, those that exist, in sorted order of their path in data_dir.
    Other files (a README, notes) are not part of the study."""
    root = Path(data_dir)
    named = [root / "participants.tsv", root / "participants.json", root / DESCRIPTION]
    named += [root / "clinical" / sheet for sheet in sheets]
    found = {Path(path) for path in mrs_files}
    found |= {path for path in named if path.is_file()}
    return sorted(found, key=lambda path: path.relative_to(root).as_posix())
