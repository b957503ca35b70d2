"""What every fit-output reader shares: the tidy MRS table they all return, block timing,
numbers and the session inventory of the raw layout (file names: `layout`)."""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ...common.errors import InputError
from ...common.tables import read_tsv_text, read_utf8_text
from .layout import (
    LAYOUTS,
    MANIFEST,
    MANIFEST_COLUMNS,
    SESSION_GLOB,
    SIDECAR_NAME,
    STUDY_FILES,
    output_kind,
)
from .vocabulary import (
    COMBINED,
    canonical_name,
    parts_of,
)  # one vocabulary, listed in docs/data_formats.md

UNDETERMINED_PERCENT = 999.0  # LCModel and FSL-MRS cap %SD at 999: "could not be estimated"
MISSING_TEXT = ("", "NA", "n/a", "NaN", "nan")  # R, BIDS and MATLAB spellings of a missing value
_NUMBER = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eEdD][-+]?\d+)?$")

# ---------------------------------------------------------------------------------------------
# The tidy MRS table every reader returns

# One row per participant x condition x block x metabolite.
MRS_COLUMNS = [
    "participant_id",
    "condition",
    "block",
    "onset_min",
    "offset_min",
    "metabolite",  # canonical name: Glu, Gln, Glx, NAA, NAAG, tNAA, Cr, PCr, tCr, ...
    "tool_metabolite",  # the name the fitting tool used, e.g. Glu+Gln
    "concentration",  # tool units (institutional units for LCModel without water scaling)
    "crlb_percent",  # %SD (Cramer-Rao lower bound); NaN where the tool marks it undetermined
    "crlb_undetermined",  # True where the tool gave no usable %SD (LCModel 999%)
    "ratio_to_tcr",  # concentration / tCr as reported by the tool (or computed)
    "fwhm_ppm",
    "snr",
    "snr_definition",  # SNR differs between tools: keep the tool's definition beside it
    "source_tool",
    "source_file",
]

PHASES = ("baseline", "infusion")
SIDECAR_COLUMNS = ["block", "onset_min", "offset_min", "phase"]
_DECIMAL = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")
_FLOAT_COLUMNS = [
    "onset_min",
    "offset_min",
    "concentration",
    "crlb_percent",
    "ratio_to_tcr",
    "fwhm_ppm",
    "snr",
]
_STRING_COLUMNS = [
    "participant_id",
    "condition",
    "metabolite",
    "tool_metabolite",
    "snr_definition",
    "source_tool",
    "source_file",
]


def _empty_tidy() -> pd.DataFrame:
    frame = pd.DataFrame({column: pd.Series([], dtype=object) for column in MRS_COLUMNS})
    return _typed(frame)


def tidy_frame(records: list[dict]) -> pd.DataFrame:
    """The tidy MRS table (MRS_COLUMNS, fixed dtypes) from row dicts in the order given."""
    if not records:
        return _empty_tidy()
    return _typed(pd.DataFrame.from_records(records)).reset_index(drop=True)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame[MRS_COLUMNS].copy()
    frame["block"] = frame["block"].astype("int64")
    for column in _FLOAT_COLUMNS:
        frame[column] = frame[column].astype("float64")
    frame["crlb_undetermined"] = frame["crlb_undetermined"].astype(bool)
    for column in _STRING_COLUMNS:
        frame[column] = frame[column].astype("str")
    return frame


# ---------------------------------------------------------------------------------------------
# Block timing


