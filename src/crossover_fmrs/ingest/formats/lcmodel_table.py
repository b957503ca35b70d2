"""LCModel `.table` files (mrs.format lcmodel_table): parse one, and read a study's.

Layout, as LCModel 6.3 writes it (S. W. Provencher, LCModel user's manual; FORMAT statements
of subroutines FINOUT and EXITPS in LCModel.f, whose Fortran source is public since 2021):

    line 1    ' ' + version string ("LCModel (Version 6.3-1R) Copyright: ...")
    line 2..  ' ' + title line(s)
    (blank)
    $$CONC 21 lines in following concentration table = NCONC+1     <- counts the header below
        Conc.  %SD /Cr+PCr  Metabolite
     7.20E-08 166% 3.9E-02 Ala                     <- 1X, F8.3 or 1PE8.2, I4, '%', F8.3 or 1PE8.1,
        0.000 999%   0.000 PCh                        one character (' ', or '+'/'-' when a
        8.710   4%   1.021 Glu+Gln                    ratio prior is violated), name
    (blank)
    $$MISC  6 lines in following misc. output table
      FWHM = 0.054 ppm    S/N =  28                <- ' FWHM =', F6.3, ' ppm', 4X, 'S/N =', I4
      Data shift = 0.011 ppm                       <- F6.3, so a negative shift touches the '='
      Ph:   9 deg       2.2 deg/ppm
      alphaB,S = 1.7E-01,   3.7E-01
       28 spline knots.   Ns = 5(1)
       2 inflections.     1 extrema
    (blank)
    $$DIAG  0 lines in following diagnostic table:
    (blank)
    (blank)
    $$INPU  2 lines in following table of input changes:
     filtab='out.table'
     ltable=7

Concentration and ratio switch to E format when |x| > 999.999 or |x| < 0.0995 (x != 0).
A concentration <= 0 is printed as 0.000 with %SD 999; %SD is capped at 999, which means
"undetermined". Table and misc lines are padded with blanks to a fixed width.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ...common.errors import InputError
from .common import Measure, Spectrum, canonical_name, relative, study_table, timed_sessions

SOURCE_TOOL = "LCModel"
# LCModel FINOUT: S/N = 0.5 * max|fit - baseline| over the analysis window / rms of the residuals.
SNR_DEFINITION = (
    "LCModel S/N: maximum of the fitted spectrum minus baseline over the analysis window, "
    "divided by twice the rms of the fit residuals"
)
UNDETERMINED_SD = 999  # LCModel's cap on %SD: the tool could not estimate it

# A Fortran real as LCModel prints it: F or E format; D exponents accepted for safety.
_NUMBER = r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[EeDd][-+]?\d+)?"
_NUMBER_RE = re.compile(rf"^{_NUMBER}$")
_SD_RE = re.compile(r"^(\d+)%$")
_RATIO_NAME_RE = re.compile(rf"^\s*(?P<ratio>{_NUMBER})(?P<sep>\s+|[+-](?!\d))(?P<name>\S.*?)\s*$")
_CONC_RE = re.compile(
    r"^\$\$CONC\s*(?P<n>\S+)\s+lines in following concentration table", re.IGNORECASE
)
_MISC_RE = re.compile(r"^\$\$MISC\s*(?P<n>\S+)\s+lines in following misc", re.IGNORECASE)
_SECTION_RE = re.compile(r"^\$\$[A-Z]{4}\s*(?P<n>\d+)\s+lines?\b", re.IGNORECASE)
MAX_HEADER_LINES = 10  # version line and title (LCModel prints the TITLE on one or two lines)
_HEADER_RE = re.compile(r"^Conc\.\s+%SD\s+/(?P<reference>\S+)\s+Metab", re.IGNORECASE)
_FWHM_RE = re.compile(r"FWHM\s*=\s*(?P<fwhm>\S+)\s*ppm\s+S/N\s*=\s*(?P<snr>\S+)", re.IGNORECASE)
_SHIFT_RE = re.compile(r"Data shift\s*=\s*(?P<shift>\S+?)\s*ppm", re.IGNORECASE)
# Ratio columns LCModel computes against total creatine (NAMREL 'Cr' becomes 'Cr+PCr' when PCr is
# fitted).
_TCR_REFERENCES = {"Cr", "Cre"}


@dataclass(frozen=True)
class ConcRow:
    """One line of the concentration table.

    `concentration` is the value the tool printed, also when it is 0 with %SD 999: the value is
    the tool's, `crlb_undetermined` says not to trust it. `crlb_percent` is NaN when undetermined.
    """

    metabolite: str
    concentration: float
    crlb_percent: float
    ratio_to_reference: float | None = None  # None when writing: computed from the reference row
    crlb_undetermined: bool = False
    prior_flag: str = ""  # '+' or '-' where LCModel marks a violated concentration-ratio prior
    line: int | None = None  # 1-based line in the file (parsed rows only)


@dataclass(frozen=True)
class ParsedTable:
    """What parse_table reads; line numbers are 1-based lines of the raw file."""

    path: str
    version: str
    title: str
    reference: str  # the denominator of the ratio column, e.g. Cr+PCr
    rows: tuple[ConcRow, ...]
    fwhm_ppm: float
    snr: float
    data_shift_ppm: float  # NaN when the line is absent
    conc_line: int
    misc_line: int
    fwhm_line: int


# ---------------------------------------------------------------------------------------------
# Parsing


def _number(text: str, path, line: int, column: str, expected: str) -> float:
    """A Fortran number; float() alone would accept 'nan', 'inf' and '1_0'."""
    if not _NUMBER_RE.match(text):
        raise InputError(path, f"line {line}", column, expected, text)
    return float(text.replace("D", "E").replace("d", "e"))


def _read_lines(path: Path) -> list[str]:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(path, None, None, "a readable LCModel .table file", err.strerror) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # LCModel writes ASCII; only a title typed by a user can carry other bytes.
        text = data.decode("latin-1")
    if not text.strip():
        raise InputError(path, "line 1", None, "an LCModel .table file", "an empty file")
    # Only CR/LF end lines (str.splitlines would also split on form feeds and would shift numbers).
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _count(match, path, line: int, section: str) -> int:
    value = match.group("n")
    if not value.isdigit():
        raise InputError(
            path, f"line {line}", section, "a line count after the section marker", value
        )
    return int(value)


def _parse_row(text: str, path, line: int, reference: str) -> ConcRow:
    tokens = text.split()
    expected_number = "a number (F8.3 or E format)"
    concentration = _number(tokens[0], path, line, "Conc.", expected_number)
    sd_match = _SD_RE.match(tokens[1]) if len(tokens) > 1 else None
    if not sd_match:
        raise InputError(path, f"line {line}", "%SD", "an integer followed by '%'", text.strip())
    rest = text.strip()[len(tokens[0]) :].lstrip()[len(tokens[1]) :]
    if not rest.strip():
        raise InputError(
            path,
            f"line {line}",
            f"/{reference}",
            "a ratio and a metabolite name after %SD",
            text.strip(),
        )
    rest_match = _RATIO_NAME_RE.match(rest)
    if not rest_match:
        ratio_text = rest.split()[0]
        if _NUMBER_RE.match(ratio_text):
            raise InputError(
                path,
                f"line {line}",
                "Metabolite",
                "a metabolite name after the ratio",
                rest.strip(),
            )
        raise InputError(path, f"line {line}", f"/{reference}", expected_number, ratio_text)
    name = rest_match.group("name")
    if len(name.split()) != 1:
        raise InputError(path, f"line {line}", "Metabolite", "one name without blanks", name)
    sd = int(sd_match.group(1))
    undetermined = sd >= UNDETERMINED_SD
    separator = rest_match.group("sep")
    return ConcRow(
        metabolite=name,
        concentration=concentration,
        crlb_percent=math.nan if undetermined else float(sd),
        ratio_to_reference=_number(
            rest_match.group("ratio"), path, line, f"/{reference}", expected_number
        ),
        crlb_undetermined=undetermined,
        prior_flag="" if separator.isspace() else separator,
        line=line,
    )


def parse_table(path: str | Path) -> ParsedTable:
    """Read an LCModel .table file; InputError names the file, line and field of any problem.

    Tolerant of a BOM, CRLF line ends, extra or trailing blanks and E notation. Strict about a
    missing $$CONC section, a row count that differs from NCONC+1 (a truncated file), fields
    that are not numbers, a missing $$MISC FWHM/S/N line and an empty file.
    """
    path = Path(path)
    lines = _read_lines(path)
    stripped = [line.strip() for line in lines]
    n_lines = len(lines) - (1 if lines and lines[-1] == "" else 0)
    conc_index, reference, rows = _concentration_table(lines, stripped, n_lines, path)
    misc_index, fwhm_index, fwhm, snr, shift = _misc_quality(lines, stripped, n_lines, path)
    _check_no_stray_lines(stripped, conc_index, path)
    text_before = [text for text in stripped[:conc_index] if text]
    version = text_before[0] if text_before and text_before[0].upper().startswith("LCMODEL") else ""
    title = " | ".join(text_before[1:] if version else text_before)
    return ParsedTable(
        path=str(path),
        version=version,
        title=title,
        reference=reference,
        rows=rows,
        fwhm_ppm=fwhm,
        snr=snr,
        data_shift_ppm=shift,
        conc_line=conc_index + 1,
        misc_line=misc_index + 1,
        fwhm_line=fwhm_index + 1,
    )


def _concentration_table(
    lines: list[str], stripped: list[str], n_lines: int, path: Path
) -> tuple[int, str, tuple[ConcRow, ...]]:
    """(index of the $$CONC line, ratio reference, rows) of the concentration table: exactly the
    NCONC rows its marker counts (fewer means a truncated file), each metabolite once."""
    conc_index = next((i for i, text in enumerate(stripped) if _CONC_RE.match(text)), None)
    if conc_index is None:
        raise InputError(
            path,
            f"lines 1-{n_lines}",
            "$$CONC",
            "a line '$$CONC n lines in following concentration table = NCONC+1'",
            "no such line",
        )
    conc_line = conc_index + 1
    n_table = _count(_CONC_RE.match(stripped[conc_index]), path, conc_line, "$$CONC")
    header_index = conc_index + 1
    header = _HEADER_RE.match(stripped[header_index]) if header_index < len(lines) else None
    if header is None:
        got = stripped[header_index] if header_index < len(lines) else "the end of the file"
        raise InputError(
            path,
            f"line {header_index + 1}",
            "$$CONC",
            "the header 'Conc.  %SD /Cr+PCr  Metabolite'",
            got,
        )
    reference = header.group("reference")

    body = []
    for index in range(header_index + 1, len(lines)):
        if not stripped[index] or stripped[index].startswith("$$"):
            break
        body.append(index)
    n_rows = n_table - 1
    if len(body) != n_rows:
        after = (body[-1] if body else header_index) + 1
        stop = "the end of the file" if after >= n_lines else f"line {after + 1}"
        raise InputError(
            path,
            f"line {conc_line}",
            "$$CONC",
            f"{n_rows} concentration rows (NCONC+1 = {n_table} lines incl. the header)",
            f"{len(body)} rows before {stop}",
        )
    rows = tuple(_parse_row(lines[i], path, i + 1, reference) for i in body)
    seen: dict[str, int] = {}
    for row in rows:
        if row.metabolite in seen:
            raise InputError(
                path,
                f"line {row.line}",
                "Metabolite",
                f"each metabolite once (also on line {seen[row.metabolite]})",
                row.metabolite,
            )
        seen[row.metabolite] = row.line
    return conc_index, reference, rows


def _misc_quality(
    lines: list[str], stripped: list[str], n_lines: int, path: Path
) -> tuple[int, int, float, float, float]:
    """(index of the $$MISC line, index of its FWHM line, FWHM in ppm, S/N, data shift in ppm or
    NaN) from the $$MISC section: the spectrum's quality measures, which QC needs."""
    misc_index = next((i for i, text in enumerate(stripped) if _MISC_RE.match(text)), None)
    if misc_index is None:
        raise InputError(
            path,
            f"lines 1-{n_lines}",
            "$$MISC",
            "a line '$$MISC n lines in following misc. output table'",
            "no such line",
        )
    n_misc = _count(_MISC_RE.match(stripped[misc_index]), path, misc_index + 1, "$$MISC")
    misc = [
        i
        for i in range(misc_index + 1, min(len(lines), misc_index + 1 + n_misc))
        if not stripped[i].startswith("$$")
    ]
    fwhm_index = next((i for i in misc if "FWHM" in stripped[i].upper()), None)
    span = (
        f"lines {misc_index + 2}-{misc_index + 1 + n_misc}" if n_misc else f"line {misc_index + 1}"
    )
    if fwhm_index is None:
        raise InputError(
            path,
            span,
            "FWHM",
            "a line 'FWHM = x ppm    S/N = y' in the $$MISC section",
            "no such line",
        )
    fwhm_match = _FWHM_RE.search(stripped[fwhm_index])
    if fwhm_match is None:
        raise InputError(
            path,
            f"line {fwhm_index + 1}",
            "FWHM",
            "'FWHM = x ppm    S/N = y'",
            stripped[fwhm_index],
        )
    fwhm = _number(fwhm_match.group("fwhm"), path, fwhm_index + 1, "FWHM", "a linewidth in ppm")
    snr = _number(fwhm_match.group("snr"), path, fwhm_index + 1, "S/N", "a number")
    shift = math.nan
    for i in misc:
        shift_match = _SHIFT_RE.search(stripped[i])
        if shift_match:
            shift = _number(shift_match.group("shift"), path, i + 1, "Data shift", "a shift in ppm")
    return misc_index, fwhm_index, fwhm, snr, shift


