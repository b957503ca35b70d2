"""LCModel `.table` files written for the simulated study, in the layout LCModel 6.3 writes
(described, with its sources, in crossover_fmrs.ingest.formats.lcmodel_table, which parses them).

Concentration and ratio switch to E format when |x| > 999.999 or |x| < 0.0995 (x != 0).
A concentration <= 0 is printed as 0.000 with %SD 999; %SD is capped at 999, which means
"undetermined". Table and misc lines are padded with blanks to a fixed width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from ..ingest.formats.lcmodel_table import UNDETERMINED_SD, ConcRow

LCMODEL_VERSION = (
    "LCModel (Version 6.3-1R) Copyright: S.W. Provencher.          "
    "Ref.: Magn. Reson. Med. 30:672-679 (1993)."
)
TABLE_LINE_WIDTH = 75  # 1X + CHARACTER*74, as the native build pads table and misc lines
INPUT_LINE_WIDTH = 74


@dataclass(frozen=True)
class TableFit:
    """Everything write_table puts in a file; the defaults are those of a plain single-voxel fit."""

    rows: tuple[ConcRow, ...]
    fwhm_ppm: float
    snr: float
    data_shift_ppm: float = 0.0
    phase0_deg: float = 0.0
    phase1_deg_per_ppm: float = 0.0
    alpha_b: float = 1.0e-1
    alpha_s: float = 1.0e-1
    spline_knots: int = 28
    ns: int = 5
    incsid: int = 1
    inflections: int | None = 2
    extrema: int | None = 1
    title: str = ""
    reference: str = "Cr+PCr"
    version: str = LCMODEL_VERSION
    diagnostics: tuple[str, ...] = ()
    input_changes: tuple[str, ...] = ()


def _nint(value: float) -> int:
    """Fortran NINT: nearest integer, halves away from zero."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def _e_format(value: float) -> bool:
    """LCModel's EFORM: E format outside [0.0995, 999.999], except for exact zero."""
    return value != 0 and (abs(value) > 999.999 or abs(value) < 0.0995)


def format_concentration(value: float) -> str:
    """F8.3, or 1PE8.2 (CONC3F=T) for small or large values."""
    return f"{value:8.2E}" if _e_format(value) else f"{value:8.3f}"


def format_ratio(value: float) -> str:
    """F8.3, or 1PE8.1 for small or large values."""
    return f"{value:8.1E}" if _e_format(value) else f"{value:8.3f}"


def printed_sd(concentration: float, crlb_percent: float | None, undetermined: bool = False) -> int:
    """The integer %SD LCModel prints: NINT, capped at 999; 999 for a zero concentration."""
    if undetermined or crlb_percent is None or math.isnan(crlb_percent) or concentration <= 0:
        return UNDETERMINED_SD
    return min(UNDETERMINED_SD, _nint(crlb_percent))


def _header_line(reference: str) -> str:
    # FORMAT 5584/5585: a 5-6 character reference name (Cr+PCr), or a short one after two more
    # blanks.
    if len(reference) > 4:
        return "    Conc.  %SD /" + f"{reference:<6}" + "  Metabolite"
    return "    Conc.  %SD   /" + f"{reference:<4}" + "  Metabolite"


def _as_fit(fit) -> TableFit:
    if isinstance(fit, TableFit):
        return fit
    if isinstance(fit, dict):
        known = {f.name for f in fields(TableFit)}
        unknown = sorted(set(fit) - known)
        if unknown:
            raise ValueError(
                f"write_table: unknown fields {unknown}; expected some of {sorted(known)}"
            )
        rows = tuple(row if isinstance(row, ConcRow) else ConcRow(**row) for row in fit["rows"])
        values = {**fit, "rows": rows}
        for name in ("diagnostics", "input_changes"):
            if name in values:
                values[name] = tuple(values[name])
        return TableFit(**values)
    raise TypeError(f"write_table expects a TableFit or a dict, got {type(fit).__name__}")