def read_blocks_sidecar(path: str | Path, label: str | None = None) -> pd.DataFrame:
    """Validated block timing: sorted, non-overlapping blocks, baseline before the infusion
    starts."""
    path = Path(path)
    label = label or path.name
    rows = read_tsv_text(path)
    header, body = rows[0], rows[1:]
    for column in SIDECAR_COLUMNS:
        if column not in header:
            raise InputError(label, "line 1", column, "a column of this name in the header", header)
    if not body:
        raise InputError(label, "line 2", None, "one row per block", "no rows")
    position = {column: header.index(column) for column in SIDECAR_COLUMNS}
    records = []
    for number, row in enumerate(body, start=2):
        where = f"line {number}"
        block_text = row[position["block"]].strip()
        if not block_text.isdigit() or int(block_text) < 1:
            raise InputError(label, where, "block", "a block number 1, 2, ...", block_text)
        record = {"block": int(block_text), "line": number}
        for column in ("onset_min", "offset_min"):
            text = row[position[column]].strip()
            if not _DECIMAL.match(text):
                raise InputError(
                    label, where, column, "minutes from the start of the infusion (a number)", text
                )
            record[column] = float(text)
        phase = row[position["phase"]].strip()
        if phase not in PHASES:
            raise InputError(label, where, "phase", "one of baseline, infusion", phase)
        record["phase"] = phase
        if not record["onset_min"] < record["offset_min"]:
            raise InputError(
                label,
                where,
                "offset_min",
                f"a time after onset_min ({record['onset_min']:g})",
                row[position["offset_min"]].strip(),
            )
        if phase == "baseline" and record["offset_min"] > 0:
            raise InputError(
                label,
                where,
                "offset_min",
                "a baseline block ending at or before 0 (infusion start)",
                record["offset_min"],
            )
        if phase == "infusion" and record["onset_min"] < 0:
            raise InputError(
                label,
                where,
                "onset_min",
                "an infusion block starting at or after 0 (infusion start)",
                record["onset_min"],
            )
        if records:
            previous = records[-1]
            if record["block"] <= previous["block"]:
                after = f"after block {previous['block']} on line {previous['line']}"
                raise InputError(
                    label, where, "block", f"blocks in increasing order ({after})", record["block"]
                )
            if record["onset_min"] < previous["offset_min"]:
                raise InputError(
                    label,
                    where,
                    "onset_min",
                    f"no overlap with block {previous['block']}, "
                    f"which ends at {previous['offset_min']:g}",
                    record["onset_min"],
                )
        records.append(record)
    return pd.DataFrame.from_records(records)


# ---------------------------------------------------------------------------------------------
# Numbers and text


def relative(path: Path, data_dir: Path) -> str:
    return Path(path).relative_to(data_dir).as_posix()


def parse_number(
    text: str,
    file,
    where: str | None,
    column: str | None,
    expected: str = "a number",
    missing_ok: bool = False,
) -> float:
    """A decimal or E-format number; NaN for a missing value only where missing_ok.

    float() alone would accept 'inf', '1_0' and ' nan ', which no fitting tool writes.
    """
    text = text.strip()
    if missing_ok and text in MISSING_TEXT:
        return math.nan
    if missing_ok and text.lower() in ("inf", "-inf", "+inf"):
        return math.nan  # MATLAB writes Inf for a ratio to a zero reference: no usable value
    if not _NUMBER.match(text):
        raise InputError(file, where, column, expected, text)
    return float(text.replace("d", "e").replace("D", "E"))


def read_delimited(path: Path, label: str, delimiter: str, what: str) -> list[list[str]]:
    """Rows of a small UTF-8 text table, fields stripped; blank lines dropped, line numbers kept.

    Each row is prefixed by its 1-based line number as a string so messages can name it.
    """
    text = read_utf8_text(path, what)
    if not text.strip():
        raise InputError(label, "line 1", None, what, "an empty file")
    rows = []
    for number, fields in enumerate(csv.reader(text.splitlines(), delimiter=delimiter), start=1):
        if not fields or all(not value.strip() for value in fields):
            continue
        rows.append([str(number)] + [value.strip() for value in fields])
    return rows