def _check_no_stray_lines(stripped: list[str], conc_index: int, path) -> None:
    """InputError for text LCModel does not write: more title lines than a title holds before
    $$CONC, or a line after it that belongs to no $$ section (each section header counts its lines),
    e.g. another file pasted in: such a file is refused rather than read in part."""
    before = [i for i in range(conc_index) if stripped[i]]
    if len(before) > MAX_HEADER_LINES:
        raise InputError(
            path,
            f"line {before[MAX_HEADER_LINES] + 1}",
            None,
            f"at most {MAX_HEADER_LINES} lines (version and title) before $$CONC",
            f"{len(before)} lines",
        )
    owned_until = conc_index
    for index in range(conc_index, len(stripped)):
        section = _SECTION_RE.match(stripped[index])
        if section:
            owned_until = index + int(section.group("n"))
        elif stripped[index] and index > owned_until:
            raise InputError(
                path,
                f"line {index + 1}",
                None,
                "only the lines each $$ section header counts, and blank lines, after $$CONC",
                stripped[index][:40],
            )


def tcr_ratio(rows, reference: str) -> dict[str, float]:
    """ratio_to_tcr per tool name: the printed column when it is relative to total creatine."""
    names = {row.metabolite for row in rows}
    if canonical_name(reference) == "tCr" or (reference in _TCR_REFERENCES and "PCr" not in names):
        return {row.metabolite: row.ratio_to_reference for row in rows}
    tcr = next(
        (row.concentration for row in rows if canonical_name(row.metabolite) == "tCr"), math.nan
    )
    return {row.metabolite: (row.concentration / tcr if tcr > 0 else math.nan) for row in rows}


