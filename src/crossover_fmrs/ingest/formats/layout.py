"""Where each fMRS format's files live: their names and the files a reader reads.

Pure path logic (no pandas), so the workflow can list a format's raw files as the inputs of
its ingestion rule when it builds the job graph: a file no reader reads changes nothing.

Per-session formats keep the BIDS-like tree,

    <data_dir>/sub-01/ses-placebo/mrs/<one fit output per block, or one per session>
    <data_dir>/sub-01/ses-placebo/mrs/sub-01_ses-placebo_blocks.tsv     block timing sidecar

and study-level formats (osprey, tidy_tsv) keep one table for the whole study at <data_dir>,
with block timing either in that table (onset_min, offset_min) or in the same sidecars.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

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
        return path.is_dir() == self.is_dir and path.name.endswith(self.suffix)


FSL_MRS_REQUIRED = ("concentrations.csv", "qc.csv")
LAYOUTS = {
    "lcmodel_table": Layout(re.compile(rf"^{_ID}_block-(?P<block>\d+)\.table$"),
                            "sub-01_ses-placebo_block-01.table", False, ".table"),
    "lcmodel_csv": Layout(re.compile(rf"^{_ID}_block-(?P<block>\d+)\.csv$"),
                          "sub-01_ses-placebo_block-01.csv", False, ".csv"),
    "fsl_mrs": Layout(re.compile(rf"^{_ID}_block-(?P<block>\d+)_fsl_mrs$"),
                      "sub-01_ses-placebo_block-01_fsl_mrs/", True, "_fsl_mrs",
                      files=(*FSL_MRS_REQUIRED, "summary.csv")),
    "fsl_dynmrs": Layout(re.compile(rf"^{_ID}_fsl_dynmrs$"),
                         "sub-01_ses-placebo_fsl_dynmrs/", True, "_fsl_dynmrs", per_block=False,
                         files=("mapped_parameters.csv",)),
}
# Study-level formats: the file that marks them at the top of data_dir.
STUDY_FILES = {"osprey": "osprey_datasets.tsv", "tidy_tsv": "mrs.tsv"}

# Osprey: its output folder inside data_dir, and the candidate names of its tables in the order
# they are looked for (Osprey 2 first); the first that exists is read.
OSPREY_FOLDER = "osprey"
_OSPREY_SUBSPECTRA = ("A", "off")
_OSPREY_PATTERNS = ("{sub}_{quant}_Voxel_1_Basis_1.tsv", "{sub}_{quant}_Voxel_1_Basis_1.csv",
                    "{sub}_{quant}_Voxel_1.tsv", "{sub}_{quant}_Voxel_1.csv", "{sub}_{quant}.csv")
OSPREY_QM_FILES = ("QM_processed_spectra.tsv", "QM_processed_spectra.csv")
OSPREY_QUANTITIES = ("amplMets", "tCr")


def osprey_quant_table(folder: Path, quant: str) -> Path | None:
    for sub in _OSPREY_SUBSPECTRA:
        for pattern in _OSPREY_PATTERNS:
            path = folder / "QuantifyResults" / pattern.format(sub=sub, quant=quant)
            if path.is_file():
                return path
    return None


def osprey_qm_table(folder: Path) -> Path | None:
    return next((folder / name for name in OSPREY_QM_FILES if (folder / name).is_file()), None)


def output_kind(path: Path) -> str | None:
    """The per-session format an entry of an mrs/ folder belongs to, if any (other tools' files)."""
    for fmt, layout in LAYOUTS.items():
        if layout.claims(path):
            return fmt
    return None


def format_inputs(data_dir: str | Path, fmt: str) -> list[str]:
    """Sorted paths of the raw files format `fmt` reads, as they exist now (never raises for
    missing files), so that Snakemake reruns ingestion when one of them changes, and only then."""
    data_dir = Path(data_dir)
    paths = [p for p in data_dir.glob(SIDECAR_GLOB) if p.is_file()]
    if fmt in LAYOUTS:
        layout = LAYOUTS[fmt]
        for entry in data_dir.glob(SESSION_GLOB):
            if not (layout.claims(entry) and layout.name.match(entry.name)):
                continue
            if layout.is_dir:
                paths += [entry / name for name in layout.files if (entry / name).is_file()]
            else:
                paths.append(entry)
    elif fmt == "osprey":
        folder = data_dir / OSPREY_FOLDER
        found = [osprey_quant_table(folder, quant) for quant in OSPREY_QUANTITIES] + [osprey_qm_table(folder)]
        paths += [data_dir / STUDY_FILES[fmt]] + [p for p in found if p is not None]
    elif fmt in STUDY_FILES:
        paths.append(data_dir / STUDY_FILES[fmt])
    else:
        raise ValueError(f"mrs.format: expected one of {[*LAYOUTS, *STUDY_FILES]}, got {fmt!r}")
    return sorted({str(p) for p in paths if p.is_file()})