def crlb_fields(
    percent: float, concentration: float, file, where: str | None, column: str
) -> tuple[float, bool]:
    """(crlb_percent, crlb_undetermined) under the rule LCModel and FSL-MRS share.

    %SD >= 999 or a concentration <= 0 means the tool could not estimate it: NaN, undetermined.
    A %SD the tool does not report stays NaN and is undetermined only for a concentration <= 0
    (no relative SD exists then), so a zero fit is treated alike by every format.
    """
    if not math.isnan(percent) and percent < 0:
        raise InputError(file, where, column, "a %CRLB >= 0", percent)
    if math.isnan(concentration):
        return math.nan, False
    if concentration <= 0 or (not math.isnan(percent) and percent >= UNDETERMINED_PERCENT):
        return math.nan, True
    return percent, False


# ---------------------------------------------------------------------------------------------
# One spectrum -> tidy rows


@dataclass(frozen=True)
class Measure:
    """One metabolite of one spectrum as the tool reported it."""

    tool_metabolite: str
    concentration: float
    crlb_percent: float
    crlb_undetermined: bool
    ratio_to_tcr: float | None = None  # None: concentration / tCr concentration of the spectrum
    where: str | None = None  # place in the source file, for messages


@dataclass
class Spectrum:
    participant_id: str
    condition: str
    block: int
    onset_min: float
    offset_min: float
    measures: list[Measure]
    fwhm_ppm: float
    snr: float
    snr_definition: str
    source_tool: str
    source_file: str  # relative to data_dir
    label: str = ""  # file named in messages (defaults to source_file)


def spectrum_records(spectrum: Spectrum) -> list[dict]:
    """Tidy rows of one spectrum in the tool's order, with canonical names and ratio_to_tcr."""
    label = spectrum.label or spectrum.source_file
    seen: dict[str, str] = {}
    for measure in spectrum.measures:
        metabolite = canonical_name(measure.tool_metabolite)
        if metabolite in seen:
            both = f"{measure.tool_metabolite} and {seen[metabolite]} are both {metabolite}"
            raise InputError(
                label,
                measure.where,
                "metabolite",
                f"one entry per metabolite ({both})",
                measure.tool_metabolite,
            )
        seen[metabolite] = measure.tool_metabolite
    tcr = next(
        (m.concentration for m in spectrum.measures if canonical_name(m.tool_metabolite) == "tCr"),
        math.nan,
    )
    negative = {canonical_name(m.tool_metabolite) for m in spectrum.measures if m.concentration < 0}
    records = []
    for measure in spectrum.measures:
        measure = _negative_part_undetermined(measure, negative)
        ratio = measure.ratio_to_tcr
        if ratio is None:
            ratio = measure.concentration / tcr if tcr > 0 else math.nan
        records.append(
            {
                "participant_id": spectrum.participant_id,
                "condition": spectrum.condition,
                "block": int(spectrum.block),
                "onset_min": spectrum.onset_min,
                "offset_min": spectrum.offset_min,
                "metabolite": canonical_name(measure.tool_metabolite),
                "tool_metabolite": measure.tool_metabolite,
                "concentration": measure.concentration,
                "crlb_percent": measure.crlb_percent,
                "crlb_undetermined": bool(measure.crlb_undetermined),
                "ratio_to_tcr": ratio,
                "fwhm_ppm": spectrum.fwhm_ppm,
                "snr": spectrum.snr,
                "snr_definition": spectrum.snr_definition,
                "source_tool": spectrum.source_tool,
                "source_file": spectrum.source_file,
            }
        )
    return records


def _negative_part_undetermined(measure: Measure, negative: set[str]) -> Measure:
    """A sum with a negative part (tools that do not bound amplitudes, e.g. fsl_dynmrs) is no
    measurement of the sum: tNAA = 0.00324 + (-0.00306) is noise, so its %CRLB is undetermined."""
    if not negative.intersection(parts_of(canonical_name(measure.tool_metabolite))):
        return measure
    return Measure(
        measure.tool_metabolite,
        measure.concentration,
        math.nan,
        True,
        measure.ratio_to_tcr,
        measure.where,
    )