def read_table_study(
    data_dir: Path,
    participants: pd.DataFrame,
    conditions: list[str],
    larmor_mhz: float | None = None,
    batch: bool = False,
    **_,
) -> pd.DataFrame:
    """mrs.format lcmodel_table: one .table per block, timing from the session sidecars (LCModel
    reports FWHM in ppm: larmor_mhz is not used)."""
    spectra = []
    for session, timing, _ in timed_sessions(
        data_dir, "lcmodel_table", participants, conditions, batch
    ):
        for row in timing.itertuples(index=False):
            path = session.fits[row.block]
            label = relative(path, data_dir)
            try:
                table = parse_table(path)
            except (
                InputError
            ) as err:  # name the file relative to data_dir, like every other message
                raise InputError(label, err.where, err.column, err.expected, err.got) from None
            ratios = tcr_ratio(table.rows, table.reference)
            measures = [
                Measure(
                    r.metabolite,
                    r.concentration,
                    r.crlb_percent,
                    r.crlb_undetermined,
                    ratios[r.metabolite],
                    f"line {r.line}",
                )
                for r in table.rows
            ]
            spectra.append(
                Spectrum(
                    session.participant_id,
                    session.condition,
                    int(row.block),
                    row.onset_min,
                    row.offset_min,
                    measures,
                    table.fwhm_ppm,
                    table.snr,
                    SNR_DEFINITION,
                    SOURCE_TOOL,
                    label,
                )
            )
    return study_table(spectra, conditions)
