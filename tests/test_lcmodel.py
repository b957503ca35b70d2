import math
from pathlib import Path

import pytest

from crossover_fmrs.common.errors import InputError
from crossover_fmrs.ingest.formats.lcmodel_table import ConcRow, parse_table
from crossover_fmrs.simulate.lcmodel_writer import (
    TableFit,
    format_concentration,
    format_ratio,
    write_table,
)

FIXTURE = Path(__file__).parent / "fixtures" / "mrs" / "real_layout.table"


def fixture_lines():
    return FIXTURE.read_text().split("\n")


def write(tmp_path, text, name="fit.table", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def replace_line(lines, start, new):
    """Lines with the first line starting with `start` (after blanks) replaced, or dropped if new
    is None."""
    index = next(i for i, line in enumerate(lines) if line.strip().startswith(start))
    return lines[:index] + ([] if new is None else [new]) + lines[index + 1 :]


def row(table, name):
    return next(r for r in table.rows if r.metabolite == name)


def test_parses_hand_written_real_layout():
    table = parse_table(FIXTURE)
    assert len(table.rows) == 33
    assert table.version.startswith("LCModel (Version 6.3-1R)")
    assert table.title == "ACC fMRS hand-written fixture, block 1"
    assert table.reference == "Cr+PCr"
    assert (table.fwhm_ppm, table.snr, table.data_shift_ppm) == (0.054, 28.0, -0.011)
    assert (table.conc_line, table.misc_line, table.fwhm_line) == (4, 40, 41)
    glx = row(table, "Glu+Gln")
    assert (glx.concentration, glx.crlb_percent, glx.ratio_to_reference, glx.line) == (
        13.258,
        4.0,
        1.768,
        35,
    )
    assert not glx.crlb_undetermined
    assert row(table, "Ala").line == 6
    assert row(table, "MM14+Lip13a+Lip13b+MM12").concentration == 16.011


def test_e_notation_is_read():
    table = parse_table(FIXTURE)
    scyllo = row(table, "Scyllo")
    assert scyllo.concentration == pytest.approx(0.072)
    assert scyllo.ratio_to_reference == pytest.approx(0.0096)
    assert row(table, "Lip09").crlb_percent == 145.0


def test_undetermined_sd_gives_nan_and_flag_but_keeps_the_tools_zero():
    pch = row(parse_table(FIXTURE), "PCh")
    assert pch.concentration == 0.0
    assert math.isnan(pch.crlb_percent)
    assert pch.crlb_undetermined


def test_writer_reproduces_the_hand_written_layout():
    table = parse_table(FIXTURE)
    fit = TableFit(
        rows=tuple(ConcRow(r.metabolite, r.concentration, r.crlb_percent) for r in table.rows),
        fwhm_ppm=0.054,
        snr=28,
        data_shift_ppm=-0.011,
        phase0_deg=9,
        phase1_deg_per_ppm=2.2,
        alpha_b=0.17,
        alpha_s=0.37,
        title="ACC fMRS hand-written fixture, block 1",
        diagnostics=("   1 info's    FINOUT  7",),
    )
    written = write_table(fit).split("\n")
    expected = fixture_lines()
    stop = next(i for i, line in enumerate(expected) if line.startswith("$$INPU"))
    # ratios are recomputed from the concentrations and must match the hand-computed ones
    assert written[:stop] == expected[:stop]


def test_fortran_number_formats():
    assert format_concentration(7.2e-8) == "7.20E-08"
    assert format_concentration(8.71) == "   8.710"
    assert format_concentration(0.0994) == "9.94E-02"
    assert format_concentration(0.0) == "   0.000"
    assert format_concentration(1234.5) == "1.23E+03"
    assert format_ratio(0.039) == " 3.9E-02"
    assert format_ratio(1.021) == "   1.021"


def test_round_trip_write_then_parse(tmp_path):
    rows = (
        ConcRow("Cr", 4.1234, 6.4),
        ConcRow("PCr", 3.4, 7.5),
        ConcRow("GABA", 0.0, 12.0),
        ConcRow("Asp", 7.2e-8, 166.0),
        ConcRow("Glu", 10.6, 4.5),
        ConcRow("Lip13a", 1234.5, 1200.0),
        ConcRow("NAA", 9.0, math.nan),
        ConcRow("Cr+PCr", 7.5234, 2.0),
    )
    fit = {
        "rows": rows,
        "fwhm_ppm": 0.0616,
        "snr": 27.5,
        "data_shift_ppm": -0.0123,
        "title": "round trip",
    }
    parsed = parse_table(write(tmp_path, write_table(fit)))
    cr, pcr, gaba, asp, glu, lip, naa, tcr = parsed.rows
    assert (cr.metabolite, cr.concentration, cr.crlb_percent, cr.ratio_to_reference) == (
        "Cr",
        4.123,
        6.0,
        0.548,
    )
    assert pcr.crlb_percent == 8.0  # NINT rounds halves away from zero
    assert gaba.concentration == 0.0 and gaba.crlb_undetermined and math.isnan(gaba.crlb_percent)
    assert (asp.concentration, asp.crlb_percent, asp.ratio_to_reference) == (7.2e-8, 166.0, 9.6e-9)
    assert glu.ratio_to_reference == 1.409
    assert lip.concentration == 1230.0 and lip.crlb_undetermined  # %SD above 999 is capped
    assert naa.crlb_undetermined and math.isnan(naa.crlb_percent)
    assert tcr.ratio_to_reference == 1.0
    assert (parsed.fwhm_ppm, parsed.snr, parsed.data_shift_ppm, parsed.title) == (
        0.062,
        28.0,
        -0.012,
        "round trip",
    )


def test_writer_refuses_negative_concentration():
    with pytest.raises(ValueError, match="Glu concentration must be >= 0"):
        write_table(TableFit(rows=(ConcRow("Glu", -1.0, 5.0),), fwhm_ppm=0.05, snr=20))


def test_prior_flag_fused_with_the_ratio(tmp_path):
    lines = replace_line(fixture_lines(), "1.532", "    1.532  19% 2.0E-01+GABA")
    gaba = row(parse_table(write(tmp_path, "\n".join(lines))), "GABA")
    assert (gaba.ratio_to_reference, gaba.prior_flag, gaba.concentration) == (0.2, "+", 1.532)


def test_bom_and_crlf_are_tolerated(tmp_path):
    text = "\ufeff" + FIXTURE.read_text().replace("\n", "\r\n")
    parsed = parse_table(write(tmp_path, text))
    reference = parse_table(FIXTURE)
    assert [(r.metabolite, r.concentration, r.line) for r in parsed.rows] == [
        (r.metabolite, r.concentration, r.line) for r in reference.rows
    ]
    assert parsed.fwhm_ppm == 0.054


def test_extra_blanks_and_tabs_are_tolerated(tmp_path):
    lines = replace_line(fixture_lines(), "10.603", "   10.603    5%\t  1.414   Glu   ")
    assert row(parse_table(write(tmp_path, "\n".join(lines))), "Glu").crlb_percent == 5.0


@pytest.mark.parametrize(
    "mutate, where, column, message",
    [
        (
            lambda lines: lines[:20],
            "line 4",
            "$$CONC",
            "33 concentration rows (NCONC+1 = 34 lines incl. the header), "
            "got '15 rows before the end of the file'",
        ),
        (lambda lines: replace_line(lines, "$$CONC", None), "lines 1-", "$$CONC", "no such line"),
        (
            lambda lines: replace_line(
                lines, "$$CONC", "$$CONC 30 lines in following concentration table = NCONC+1"
            ),
            "line 4",
            "$$CONC",
            "got '33 rows before line 39'",
        ),
        (
            lambda lines: replace_line(lines, "1.874", "    1.874  x7%   0.250 Asp"),
            "line 7",
            "%SD",
            "x7%",
        ),
        (
            lambda lines: replace_line(lines, "1.874", "    1.874  17%"),
            "line 7",
            "/Cr+PCr",
            "a ratio and a metabolite",
        ),
        (
            lambda lines: replace_line(lines, "1.874", "    1.8a4  17%   0.250 Asp"),
            "line 7",
            "Conc.",
            "'1.8a4'",
        ),
        (
            lambda lines: replace_line(lines, "1.874", "      nan  17%   0.250 Asp"),
            "line 7",
            "Conc.",
            "'nan'",
        ),
        (
            lambda lines: replace_line(lines, "1.874", "    1.874  17%   0.2x0 Asp"),
            "line 7",
            "/Cr+PCr",
            "'0.2x0'",
        ),
        (
            lambda lines: replace_line(lines, "1.874", "    1.874  17%   0.250"),
            "line 7",
            "Metabolite",
            "name",
        ),
        (
            lambda lines: replace_line(lines, "1.874", "    1.874  17%   0.250 Ala"),
            "line 7",
            "Metabolite",
            "line 6",
        ),
        (lambda lines: replace_line(lines, "FWHM", None), "lines 41-46", "FWHM", "no such line"),
        (
            lambda lines: replace_line(lines, "FWHM", "  FWHM =****** ppm    S/N =  28"),
            "line 41",
            "FWHM",
            "'******'",
        ),
        (lambda lines: replace_line(lines, "$$MISC", None), "lines 1-", "$$MISC", "no such line"),
    ],
    ids=[
        "truncated",
        "no_conc",
        "wrong_nconc",
        "sd_not_number",
        "no_ratio",
        "conc_not_number",
        "conc_nan",
        "ratio_not_number",
        "no_name",
        "duplicate",
        "no_fwhm_line",
        "fwhm_overflow",
        "no_misc",
    ],
)
def test_malformed_tables_name_file_line_and_field(tmp_path, mutate, where, column, message):
    path = write(tmp_path, "\n".join(mutate(fixture_lines())))
    with pytest.raises(InputError) as info:
        parse_table(path)
    text = str(info.value)
    assert text.startswith(str(path))
    assert where in text and f"column '{column}'" in text and message in text
    assert "\n" not in text


@pytest.mark.parametrize("content", ["", "  \n\n", "\ufeff"])
def test_empty_file(tmp_path, content):
    with pytest.raises(
        InputError,
        match=r"fit\.table, line 1: expected an LCModel \.table file, got 'an empty file'",
    ):
        parse_table(write(tmp_path, content))