def study_table(spectra: list[Spectrum], conditions: list[str]) -> pd.DataFrame:
    """The tidy table of a study, sorted like read_study_mrs: participant, condition order,
    block."""
    order = {condition: index for index, condition in enumerate(conditions)}
    spectra = sorted(spectra, key=lambda s: (s.participant_id, order[s.condition], s.block))
    records = [record for spectrum in spectra for record in spectrum_records(spectrum)]
    return tidy_frame(records)


def add_sums(measures: list[Measure], sum_sd=None) -> list[Measure]:
    """Measures plus Glx, tNAA, tCr, tCho as plain sums where the tool reports only the parts.

    The SD of a sum needs the covariance of its parts: `sum_sd(part measures)` gives it where the
    tool wrote the covariance (fsl_dynmrs dyn_cov.csv), else crlb_percent is NaN. A sum <= 0 or
    with a negative part is undetermined (spectrum_records), like a fitted zero.
    """
    by_name = {canonical_name(m.tool_metabolite): m for m in measures}
    out = list(measures)
    for combined, parts in COMBINED.items():
        if combined in by_name or not all(part in by_name for part in parts):
            continue
        members = [by_name[part] for part in parts]
        total = sum(m.concentration for m in members)
        sd = sum_sd(members) if sum_sd is not None else math.nan
        percent = 100.0 * sd / total if total > 0 and not math.isnan(sd) else math.nan
        percent = min(percent, UNDETERMINED_PERCENT) if not math.isnan(percent) else percent
        crlb, undetermined = crlb_fields(percent, total, "sum", members[0].where, combined)
        out.append(
            Measure(
                "+".join(m.tool_metabolite for m in members),
                total,
                crlb,
                undetermined,
                where=members[0].where,
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# Per-session layout: inventory and block timing


@dataclass
class Session:
    participant_id: str
    condition: str
    folder: Path
    fits: dict = field(default_factory=dict)  # block (or 0 for a per-session output) -> path
    sidecar: Path | None = None


def session_entries(data_dir: Path, roots: list[str] | None = None) -> list[Path]:
    """The entries of every session folder of the study, or (roots) of these participants' only."""
    if roots is None:
        return sorted(data_dir.glob(SESSION_GLOB))
    return sorted(path for root in roots for path in data_dir.glob(f"{root}/ses-*/mrs/*"))


def session_inventory(
    data_dir: Path,
    fmt: str,
    participant_ids: set[str],
    conditions: list[str],
    roots: list[str] | None = None,
) -> dict:
    """{(participant_id, condition): Session} for a per-session format, names checked; of the
    participant folders `roots` only, when given (session_entries).

    A session folder holding only another tool's outputs is a format mismatch (InputError); other
    tools' outputs beside this format's are ignored (LCModel writes .table and .csv side by side).
    """
    layout = LAYOUTS[fmt]
    sessions: dict[tuple[str, str], Session] = {}
    for path in session_entries(data_dir, roots):
        if path.name.startswith("."):
            continue
        rel = relative(path, data_dir)
        is_sidecar = path.is_file() and path.suffix.lower() == ".tsv"
        if not is_sidecar and not layout.claims(path):
            continue  # other tools' outputs: see check_format_sessions
        pattern = SIDECAR_NAME if is_sidecar else layout.name
        match = pattern.match(path.name)
        if match is None:
            expected = (
                "a name like sub-01_ses-placebo_blocks.tsv"
                if is_sidecar
                else f"a name like {layout.example}"
            )
            raise InputError(rel, None, "file name", expected, path.name)
        participant, condition = match.group("participant"), match.group("condition")
        folder_participant, folder_session = path.parts[-4], path.parts[-3]
        if (folder_participant, folder_session) != (participant, f"ses-{condition}"):
            raise InputError(
                rel,
                None,
                "file name",
                f"the participant and session of its folder "
                f"({folder_participant}/{folder_session})",
                path.name,
            )
        if participant not in participant_ids:
            raise InputError(
                rel, None, "participant_id", "a participant listed in participants.tsv", participant
            )
        if condition not in conditions:
            raise InputError(
                rel, None, "condition", f"one of the configured conditions {conditions}", condition
            )
        session = sessions.setdefault(
            (participant, condition), Session(participant, condition, path.parent)
        )
        if is_sidecar:
            session.sidecar = path
            continue
        block = int(match.group("block")) if layout.per_block else 0
        if block in session.fits:
            other = relative(session.fits[block], data_dir)
            what = (
                f"one output per block (block {block} is also {other})"
                if layout.per_block
                else f"one output per session (also {other})"
            )
            raise InputError(rel, None, "block", what, block)
        session.fits[block] = path
    check_format_sessions(
        data_dir, fmt, {session.folder for session in sessions.values() if session.fits}, roots
    )
    return sessions


def unlisted_participant_folders(data_dir: Path, participant_ids: set[str]) -> None:
    """InputError naming the first fMRS file of a participant folder that participants.tsv does
    not list (the check a batched read leaves to the step that gathers the batches)."""
    for folder in sorted(data_dir.glob("sub-*")):
        if folder.is_dir() and folder.name not in participant_ids:
            files = session_entries(data_dir, [folder.name])
            if files:
                raise InputError(
                    relative(files[0], data_dir),
                    None,
                    "participant_id",
                    "a participant listed in participants.tsv",
                    folder.name,
                )


def check_format_sessions(
    data_dir: Path, fmt: str, folders_with_fits: set[Path], roots: list[str] | None = None
) -> None:
    """InputError where a session folder holds other tools' outputs but none of `fmt`.

    With no outputs of `fmt` anywhere, a study table of a study-level format is a mismatch too.
    """
    for path in session_entries(data_dir, roots):
        if path.name.startswith(".") or path.parent in folders_with_fits:
            continue
        kind = output_kind(path)
        if kind is not None and kind != fmt:
            raise_format_mismatch(data_dir, fmt, path.parent, path)
    if not folders_with_fits:
        for other, name in STUDY_FILES.items():
            if (data_dir / name).is_file():
                raise InputError(
                    data_dir,
                    None,
                    "mrs.format",
                    f"outputs of mrs.format {fmt} "
                    f"(e.g. sub-01/ses-placebo/mrs/{LAYOUTS[fmt].example})",
                    f"{name}, the study table of mrs.format {other}",
                )


def raise_format_mismatch(data_dir: Path, fmt: str, where: Path, example: Path) -> None:
    kind = output_kind(example) or "another format"
    expected = f"outputs of mrs.format {fmt}"
    if fmt in LAYOUTS:
        expected += f" (e.g. {LAYOUTS[fmt].example})"
    elif fmt in STUDY_FILES:
        expected += f" ({STUDY_FILES[fmt]} at the top of the data folder)"
    raise InputError(
        relative(where, data_dir) if where != data_dir else data_dir,
        None,
        "mrs.format",
        expected,
        f"{kind} output {relative(example, data_dir)}",
    )


def check_study_file(data_dir: Path, fmt: str) -> Path:
    """The study-level file of osprey/tidy_tsv; InputError naming what is there instead."""
    if (data_dir / MANIFEST).is_file():
        raise InputError(
            MANIFEST,
            None,
            "mrs.format",
            f"no manifest with mrs.format {fmt}, whose "
            f"{STUDY_FILES[fmt]} names every spectrum (the manifest serves per-block and "
            "per-session formats)",
            "a manifest",
        )
    path = data_dir / STUDY_FILES[fmt]
    if path.is_file():
        return path
    for entry in sorted(data_dir.glob(SESSION_GLOB)):
        if output_kind(entry) is not None:
            raise_format_mismatch(data_dir, fmt, data_dir, entry)
    for other, name in STUDY_FILES.items():
        if other != fmt and (data_dir / name).is_file():
            raise InputError(
                path.name,
                None,
                "mrs.format",
                f"the {STUDY_FILES[fmt]} of mrs.format {fmt}",
                f"{name}, the study table of mrs.format {other}",
            )
    raise InputError(path.name, None, None, f"the study table of mrs.format {fmt}", "no such file")


def session_blocks(session: Session, data_dir: Path, fmt: str) -> tuple[pd.DataFrame, str]:
    """The session's validated sidecar (sorted by block) and its label.

    Per-block formats: every output has a sidecar row and every row an output. A session with
    outputs but no sidecar, or a sidecar but no output, is an InputError.
    """
    layout = LAYOUTS[fmt]
    if session.sidecar is None:
        first = session.fits[min(session.fits)]
        raise InputError(
            relative(first, data_dir),
            None,
            "block timing",
            f"a sidecar {session.participant_id}_ses-{session.condition}_blocks.tsv "
            f"in the same folder",
            "none",
        )
    label = relative(session.sidecar, data_dir)
    timing = read_blocks_sidecar(session.sidecar, label)
    name = (
        layout.example.rstrip("/")
        .replace("sub-01", session.participant_id)
        .replace("placebo", session.condition)
    )
    if not layout.per_block:
        if not session.fits:
            raise InputError(
                label, None, "block", f"an output folder {name}/ beside it", "no such folder"
            )
        return timing, label
    listed = dict(zip(timing["block"], timing["line"]))
    for block, path in sorted(session.fits.items()):
        if block not in listed:
            raise InputError(
                relative(path, data_dir),
                None,
                "block",
                f"a row for block {block} in {label}",
                f"blocks {sorted(listed)}",
            )
    for block, line in sorted(listed.items()):
        if block not in session.fits:
            raise InputError(
                label,
                f"line {line}",
                "block",
                f"a fit output {name.replace('block-01', f'block-{block:02d}')}",
                "no such file",
            )
    return timing, label


def timed_sessions(
    data_dir: Path,
    fmt: str,
    participants: pd.DataFrame,
    conditions: list[str],
    batch: bool = False,
):
    """(session, its validated block timing, the sidecar's label) for each session of a per-session
    format, in participant and condition order: the loop every per-session reader starts with.
    With a manifest (mrs_files.tsv) its rows name the outputs instead of the file names. With
    `batch`, `participants` is one batch of the study: only their folders are read (so a batch
    costs its own size), and folders of participants the study does not list are left to
    unlisted_participant_folders, which the gathering step runs once."""
    participant_ids = set(participants["participant_id"].astype(str))
    if (data_dir / MANIFEST).is_file():
        yield from manifest_sessions(data_dir, fmt, participant_ids, conditions)
        return
    roots = sorted(participant_ids) if batch else None
    sessions = session_inventory(data_dir, fmt, participant_ids, conditions, roots)
    for _, session in sorted(sessions.items()):
        timing, label = session_blocks(session, data_dir, fmt)
        yield session, timing, label


def read_listing(path: Path, label: str, required) -> tuple[list[str], list[list[str]], bool]:
    """(header, data rows, whether block timing is given) of a study-level listing (mrs.tsv,
    osprey_datasets.tsv, mrs_files.tsv): required columns present, onset_min/offset_min both or
    neither."""
    rows = read_tsv_text(path)
    header = rows[0]
    for column in required:
        if column not in header:
            raise InputError(label, "line 1", column, "a column of this name in the header", header)
    timed = [c for c in ("onset_min", "offset_min") if c in header]
    if len(timed) == 1:
        raise InputError(
            label,
            "line 1",
            "onset_min" if "offset_min" in timed else "offset_min",
            "both onset_min and offset_min, or neither",
            header,
        )
    return header, rows[1:], bool(timed)


def manifest_sessions(data_dir: Path, fmt: str, participant_ids: set[str], conditions: list[str]):
    """timed_sessions from <data_dir>/mrs_files.tsv: participant_id, condition, block, path
    (relative to data_dir), optionally onset_min/offset_min (else the sidecars give the timing). A
    per-session format (fsl_dynmrs) names its one output folder on every row of the session."""
    layout, label = LAYOUTS[fmt], MANIFEST
    header, body, timed = read_listing(data_dir / MANIFEST, label, MANIFEST_COLUMNS)
    kind = "folder" if layout.is_dir else "file"
    keys, given, sessions, seen, listed = [], {} if timed else None, {}, {}, set()
    for number, values in enumerate(body, start=2):
        row, where = dict(zip(header, (value.strip() for value in values))), f"line {number}"
        key = parse_key(row, label, where, participant_ids, conditions)
        target = data_dir / row["path"]
        inside = not Path(row["path"]).is_absolute() and ".." not in Path(row["path"]).parts
        if not row["path"] or not inside or target.is_dir() != layout.is_dir or not target.exists():
            raise InputError(
                label,
                where,
                "path",
                f"an existing {fmt} output {kind}, relative to the data folder "
                f"(e.g. {layout.example})",
                row["path"],
            )
        spectrum = (key.participant_id, key.condition, key.block)
        if spectrum in seen:
            raise InputError(
                label,
                where,
                "block",
                f"one row per spectrum (also on {seen[spectrum]})",
                "/".join(map(str, spectrum)),
            )
        seen[spectrum] = where
        session = sessions.setdefault(
            spectrum[:2], Session(key.participant_id, key.condition, target.parent)
        )
        block = key.block if layout.per_block else 0
        other = session.fits.get(block)
        if not layout.per_block and other is not None and other != target:
            raise InputError(
                label,
                where,
                "path",
                f"the session's one output folder on every row ({relative(other, data_dir)})",
                row["path"],
            )
        if layout.per_block and target in listed:
            raise InputError(
                label, where, "path", "one fit output per block", f"{row['path']} listed twice"
            )
        listed.add(target)
        session.fits[block] = target
        keys.append(key)
        if given is not None:
            given[key] = (row["onset_min"], row["offset_min"], where)
    if not keys:
        raise InputError(label, "line 2", None, "one row per fit output", "no rows")
    timing = study_timing(data_dir, keys, given, label)
    lines = {(k.participant_id, k.condition, k.block): int(k.where.split()[-1]) for k in keys}
    for (participant, condition), session in sorted(sessions.items()):
        blocks = sorted(b for (p, c, b) in timing if (p, c) == (participant, condition))
        frame = pd.DataFrame(
            {
                "block": blocks,
                "onset_min": [timing[(participant, condition, b)][0] for b in blocks],
                "offset_min": [timing[(participant, condition, b)][1] for b in blocks],
                "line": [lines[(participant, condition, b)] for b in blocks],
            }
        )
        yield session, frame, label


# ---------------------------------------------------------------------------------------------
# Study-level formats: spectra listed in one table, timing in it or in the sidecars


@dataclass(frozen=True)
class SpectrumKey:
    participant_id: str
    condition: str
    block: int
    where: str  # place in the study table that first names this spectrum


def parse_key(
    row: dict, label: str, where: str, participant_ids: set[str], conditions: list[str]
) -> SpectrumKey:
    participant = row["participant_id"]
    if participant not in participant_ids:
        raise InputError(
            label, where, "participant_id", "a participant listed in participants.tsv", participant
        )
    condition = row["condition"]
    if condition not in conditions:
        raise InputError(
            label, where, "condition", f"one of the configured conditions {conditions}", condition
        )
    block = row["block"]
    if not block.isdigit() or int(block) < 1:
        raise InputError(label, where, "block", "a block number 1, 2, ...", block)
    return SpectrumKey(participant, condition, int(block), where)


def study_timing(data_dir: Path, keys: list[SpectrumKey], given: dict | None, label: str) -> dict:
    """{(participant, condition, block): (onset_min, offset_min)} for a study-level format.

    `given` maps a key to its (onset_text, offset_text, where) when the study table has the
    columns; then no sidecar may exist for that session (one source of timing). Otherwise each
    session's sidecar gives the timing and must list exactly the session's blocks.
    """
    sessions: dict[tuple[str, str], list[SpectrumKey]] = {}
    for key in keys:
        sessions.setdefault((key.participant_id, key.condition), []).append(key)
    timing = {}
    for (participant, condition), session_keys in sorted(sessions.items()):
        sidecar = (
            data_dir
            / participant
            / f"ses-{condition}"
            / "mrs"
            / f"{participant}_ses-{condition}_blocks.tsv"
        )
        first = min(session_keys, key=lambda k: k.block)
        if given is not None:
            if sidecar.is_file():
                raise InputError(
                    label,
                    first.where,
                    "onset_min",
                    f"block timing in one place: onset_min/offset_min here or the sidecar "
                    f"{relative(sidecar, data_dir)}, not both",
                    "both",
                )
            blocks = _timing_in_table(session_keys, given, label)
        elif not sidecar.is_file():
            raise InputError(
                label,
                first.where,
                "block timing",
                f"onset_min/offset_min columns or a sidecar {relative(sidecar, data_dir)}",
                "neither",
            )
        else:
            blocks = _timing_in_sidecar(session_keys, sidecar, data_dir, label)
        for block, onset_offset in blocks.items():
            timing[(participant, condition, block)] = onset_offset
    return timing


def _timing_in_table(session_keys: list[SpectrumKey], given: dict, label: str) -> dict:
    """{block: (onset_min, offset_min)} of one session from the study table's onset_min and
    offset_min, checked as a sidecar's are: each block ends after it starts, none overlaps the
    one before."""
    blocks = {}
    previous = None  # (block, onset, offset) of the session's block before
    for key in sorted(session_keys, key=lambda k: k.block):
        onset_text, offset_text, where = given[key]
        onset = parse_number(
            onset_text, label, where, "onset_min", "minutes from the start of the infusion"
        )
        offset = parse_number(
            offset_text,
            label,
            where,
            "offset_min",
            "minutes from the start of the infusion",
        )
        if not onset < offset:
            raise InputError(
                label,
                where,
                "offset_min",
                f"a time after onset_min ({onset:g})",
                offset_text,
            )
        if previous and onset < previous[2]:
            raise InputError(
                label,
                where,
                "onset_min",
                f"no overlap with block {previous[0]}, which ends at {previous[2]:g}",
                onset,
            )
        previous = (key.block, onset, offset)
        blocks[key.block] = (onset, offset)
    return blocks


def _timing_in_sidecar(
    session_keys: list[SpectrumKey], sidecar: Path, data_dir: Path, label: str
) -> dict:
    """{block: (onset_min, offset_min)} of one session from its sidecar, which lists exactly the
    blocks the study table has spectra of (a block without timing, or timing without a spectrum,
    is a mistake in one of the two files)."""
    sidecar_label = relative(sidecar, data_dir)
    frame = read_blocks_sidecar(sidecar, sidecar_label)
    listed = {int(row.block): row for row in frame.itertuples(index=False)}
    present = {key.block for key in session_keys}
    blocks = {}
    for key in sorted(session_keys, key=lambda k: k.block):
        if key.block not in listed:
            raise InputError(
                label,
                key.where,
                "block",
                f"a row for block {key.block} in {sidecar_label}",
                f"blocks {sorted(listed)}",
            )
        blocks[key.block] = (listed[key.block].onset_min, listed[key.block].offset_min)
    for block, row in sorted(listed.items()):
        if block not in present:
            raise InputError(
                sidecar_label,
                f"line {row.line}",
                "block",
                f"a spectrum of block {block} in {label}",
                "none",
            )
    return blocks