def write_table(fit: TableFit | dict, pad: bool = True) -> str:
    """Text of an LCModel .table file (LF line endings) for a fit.

    A row's ratio is computed from the reference row (e.g. Cr+PCr) when it is None. Negative
    concentrations are refused: LCModel's non-negativity constraint never produces them.
    """
    fit = _as_fit(fit)
    names = [row.metabolite for row in fit.rows]
    if len(set(names)) != len(names):
        raise ValueError(f"write_table: metabolite names repeat in {names}")
    reference = {row.metabolite: row.concentration for row in fit.rows}.get(fit.reference, 0.0)

    def padded(text: str, width: int = TABLE_LINE_WIDTH) -> str:
        return f"{text:<{width}}" if pad else text

    lines = [" " + fit.version]
    lines += [" " + title for title in (fit.title.splitlines() or [""])]
    lines += ["", f"$$CONC{len(fit.rows) + 1:3d} lines in following concentration table = NCONC+1"]
    lines.append(padded(_header_line(fit.reference)))
    for row in fit.rows:
        if not row.concentration >= 0:  # also refuses NaN
            raise ValueError(
                f"write_table: {row.metabolite} concentration must be >= 0, got {row.concentration}"
            )
        if row.crlb_percent is not None and row.crlb_percent < 0:
            raise ValueError(
                f"write_table: {row.metabolite} %SD must be >= 0, got {row.crlb_percent}"
            )
        concentration = row.concentration + 0.0  # -0.0 would print as -0.000
        ratio = row.ratio_to_reference
        if ratio is None:
            ratio = concentration / reference if reference > 0 else 0.0
        sd = printed_sd(concentration, row.crlb_percent, row.crlb_undetermined)
        separator = row.prior_flag or " "
        text = (
            f" {format_concentration(concentration)}{sd:4d}%{format_ratio(ratio)}"
            f"{separator}{row.metabolite}"
        )
        lines.append(padded(text))
    misc = [
        f"  FWHM ={fit.fwhm_ppm:6.3f} ppm    S/N ={_nint(fit.snr):4d}",
        f"  Data shift ={fit.data_shift_ppm:6.3f} ppm",
        f"  Ph:{_nint(fit.phase0_deg):4d} deg{fit.phase1_deg_per_ppm:10.1f} deg/ppm",
        f"  alphaB,S ={fit.alpha_b:8.1E},{fit.alpha_s:10.1E}",
        f"  {fit.spline_knots:3d} spline knots.   Ns ={fit.ns:2d}({fit.incsid:1d})",
    ]
    if fit.inflections is not None and fit.extrema is not None:
        misc.append(f"  {fit.inflections:2d} inflections.{fit.extrema:6d} extrema")
    lines += ["", f"$$MISC{len(misc):3d} lines in following misc. output table"]
    lines += [padded(text) for text in misc]
    # EXITPS: '(/$$DIAG, I3, ...'/(A))' leaves an empty record when there are no diagnostics.
    lines += ["", f"$$DIAG{len(fit.diagnostics):3d} lines in following diagnostic table:"]
    lines += list(fit.diagnostics) or [""]
    lines += ["", f"$$INPU{len(fit.input_changes):3d} lines in following table of input changes:"]
    lines += [padded(text, INPUT_LINE_WIDTH) for text in fit.input_changes] or [""]
    return "\n".join(lines) + "\n"


def _concentration_texts(values) -> list[str]:
    """format_concentration over a column (values >= 0), without a call per value."""
    return [f"{v:8.2E}" if v != 0 and (v > 999.999 or v < 0.0995) else f"{v:8.3f}" for v in values]


def _ratio_texts(values) -> list[str]:
    return [f"{v:8.1E}" if v != 0 and (v > 999.999 or v < 0.0995) else f"{v:8.3f}" for v in values]


