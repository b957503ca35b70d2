"""The report's number and column rules (crossover_fmrs.report.format), one test per rule, and the
table page built from them."""

import re

from crossover_fmrs.report import format as fmt
from crossover_fmrs.report.pages import label_html, render_caption
from crossover_fmrs.report.run_config import config_page
from crossover_fmrs.report.tables import table_page

LABELS = {"synthetic": True, "calibrated": False}


def test_p_values_have_two_significant_digits_or_a_floor():
    assert fmt.format_cell("p", "0.02888491351", True) == "0.029"
    assert fmt.format_cell("p", "0.6814959339", True) == "0.68"
    assert fmt.format_cell("p", "0.0999", True) == "0.10"
    assert fmt.format_cell("p", "0.001705159282", True) == "0.0017"
    assert fmt.format_cell("p", "5.969388481e-06", True) == "< 0.001"
    assert fmt.format_cell("p_gg", "1", True) == "1.0"
    assert fmt.format_cell("q_p", "0.00099", True) == "< 0.001"


def test_statistics_and_estimates_have_three_significant_digits():
    assert fmt.format_cell("F", "4.829384813", True) == "4.83"
    assert fmt.format_cell("estimate", "-0.01494210646", True) == "-0.0149"
    assert fmt.format_cell("se", "0.006799326876", True) == "0.00680"
    assert fmt.format_cell("F", "208.6879573", True) == "209"
    assert fmt.format_cell("reml_criterion", "-659.9731614", True) == "-660"
    assert fmt.format_cell("variance", "0", True) == "0"
    assert fmt.format_cell("estimate", "27.72992773", True) == "27.7"


def test_very_small_and_very_large_numbers_are_written_with_a_power_of_ten():
    assert fmt.format_cell("variance", "6.37454e-06", True) == "6.37 × 10⁻⁶"
    assert fmt.format_cell("q", "12345678", True) == "1.23 × 10⁷"


def test_df_have_one_decimal_and_whole_df_are_integers():
    assert fmt.format_cell("df_den", "253.0893722", True) == "253.1"
    assert fmt.format_cell("df_num", "1", True) == "1"
    assert fmt.format_cell("q_df", "2.0", True) == "2"


def test_counts_are_integers():
    assert fmt.format_cell("n_participants", "26", True) == "26"
    assert fmt.format_cell("n", "2000", True) == "2000"


def test_missing_is_an_en_dash():
    for missing in ("NA", "", "nan"):
        assert fmt.format_cell("estimate", missing, True) == "–"
        assert fmt.format_cell("note", missing, False) == "–"


def test_text_columns_are_shown_as_written():
    assert not fmt.is_numeric("version", ["3.11", "2.4"])
    assert not fmt.is_numeric("term", ["1", "2"])
    assert not fmt.is_numeric("reproduced", ["F(1,253) = 4.83", "26"])
    assert fmt.is_numeric("estimate", ["NA", "-0.01"])
    assert fmt.format_cell("reproduced", "F(1,253.1) = 4.83", False) == "F(1,253.1) = 4.83"


def test_key_columns_come_first():
    columns = ["analysis", "outcome", "model", "term", "estimate", "se", "F", "df_num", "df_den"]
    columns += ["p", "effect_size", "n_participants", "df_method"]
    assert fmt.column_order(columns) == [
        "outcome",
        "term",
        "estimate",
        "se",
        "F",
        "df_num",
        "df_den",
        "p",
        "n_participants",
        "analysis",
        "model",
        "effect_size",
        "df_method",
    ]


def test_units_come_from_the_outcome_and_the_term():
    assert fmt.unit_of("Glx/tNAA", "condition", "Glx/tNAA") == "Glx/tNAA"
    assert fmt.unit_of("MADRS", "condition:timepoint", "Glx/tNAA") == "MADRS points"
    assert fmt.unit_of("MADRS", "attenuation_percent", "Glx/tNAA") == "%"
    assert fmt.header("estimate", "Glx/tNAA") == "estimate (Glx/tNAA)"
    assert fmt.header("variance", "Glx/tNAA") == "variance ((Glx/tNAA)²)"
    assert fmt.header("variance", "MADRS points") == "variance (MADRS points²)"
    assert fmt.header("F", "MADRS points") == "F"
    assert fmt.header("estimate", None) == "estimate (unit)"
    assert fmt.header("p", "") == "P"