def _concentration_table(
    metabolites: list[str], conc: np.ndarray, crlb_percent, reference: str
) -> tuple[str, list[list]]:
    """(template, columns): the file's head up to the concentration table, as a %-template with
    a slot for the title and three per row (concentration, %SD, /reference ratio), and those
    slots' texts, one list over the fits per slot."""
    sds = np.asarray(crlb_percent, dtype=float)
    printed = np.where(conc > 0, np.minimum(UNDETERMINED_SD, _nint_array(sds)), UNDETERMINED_SD)
    ref = conc[:, metabolites.index(reference)] if reference in metabolites else np.zeros(len(conc))
    safe = np.where(ref > 0, ref, 1.0)
    ratios = np.where(ref[:, None] > 0, (conc + 0.0) / safe[:, None], 0.0)
    columns: list[list] = []
    table_lines = []
    for j, name in enumerate(metabolites):
        # Fixed widths (F8.3/E8.2, I4, F8.3/E8.1): the padding of a row is known in advance.
        width = 1 + 8 + 4 + 1 + 8 + 1 + len(name)
        table_lines.append(
            " %s%4d%%%s " + name.replace("%", "%%") + " " * max(0, TABLE_LINE_WIDTH - width)
        )
        columns += [
            _concentration_texts(conc[:, j].tolist()),
            printed[:, j].astype(int).tolist(),
            _ratio_texts(ratios[:, j].tolist()),
        ]
    head = "\n".join(
        [
            " " + LCMODEL_VERSION.replace("%", "%%"),
            " %s",
            "",
            f"$$CONC{len(metabolites) + 1:3d} lines in following concentration table = NCONC+1",
            f"{_header_line(reference):<{TABLE_LINE_WIDTH}}".replace("%", "%%"),
        ]
        + table_lines
    )
    return head, columns


def write_tables(
    metabolites: list[str],
    concentrations,
    crlb_percent,
    *,
    fwhm,
    snr,
    data_shift_ppm,
    phase0_deg,
    phase1_deg_per_ppm,
    alpha_b,
    alpha_s,
    spline_knots,
    inflections,
    extrema,
    titles: list[str],
    input_changes: list[tuple[str, ...]],
    reference: str = "Cr+PCr",
) -> list[str]:
    """The texts write_table gives, for many fits at once (one per row of concentrations, whose
    columns are the metabolites): each column is formatted in one pass and each table filled
    into one template, so that 100,000 tables take seconds. The same bytes as write_table with
    the TableFit defaults (ns, incsid, version, no diagnostics, no prior flags); a test compares
    them."""
    conc = np.asarray(concentrations, dtype=float)
    if (conc < 0).any() or np.isnan(conc).any():
        raise ValueError("write_tables: concentrations must be >= 0")
    if len(set(metabolites)) != len(metabolites):
        raise ValueError(f"write_tables: metabolite names repeat in {metabolites}")
    head, columns = _concentration_table(metabolites, conc, crlb_percent, reference)
    misc = [
        [f"  FWHM ={f:6.3f} ppm    S/N ={_nint(s):4d}" for f, s in zip(fwhm, snr)],
        [f"  Data shift ={x:6.3f} ppm" for x in data_shift_ppm],
        [
            f"  Ph:{_nint(p0):4d} deg{p1:10.1f} deg/ppm"
            for p0, p1 in zip(phase0_deg, phase1_deg_per_ppm)
        ],
        [f"  alphaB,S ={a:8.1E},{b:10.1E}" for a, b in zip(alpha_b, alpha_s)],
        [f"  {int(k):3d} spline knots.   Ns ={5:2d}({1:1d})" for k in spline_knots],
        [f"  {int(i):2d} inflections.{int(e):6d} extrema" for i, e in zip(inflections, extrema)],
    ]
    misc = [[f"{text:<{TABLE_LINE_WIDTH}}" for text in lines] for lines in misc]
    texts = []
    for k, values in enumerate(zip(*columns)):
        changes = "\n".join(f"{text:<{INPUT_LINE_WIDTH}}" for text in input_changes[k]) or ""
        texts.append(
            head % ((titles[k],) + values)
            + f"\n\n$$MISC{len(misc):3d} lines in following misc. output table\n"
            + "\n".join(lines[k] for lines in misc)
            + "\n\n$$DIAG  0 lines in following diagnostic table:\n\n"
            + f"\n$$INPU{len(input_changes[k]):3d} lines in following table of input changes:\n"
            + changes
            + "\n"
        )
    return texts


def _nint_array(values):
    """_nint over an array."""
    return np.copysign(np.floor(np.abs(values) + 0.5), values)