def write(path, rows):
    path.write_text("".join("\t".join(row) + "\n" for row in rows))
    return path


def cells(page):
    return re.findall(r"<td[^>]*>([^<]*)</td>", page)


def test_a_table_page_rounds_orders_and_keeps_the_tsv(tmp_path):
    tsv = write(
        tmp_path / "glx_lmm.tsv",
        [
            ["analysis", "outcome", "model", "term", "estimate", "F", "df_den", "p", "n"],
            [
                "lmm",
                "Glx/tNAA",
                "ratio ~ condition",
                "condition",
                "-0.0149421",
                "4.82938",
                "253.08",
                "0.0288849",
                "26",
            ],
            [
                "lmm",
                "Glx/tNAA",
                "ratio ~ condition",
                "block",
                "NA",
                "6.7776",
                "253.08",
                "5.96e-06",
                "26",
            ],
        ],
    )
    page = table_page(tsv, "Glx/tNAA mixed model", LABELS, "<p>A caption.</p>", "Glx/tNAA")
    assert cells(page) == [
        "condition",
        "-0.0149",
        "4.83",
        "253.1",
        "0.029",
        "26",
        "block",
        "–",
        "6.78",
        "253.1",
        "&lt; 0.001",
        "26",
    ]
    assert "<th>estimate (Glx/tNAA)</th>" in page
    assert "<dt>model</dt><dd>ratio ~ condition</dd>" in page  # said once, above the table
    assert "<p>A caption.</p>" in page and "SYNTHETIC DATA" in page
    assert 'download="glx_lmm.tsv"' in page
    assert page == table_page(tsv, "Glx/tNAA mixed model", LABELS, "<p>A caption.</p>", "Glx/tNAA")


def test_a_table_whose_rows_differ_in_unit_gets_a_unit_column(tmp_path):
    tsv = write(
        tmp_path / "attenuation.tsv",
        [
            ["outcome", "term", "estimate"],
            ["MADRS", "mean reduction", "10.36"],
            ["MADRS", "attenuation_percent", "27.7299"],
        ],
    )
    page = table_page(tsv, "Attenuation", LABELS, "", "Glx/tNAA")
    assert "<th>estimate (unit)</th>" in page
    assert cells(page) == [
        "mean reduction",
        "MADRS points",
        "10.4",
        "attenuation_percent",
        "%",
        "27.7",
    ]


def test_the_label_says_calibrated_when_the_labels_do():
    assert "CALIBRATED" in label_html({"synthetic": True, "calibrated": True})
    assert "CALIBRATED" not in label_html(LABELS) and "SYNTHETIC" in label_html(LABELS)
    assert label_html({"synthetic": False, "calibrated": False}) == ""


def test_a_caption_renders_with_the_labels(tmp_path):
    rst = tmp_path / "c.rst"
    rst.write_text(
        'Text with `a.setting`.\n{% if snakemake.config["_study_labels"]["synthetic"] %}'
        "**SYNTHETIC DATA**{% endif %}\n"
    )
    assert "<strong>SYNTHETIC DATA</strong>" in render_caption(rst, LABELS)
    assert "SYNTHETIC" not in render_caption(rst, {"synthetic": False, "calibrated": False})


def test_the_config_page_shows_sections_keys_and_values(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(
        "data_dir: data/x\nsynthetic: false\nstats:\n  glx_formula: ratio ~ condition\n"
        "clinical:\n  scales:\n  - name: MADRS\n    timepoints: [pre, day1]\n"
    )
    page = config_page(config, "Configuration", LABELS, "")
    assert "<h4>general</h4>" in page and "<h4>stats</h4>" in page
    assert "<dt>glx_formula</dt><dd><code>ratio ~ condition</code></dd>" in page
    assert "<dt>synthetic</dt><dd><code>false</code></dd>" in page
    assert "<code>pre</code>, <code>day1</code>" in page
