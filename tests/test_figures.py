import base64
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from crossover_fmrs.common.errors import InputError
from crossover_fmrs.common.schemas import flow_schema, read_checked, spectra_schema
from crossover_fmrs.common.tables import write_tsv
from crossover_fmrs.figures import clinical, flow, mrs, qc, style
from crossover_fmrs.figures.summary import (
    CI_NAME,
    block_summary,
    change_scores,
    mean_sem,
    timepoint_summary,
    within_ci,
)
from crossover_fmrs.qc.mrs import qc_flags
from crossover_fmrs.stats.flow import FLOW_COLUMNS

CONDITIONS = ["placebo", "naltrexone"]
SCALES = {
    "MADRS": {"timepoints": ["pre", "day1"]},
    "TEPS": {"timepoints": ["pre", "day1"]},
    "CADSS": {"timepoints": ["pre", "post"]},
}
THRESHOLDS = {
    "max_crlb_percent": 20,
    "max_fwhm_ppm": 0.10,
    "min_snr": 8,
    "max_fwhm_drift_ppm": 0.03,
    "max_snr_drift_fraction": 0.5,
    "exclude_on": ["crlb", "fwhm", "snr", "undetermined"],
}
BLOCK_TIMES = {1: (-8.0, 0.0), 2: (0.0, 6.0), 3: (6.0, 12.0)}
DPI = 40  # small renders keep the tests fast; the pipeline uses 300


def spectrum(pid, condition, block, ratio, excluded_by="", fwhm=0.06, snr=20.0, crlb=(6.0, 3.0)):
    onset, offset = BLOCK_TIMES[block]
    return {
        "participant_id": pid,
        "condition": condition,
        "block": block,
        "onset_min": onset,
        "offset_min": offset,
        "phase": "baseline" if offset <= 0 else "infusion",
        "fwhm_ppm": fwhm,
        "snr": snr,
        "numerator_crlb_percent": crlb[0],
        "denominator_crlb_percent": crlb[1],
        "numerator": "Glx",
        "denominator": "tNAA",
        "ratio": ratio,
        "flags": excluded_by,
        "excluded_by": excluded_by,
        "included": excluded_by == "" and not np.isnan(ratio),
    }


@pytest.fixture
def spectra():
    rows = [
        # placebo block 1: 1.0, 1.2, 1.4 kept; sub-04's 5.0 excluded by linewidth
        spectrum("sub-01", "placebo", 1, 1.0),
        spectrum("sub-02", "placebo", 1, 1.2),
        spectrum("sub-03", "placebo", 1, 1.4),
        spectrum("sub-04", "placebo", 1, 5.0, "fwhm", fwhm=0.15),
        spectrum("sub-01", "placebo", 2, 1.1),
        spectrum("sub-02", "placebo", 2, 1.3),
        spectrum("sub-03", "placebo", 2, np.nan, "undetermined", crlb=(np.nan, 3.0)),
        spectrum("sub-04", "placebo", 2, 1.2, "snr", snr=5.0),
        # naltrexone block 1: one kept value; block 2: two
        spectrum("sub-01", "naltrexone", 1, 1.3),
        spectrum("sub-02", "naltrexone", 1, 2.0, "crlb", crlb=(25.0, 3.0)),
        spectrum("sub-01", "naltrexone", 2, 1.0),
        spectrum("sub-02", "naltrexone", 2, 1.4),
        spectrum("sub-03", "naltrexone", 3, 1.25),
    ]
    # Naltrexone rows first: colours and order must come from CONDITIONS, not from the data.
    return pd.DataFrame(rows).sort_values("condition", kind="stable").reset_index(drop=True)


def flags_of(spectra, thresholds=THRESHOLDS):
    """The QC flags table of the QC stage (qc.mrs.qc_flags) for the test spectra."""
    undetermined = spectra["ratio"].isna() | spectra["numerator_crlb_percent"].isna()
    return qc_flags(spectra.assign(undetermined=undetermined), thresholds)


@pytest.fixture
def flags(spectra):
    return flags_of(spectra)


@pytest.fixture
def participants():
    return pd.DataFrame(
        {"participant_id": ["sub-01", "sub-02", "sub-03", "sub-04"], "sex": ["M", "F", "M", "F"]}
    )


@pytest.fixture
def scores():
    rows = []
    madrs = {
        "sub-01": {"placebo": (30, 18), "naltrexone": (31, 25)},
        "sub-02": {"placebo": (28, 14), "naltrexone": (29, np.nan)},
        "sub-03": {"placebo": (33, 20), "naltrexone": (30, 24)},
        "sub-04": {"placebo": (26, 16), "naltrexone": (27, 20)},
    }
    for pid, by_condition in madrs.items():
        for condition, (pre, day1) in by_condition.items():
            rows += [
                {
                    "participant_id": pid,
                    "condition": condition,
                    "timepoint": "pre",
                    "scale": "MADRS",
                    "outcome": "MADRS",
                    "value": pre,
                },
                {
                    "participant_id": pid,
                    "condition": condition,
                    "timepoint": "day1",
                    "scale": "MADRS",
                    "outcome": "MADRS",
                    "value": day1,
                },
            ]
            for outcome, shift in (("TEPS_C", 0.0), ("TEPS_A", 1.0)):
                rows += [
                    {
                        "participant_id": pid,
                        "condition": condition,
                        "timepoint": t,
                        "scale": "TEPS",
                        "outcome": outcome,
                        "value": 40.0 + shift + i,
                    }
                    for i, t in enumerate(["pre", "day1"])
                ]
            rows += [
                {
                    "participant_id": pid,
                    "condition": condition,
                    "timepoint": t,
                    "scale": "CADSS",
                    "outcome": "CADSS",
                    "value": v,
                }
                for t, v in (("pre", 2.0), ("post", 20.0))
            ]
    return pd.DataFrame(rows)


@pytest.fixture
def flow_table():
    """A crossover's flow: enrolled, randomised, two sequences, two periods, analysed per
    condition, analyses (stats.flow layout)."""
    pn, np_ = "placebo-naltrexone", "naltrexone-placebo"
    rows = [
        (1, 1, "all", "Enrolled", "all", 4, np.nan, "", "all randomised"),
        (2, 2, "all", "Randomised", "all", 4, np.nan, "", ""),
        (3, 3, pn, "Allocated to placebo → naltrexone", "all", 2, np.nan, "", ""),
        (4, 3, np_, "Allocated to naltrexone → placebo", "all", 2, np.nan, "", ""),
        (5, 4, pn, "Period 1: placebo", "placebo", 2, np.nan, "", "none missed"),
        (6, 4, np_, "Period 1: naltrexone", "naltrexone", 2, np.nan, "", "none missed"),
        (7, 5, pn, "Period 2: naltrexone", "naltrexone", 1, np.nan, "", "missed: sub-02"),
        (8, 5, np_, "Period 2: placebo", "placebo", 2, np.nan, "", "none missed"),
        (9, 6, "placebo", "Analysed on placebo", "placebo", 4, np.nan, "", "Glx/tNAA: 3"),
        (10, 6, "naltrexone", "Analysed on naltrexone", "naltrexone", 4, np.nan, "", "MADRS: 4"),
        (
            11,
            7,
            "all",
            "Analysed, Glx/tNAA (mixed model)",
            "all",
            4,
            13,
            "spectra",
            "spectra excluded by QC: S/N: 1",
        ),
        (
            12,
            7,
            "all",
            "Analysed, MADRS (mixed model)",
            "all",
            4,
            15,
            "ratings",
            "1 rating missing",
        ),
    ]
    return pd.DataFrame(
        rows,
        columns=FLOW_COLUMNS,
    )


def test_mean_sem_hand_example():
    stats = mean_sem([1.0, 1.2, np.nan, 1.4])
    assert stats["n"] == 3 and stats["mean"] == pytest.approx(1.2)
    assert stats["sd"] == pytest.approx(0.2) and stats["sem"] == pytest.approx(0.2 / math.sqrt(3))
    one = mean_sem([2.0])
    assert one["n"] == 1 and one["mean"] == 2.0 and np.isnan(one["sem"])
    assert mean_sem([])["n"] == 0 and np.isnan(mean_sem([])["mean"])


def test_block_means_use_included_spectra_only(spectra):
    table = block_summary(spectra, CONDITIONS).set_index(["condition", "block"])
    cell = table.loc[("placebo", 1)]
    assert cell["n"] == 3 and cell["n_excluded"] == 1
    assert cell["mean"] == pytest.approx(1.2)  # sub-04's excluded 5.0 would give 2.15
    assert cell["sem"] == pytest.approx(0.2 / math.sqrt(3))
    assert table.loc[("placebo", 2), "n"] == 2 and table.loc[("placebo", 2), "n_excluded"] == 2
    assert table.loc[("naltrexone", 1), "n"] == 1 and np.isnan(table.loc[("naltrexone", 1), "sem"])
    # A block seen only in one condition still appears, empty, in the other.
    assert table.loc[("placebo", 3), "n"] == 0 and np.isnan(table.loc[("placebo", 3), "mean"])
    assert (
        table.loc[("placebo", 1), "midpoint_min"] == -4.0
        and table.loc[("naltrexone", 3), "midpoint_min"] == 9.0
    )
    assert list(dict.fromkeys(block_summary(spectra, CONDITIONS)["condition"])) == CONDITIONS


def test_glx_timecourse_table_and_colours_follow_config(spectra):
    figure, table = mrs.glx_timecourse(spectra, CONDITIONS, synthetic=False)
    summary = block_summary(spectra, CONDITIONS)
    pd.testing.assert_frame_equal(table[summary.columns], summary)
    ax = figure.axes[0]
    colours = {c.get_label(): c.lines[0].get_color() for c in ax.containers}
    assert colours == {"placebo": "#0072B2", "naltrexone": "#D55E00"}
    assert ax.get_ylabel() == "Glx/tNAA (ratio)"
    assert (
        ax.get_xlabel() == "minutes from the start of the infusion"
    )  # nothing named without a config


def test_figure_words_come_from_the_config_labels(spectra, scores):
    labels = style.Labels.from_config(
        {
            "infusion": "ketamine infusion",
            "conditions": {"naltrexone": "naltrexone 50 mg"},
            "timepoints": {"day1": "24 h"},
            "units": {"QIDS_SR16": "total score"},
        }
    )
    figure, _ = mrs.glx_timecourse(spectra, CONDITIONS, labels=labels)
    ax = figure.axes[0]
    assert ax.get_xlabel() == "minutes from the start of the ketamine infusion"
    legend = figure.legends[0]
    assert [text.get_text() for text in legend.get_texts()] == ["placebo", "naltrexone 50 mg"]
    title = legend.get_title().get_text().replace("\n", " ")
    assert CI_NAME in title and "n = " in title
    lower = ax.get_ylim()
    assert lower[1] - lower[0] >= 0.2 * abs(sum(lower) / 2) - 1e-12  # no zoom on a small difference
    assert (
        style.Labels().timepoint("day7") == "day 7"
        and style.Labels().timepoint("pre", short=True) == "pre"
    )
    assert labels.timepoint("day1") == "24 h" and labels.unit("QIDS_SR16") == "total score"
    assert style.Labels().unit("CADSS") == "score"


def test_sex_glx_splits_by_sex(spectra, participants):
    _, table = mrs.sex_glx(spectra, participants, CONDITIONS)
    cell = table.set_index(["sex", "condition", "block"])
    assert list(dict.fromkeys(table["sex"])) == ["M", "F"]
    # Males sub-01 (1.0) and sub-03 (1.4); sub-04 (female) was excluded, sub-02 (female) 1.2.
    assert cell.loc[("M", "placebo", 1), "n"] == 2 and cell.loc[
        ("M", "placebo", 1), "mean"
    ] == pytest.approx(1.2)
    assert (
        cell.loc[("F", "placebo", 1), "n"] == 1 and cell.loc[("F", "placebo", 1), "n_excluded"] == 1
    )


def test_sex_needs_every_participant(spectra, participants):
    with pytest.raises(InputError, match="sub-04"):
        mrs.sex_glx(spectra, participants.iloc[:3], CONDITIONS)


def test_individual_table_marks_exclusions(spectra):
    _, table = mrs.glx_individual(spectra, CONDITIONS)
    row = table.set_index(["participant_id", "condition", "block"])
    assert (
        not row.loc[("sub-04", "placebo", 1), "included"]
        and row.loc[("sub-04", "placebo", 1), "excluded_by"] == "fwhm"
    )
    assert (
        row.loc[("sub-01", "placebo", 1), "included"]
        and row.loc[("sub-01", "placebo", 1), "excluded_by"] == ""
    )
    assert len(table) == len(spectra)


def test_timepoint_summary_counts_missing(scores):
    table = timepoint_summary(scores, CONDITIONS, SCALES, ["MADRS"]).set_index(
        ["condition", "timepoint"]
    )
    assert table.loc[("placebo", "pre"), "mean"] == pytest.approx(29.25)
    assert (
        table.loc[("naltrexone", "day1"), "n"] == 3
        and table.loc[("naltrexone", "day1"), "n_missing"] == 1
    )
    assert table.loc[("naltrexone", "day1"), "mean"] == pytest.approx(23.0)
    assert table.loc[("naltrexone", "day1"), "sem"] == pytest.approx(
        np.std([25, 24, 20], ddof=1) / math.sqrt(3)
    )
    assert list(table.index.get_level_values("timepoint")[:2]) == ["pre", "day1"]


def test_madrs_timecourse_table_has_means_and_participants(scores):
    _, table = clinical.madrs_timecourse(scores, CONDITIONS, SCALES)
    totals = table[table["panel"] == "total"]
    means = totals[totals["level"] == "mean"]
    assert len(means) == 4 and len(totals[totals["level"] == "participant"]) == 16
    assert means.set_index(["condition", "timepoint"]).loc[
        ("placebo", "day1"), "mean"
    ] == pytest.approx(17.0)


def test_secondary_scales_are_every_outcome_but_madrs(scores):
    figure, table = clinical.secondary_scales(scores, CONDITIONS, SCALES)
    assert list(dict.fromkeys(table["outcome"])) == ["TEPS_A", "TEPS_C", "CADSS"]
    assert (
        table.set_index(["outcome", "condition", "timepoint"]).loc[
            ("CADSS", "placebo", "post"), "mean"
        ]
        == 20.0
    )
    assert [ax.get_title() for ax in figure.axes if ax.get_visible() and ax.axison] == [
        "TEPS-A",
        "TEPS-C",
        "CADSS",
    ]


def test_change_is_day1_minus_pre(scores, participants):
    changes = change_scores(scores, participants, CONDITIONS, SCALES).set_index(
        ["participant_id", "condition"]
    )
    assert changes.loc[("sub-01", "placebo"), "change"] == -12
    assert np.isnan(
        changes.loc[("sub-02", "naltrexone"), "change"]
    )  # day 1 missing: no change, never 0
    _, table = clinical.sex_madrs(scores, participants, CONDITIONS, SCALES)
    means = table[table["level"] == "mean"].set_index(["sex", "condition"])
    assert (
        means.loc[("M", "placebo"), "mean"] == pytest.approx(-12.5)
        and means.loc[("M", "placebo"), "n"] == 2
    )
    assert means.loc[("F", "naltrexone"), "n"] == 1 and means.loc[("F", "naltrexone"), "mean"] == -7


def test_spectral_quality_counts_threshold_crossings(spectra, flags):
    _, table = qc.qc_spectral_quality(spectra, flags, CONDITIONS)
    summary = table[table["level"] == "summary"].set_index(["measure", "condition"])
    assert summary.loc[("fwhm_ppm", "placebo"), "n_beyond_threshold"] == 1
    assert summary.loc[("fwhm_ppm", "placebo"), "threshold"] == 0.10
    assert (
        summary.loc[("snr", "placebo"), "n_beyond_threshold"] == 1
        and summary.loc[("snr", "placebo"), "rule"] == "S/N < threshold"
    )
    assert summary.loc[("numerator_crlb_percent", "naltrexone"), "n_beyond_threshold"] == 1
    # The undetermined %SD is counted missing, not drawn as 0.
    assert summary.loc[("numerator_crlb_percent", "placebo"), "n_missing"] == 1
    assert summary.loc[("numerator_crlb_percent", "placebo"), "n"] == 7
    assert summary.loc[("fwhm_ppm", "naltrexone"), "median"] == pytest.approx(0.06)
    assert len(table[table["level"] == "spectrum"]) == 4 * len(spectra)


def test_spectral_quality_draws_every_value(spectra, flags):
    figure, table = qc.qc_spectral_quality(spectra, flags, CONDITIONS)
    style.render(figure, "png", dpi=DPI)  # the swarm places its points at draw time
    points = table[table["level"] == "spectrum"]
    summary = table[table["level"] == "summary"].set_index(["measure", "condition"])
    for ax, measure in zip(
        figure.axes, ["fwhm_ppm", "snr", "numerator_crlb_percent", "denominator_crlb_percent"]
    ):
        swarms = [c for c in ax.collections if len(c.get_offsets())]
        assert len(swarms) == len(CONDITIONS)
        for position, (condition, swarm) in enumerate(zip(CONDITIONS, swarms)):
            xy = np.asarray(swarm.get_offsets())
            expected = points.loc[
                (points["measure"] == measure) & (points["condition"] == condition), "value"
            ]
            # Every non-missing value is drawn once, at its value; NaN (undetermined %SD) is not
            # drawn.
            assert sorted(xy[:, 1]) == sorted(expected.dropna())
            assert np.all(np.abs(xy[:, 0] - position) <= 0.4 + 1e-9)  # inside its category's slot
            colour = style.condition_colours(CONDITIONS)[condition].lower()
            assert {to_hex(c) for c in swarm.get_facecolors()} == {colour}
            # The box's median line sits at the table's median.
            medians = [
                line
                for line in ax.lines
                if line.get_color() == "#000000"
                and line.get_linewidth() == 1.0
                and abs(np.mean(line.get_xdata()) - position) < 0.01
            ]
            assert len(medians) == 1
            assert medians[0].get_ydata()[0] == pytest.approx(
                summary.loc[(measure, condition), "median"]
            )
        thresholds = [line.get_ydata()[0] for line in ax.lines if line.get_linestyle() == "--"]
        assert thresholds == [summary.loc[(measure, CONDITIONS[0]), "threshold"]]
    assert sorted(points.loc[points["measure"] == "fwhm_ppm", "value"]) == sorted(
        spectra["fwhm_ppm"]
    )


def test_swarm_places_every_value_at_its_height_inside_its_slot():
    values = np.array([2.0] * 5 + [3.0, 7.5, 2.0])
    offsets = qc.swarm_offsets(values, diameter_y=0.5, diameter_x=0.05)
    tied = offsets[values == 2.0]
    # six tied values side by side, one diameter apart, centred on the slot
    assert sorted(np.round(tied, 10)) == sorted(np.round((np.arange(6) - 2.5) * 0.05, 10))
    assert offsets[values == 3.0] == 0.0 and offsets[values == 7.5] == 0.0
    assert np.array_equal(offsets, qc.swarm_offsets(values, 0.5, 0.05))  # a rule, no jitter
    # more than fit: squeezed into the slot, every dot still drawn
    many = qc.swarm_offsets(np.full(400, 2.0), diameter_y=0.5, diameter_x=0.05)
    assert len(np.unique(many)) == 400 and np.abs(many).max() <= qc.SWARM_WIDTH / 2
    assert len(qc.swarm_offsets(np.array([]), 0.5, 0.05)) == 0


def test_swarm_markers_shrink_for_tied_values():
    with style.context():
        figure = style.new_figure(2.0, 1.0)
        ax = figure.add_subplot()
        ax.set_ylim(0, 10)
        figure.draw_without_rendering()
        few, many, none = (qc._swarm_size(ax, [np.full(k, 2.0)], 2) for k in (3, 400, 0))
    assert few == qc.SWARM_SIZE_PT[1] and none == qc.SWARM_SIZE_PT[1]
    assert many == qc.SWARM_SIZE_PT[0]
    with style.context():
        slot_pt = ax.get_window_extent().width / figure.dpi * 72 / 2
    assert qc._swarm_size(ax, [np.full(40, 2.0)], 2) == pytest.approx(
        min(qc.SWARM_SIZE_PT[1], 0.8 * slot_pt / 40)
    )


def test_style_is_the_journal_rc_set():
    import matplotlib

    with style.context():
        assert matplotlib.rcParams["axes.edgecolor"] == style.INK  # matplotlib's own is black
        assert matplotlib.rcParams["lines.solid_capstyle"] == "round"
        assert matplotlib.rcParams["font.size"] == 7 and matplotlib.rcParams["xtick.labelsize"] == 7
        assert matplotlib.rcParams["font.sans-serif"] == ["DejaVu Sans"]
        assert (
            not matplotlib.rcParams["axes.spines.top"]
            and matplotlib.rcParams["svg.hashsalt"] == "crossover_fmrs"
        )
    assert matplotlib.rcParams["axes.edgecolor"] != style.INK  # nothing leaks out of the context


def test_plotted_numbers_need_neither_seaborn_nor_matplotlib():
    code = (
        "import sys; import crossover_fmrs.figures.summary, crossover_fmrs.figures.data; "
        "print(sorted(m for m in ('seaborn', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": "src"},
        cwd=str(Path(__file__).resolve().parents[1]),
    )
    assert out.stdout.strip() == "[]"


def test_ratio_map_gives_reasons(spectra):
    _, table = qc.qc_ratio_by_participant(spectra, CONDITIONS)
    row = table.set_index(["participant_id", "condition", "block"])
    assert row.loc[("sub-04", "placebo", 2), "reason_code"] == "S"
    assert row.loc[("sub-03", "placebo", 2), "reason_code"] == "U"
    assert row.loc[("sub-01", "placebo", 1), "reason_code"] == ""
    assert qc.reason_code("fwhm;snr_drift") == "FSd"


def test_flow_tiers_follow_the_table(flow_table):
    tiers = flow.flow_tiers(flow_table)
    stages = [[row["stage"] for row in tier["rows"]] for tier in tiers]
    assert stages == [
        ["Enrolled"],
        ["Randomised"],
        ["Allocated to placebo → naltrexone", "Allocated to naltrexone → placebo"],
        ["Period 1: placebo", "Period 1: naltrexone"],
        ["Period 2: naltrexone", "Period 2: placebo"],
        ["Analysed on placebo", "Analysed on naltrexone"],
        ["Analysed, Glx/tNAA (mixed model)", "Analysed, MADRS (mixed model)"],
    ]
    figure, table = flow.participant_flow(flow_table, CONDITIONS)
    assert table["step"].tolist() == list(range(1, 13))
    # every box and count is the flow table's: the figure adds none
    shown = ["step", "arm", "stage", "condition", "n_participants", "note"]
    assert table[shown].equals(flow_table[shown])
    boxes = table.set_index("step")
    assert (
        boxes.loc[5, "column"] == 1 and boxes.loc[6, "column"] == 2
    )  # each sequence keeps its column
    assert boxes.loc[5, "x_in"] == boxes.loc[7, "x_in"]
    texts = " ".join(text.get_text() for text in figure.axes[0].texts)
    assert "n = 4 participants, 13 spectra" in texts and "missed: sub-02" in texts
    assert "participants.tsv" not in texts  # no implementation words on the figure


def _figures(spectra, participants, scores, flow_table):
    return {
        "glx_timecourse": lambda s: mrs.glx_timecourse(spectra, CONDITIONS, synthetic=s),
        "glx_individual": lambda s: mrs.glx_individual(spectra, CONDITIONS, synthetic=s),
        "madrs_timecourse": lambda s: clinical.madrs_timecourse(
            scores, CONDITIONS, SCALES, synthetic=s
        ),
        "secondary_scales": lambda s: clinical.secondary_scales(
            scores, CONDITIONS, SCALES, synthetic=s
        ),
        "sex_glx": lambda s: mrs.sex_glx(spectra, participants, CONDITIONS, synthetic=s),
        "sex_madrs": lambda s: clinical.sex_madrs(
            scores, participants, CONDITIONS, SCALES, synthetic=s
        ),
        "qc_spectral_quality": lambda s: qc.qc_spectral_quality(
            spectra, flags_of(spectra), CONDITIONS, synthetic=s
        ),
        "qc_ratio_by_participant": lambda s: qc.qc_ratio_by_participant(
            spectra, CONDITIONS, synthetic=s
        ),
        "participant_flow": lambda s: flow.participant_flow(flow_table, CONDITIONS, synthetic=s),
    }


FIGURE_NAMES = list(_figures(None, None, None, None))  # the drawing lambdas run later


@pytest.mark.parametrize("name", FIGURE_NAMES)
def test_figures_are_byte_identical_and_labelled(
    name, tmp_path, spectra, participants, scores, flow_table
):
    draw = _figures(spectra, participants, scores, flow_table)[name]
    written = []
    for run in ("a", "b"):
        figure, table = draw(True)
        output = {kind: tmp_path / run / f"{name}.{kind}" for kind in ("png", "svg", "tsv")}
        output["page"] = tmp_path / run / f"{name}.html"
        style.write_figure(figure, table, output, dpi=DPI)
        paths = [output[kind] for kind in ("png", "svg", "tsv", "page")]
        written.append([path.read_bytes() for path in paths])
        # the report page shows the PNG and offers the SVG and the TSV, each the bytes of the output
        page = output["page"].read_text()
        for kind, mime in (
            ("png", "image/png"),
            ("svg", "image/svg+xml"),
            ("tsv", "text/tab-separated-values"),
        ):
            encoded = re.search(rf'"data:{re.escape(mime)};base64,([^"]+)"', page).group(1)
            assert base64.b64decode(encoded) == output[kind].read_bytes(), kind
        assert f'download="{name}.svg"' in page and f'download="{name}.tsv"' in page
    assert written[0] == written[1]
    png, svg, _, _ = written[0]
    assert png.startswith(b"\x89PNG") and b"Software" not in png
    assert svg.lstrip().startswith(b"<?xml") and b"<dc:date>" not in svg
    assert b"SYNTHETIC DATA" in svg
    figure, _ = draw(False)
    assert b"SYNTHETIC DATA" not in style.render(figure, "svg")


def test_unknown_condition_is_an_input_error(tmp_path, spectra):
    spectra.loc[0, "condition"] = "ketamine"
    write_tsv(spectra, tmp_path / "mrs_spectra.tsv")
    with pytest.raises(InputError, match="condition.*placebo, naltrexone"):
        read_checked(tmp_path / "mrs_spectra.tsv", spectra_schema(CONDITIONS))


def test_read_spectra_round_trip_and_errors(tmp_path, spectra):
    path = tmp_path / "mrs_spectra.tsv"
    write_tsv(spectra, path)
    table = read_checked(path, spectra_schema(CONDITIONS))
    assert table["included"].dtype == bool
    assert table["flags"].tolist() == spectra["flags"].tolist()  # empty stays empty, not NA
    assert table["ratio"].isna().sum() == 1
    pd.testing.assert_frame_equal(
        block_summary(table, CONDITIONS), block_summary(spectra, CONDITIONS)
    )
    text = path.read_text().splitlines()
    fields = text[3].split("\t")
    fields[list(spectra.columns).index("included")] = "maybe"
    path.write_text("\n".join(text[:3] + ["\t".join(fields)] + text[4:]) + "\n")
    with pytest.raises(InputError) as err:
        read_checked(path, spectra_schema(CONDITIONS))
    message = str(err.value)
    assert (
        str(path) in message
        and "line 4" in message
        and "'included'" in message
        and "True or False" in message
    )


FLOW_HEADER = "step\ttier\tarm\tstage\tcondition\tn_participants\tn_observations\tunit\tnote\n"


@pytest.mark.parametrize(
    "body, needles",
    [
        (FLOW_HEADER.replace("\tnote", ""), ["'note'", "line 1"]),
        (
            FLOW_HEADER + "1\t1\tall\tRandomised\tall\tmany\tNA\t\t\n",
            ["line 2", "'n_participants'", "whole number", "'many'"],
        ),
        (
            FLOW_HEADER + "1\t1\tall\tRandomised\tall\t4\tNA\t\n",
            ["line 2", "expected 9 tab-separated fields", "got 8"],
        ),
    ],
)
def test_read_flow_errors_name_the_place(tmp_path, body, needles):
    path = tmp_path / "participant_flow.tsv"
    path.write_text(body)
    with pytest.raises(InputError) as err:
        read_checked(path, flow_schema())
    for needle in needles:
        assert needle in str(err.value)


def test_flow_step_must_be_unique(flow_table):
    flow_table.loc[1, "step"] = 1
    with pytest.raises(InputError, match=r"step 1, column 'step'.*each step once"):
        flow.flow_tiers(flow_table)


# Figures at any size: above the configured sizes each figure takes its form that scales, and no
# saved image exceeds max_side_px. A study of 70 participants (840 spectra) is above every default.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from benchmark_figures import (  # noqa: E402
    flags_table,
    participants_table,
    scores_table,
    spectra_table,
)
from benchmark_figures import flow_table as large_flow  # noqa: E402  (the benchmark's tables)

LARGE_STUDY = 70


@pytest.fixture(scope="module")
def large_spectra():
    return spectra_table(LARGE_STUDY, np.random.default_rng(7))


@pytest.fixture(scope="module")
def large_flags(large_spectra):
    return flags_table(large_spectra, THRESHOLDS)


def _png_size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _side_px(figure, dpi: int = 300) -> float:
    """The longest side of the figure's PNG at dpi (as render writes it)."""
    return max(figure.get_size_inches()) * style.capped_dpi(figure, dpi)


def test_large_study_defaults_are_above_every_threshold(large_spectra):
    sizes = style.Sizes()
    assert large_spectra["participant_id"].nunique() > sizes.individual_max_participants
    assert large_spectra["participant_id"].nunique() > sizes.ratio_map_max_participants
    assert large_spectra["condition"].value_counts().max() > sizes.swarm_max_spectra
    embedded = 26 * 6  # spectra per condition of the embedded study: a swarm
    assert embedded <= sizes.swarm_max_spectra and 26 <= sizes.individual_max_participants


def test_large_spectral_quality_draws_histograms_without_warnings(
    large_spectra, large_flags, recwarn
):
    figure, table = qc.qc_spectral_quality(large_spectra, large_flags, CONDITIONS, synthetic=True)
    png = style.render(figure, "png", dpi=300)
    assert not [w for w in recwarn if "place" in str(w.message)]
    assert set(table["level"]) == {"summary", "bin"}  # the drawn bins, not every spectrum
    bins = table[table["level"] == "bin"]
    counted = bins.groupby(["measure", "condition"])["n"].sum()
    summary = table[table["level"] == "summary"].set_index(["measure", "condition"])["n"]
    assert counted.sort_index().tolist() == summary.sort_index().tolist()  # every value binned
    title = figure.legends[0].get_title().get_text()
    assert "more than 400 spectra per condition: histograms" in title
    assert max(_png_size(png)) <= 10_000
    # one dot per spectrum below the threshold
    figure, table = qc.qc_spectral_quality(
        large_spectra, large_flags, CONDITIONS, sizes=style.Sizes(swarm_max_spectra=10_000)
    )
    assert "spectrum" in set(table["level"])


def test_large_individual_figure_is_one_panel_per_condition(large_spectra):
    figure, table = mrs.glx_individual(large_spectra, CONDITIONS, synthetic=True)
    panels = [ax for ax in figure.axes if ax.axison]
    assert len(panels) == len(CONDITIONS)
    assert len(table) == len(large_spectra)  # the TSV still lists every spectrum
    lines = panels[0].collections[0]
    placebo = large_spectra[large_spectra["condition"] == "placebo"]
    assert len(lines.get_segments()) <= placebo["included"].sum()
    assert "70 participants" in panels[0].get_title()
    assert _side_px(figure) <= 10_000 and figure.get_size_inches()[1] < 3.5
    # at the threshold: one panel per participant, as for the embedded study
    few = large_spectra[large_spectra["participant_id"] <= "sub-00048"]
    figure, _ = mrs.glx_individual(few, CONDITIONS)
    assert len([ax for ax in figure.axes if ax.axison]) == 48


def test_large_ratio_map_is_a_sorted_heat_map(large_spectra):
    figure, table = qc.qc_ratio_by_participant(large_spectra, CONDITIONS, synthetic=True)
    ax = figure.axes[0]
    assert len(ax.images) == 1 and not ax.texts[:-2]  # no per-cell codes, only condition names
    ticks = {t.get_text() for t in ax.get_yticklabels()}
    assert not ticks & set(table["participant_id"])  # rows unnamed: numbered only
    excluded = (~table["included"]).groupby(table["participant_id"]).sum()
    first = table.loc[table["map_row"] == 1, "participant_id"].iloc[0]
    assert excluded[first] == excluded.max()  # most exclusions at the top
    assert sorted(table["map_row"].unique()) == list(range(1, LARGE_STUDY + 1))
    assert _side_px(figure) <= 10_000


@pytest.mark.parametrize(
    "name", ["glx_individual", "qc_spectral_quality", "qc_ratio_by_participant"]
)
def test_large_forms_are_byte_identical_on_rerun(name, large_spectra, large_flags, tmp_path):
    draw = {
        "glx_individual": lambda: mrs.glx_individual(large_spectra, CONDITIONS),
        "qc_spectral_quality": lambda: qc.qc_spectral_quality(
            large_spectra, large_flags, CONDITIONS
        ),
        "qc_ratio_by_participant": lambda: qc.qc_ratio_by_participant(large_spectra, CONDITIONS),
    }[name]
    written = []
    for run in ("a", "b"):
        figure, table = draw()
        output = {kind: tmp_path / run / f"{name}.{kind}" for kind in ("png", "svg", "tsv")}
        style.write_figure(figure, table, output, dpi=DPI)
        written.append([output[kind].read_bytes() for kind in ("png", "svg", "tsv")])
    assert written[0] == written[1]


def test_no_side_exceeds_max_side_px():
    assert style.Sizes(dpi=300).cap(50.0) == pytest.approx(10_000 / 300)
    assert style.Sizes(dpi=300, max_side_px=3000).cap(5.0) == 5.0
    with style.context():
        figure = style.new_figure(40.0, 1.0)  # 12,000 px wide at 300 dpi
        figure.add_subplot()
    assert style.capped_dpi(figure, 300) == 250
    assert _png_size(style.render(figure, "png", dpi=300, max_side_px=2000)) == (2000, 50)


def test_flow_box_does_not_grow_with_the_number_of_sites():
    flow_table = large_flow(5000)  # 100 sites, each counted in the randomised box's note
    assert len(flow_table.loc[1, "note"]) > 1000
    figure, table = flow.participant_flow(flow_table, CONDITIONS)
    one_site, _ = flow.participant_flow(large_flow(26), CONDITIONS)
    grown = figure.get_size_inches()[1] - one_site.get_size_inches()[1]
    assert 0 < grown <= flow.MAX_NOTE_LINES * flow.LINE_IN + 1e-9  # the note is cut, not the box
    assert table.loc[1, "note"] == flow_table.loc[1, "note"]  # the whole note in the TSV


def test_many_participants_lines_are_one_collection_of_the_same_lines():
    n = clinical.ONE_ARTIST_ABOVE + 1
    scores = scores_table(n, np.random.default_rng(3))
    people = participants_table(n)[["participant_id", "sex"]]
    scales = {"MADRS": {"timepoints": ["pre", "day1"]}}
    scores = scores[scores["scale"] == "MADRS"]
    figure, table = clinical.madrs_timecourse(scores, CONDITIONS, scales)
    ax = figure.axes[0]
    wide = scores.pivot(index=["condition", "participant_id"], columns="timepoint", values="value")
    complete = wide.notna().all(axis=1)
    drawn = sum(len(c.get_segments()) for c in ax.collections if c.get_rasterized())
    assert drawn == complete.sum() and len(ax.lines) < 10  # one segment per complete participant
    figure, _ = clinical.sex_madrs(scores, people, CONDITIONS, scales)
    changes = wide["day1"] - wide["pre"]
    both = changes.unstack("condition").notna().all(axis=1).sum()
    lines = [c for c in figure.axes[0].collections if c.get_rasterized()]
    assert sum(len(c.get_segments()) for c in lines) == both


# Issue 18 item 5 (figures for a crossover) and issue 21 item 1 (the QC figure reads the flags).
def test_cousineau_morey_interval_against_a_hand_worked_example():
    # Three participants, two within cells; large between-participant spread, small within.
    frame = pd.DataFrame(
        {
            "participant_id": ["p1", "p1", "p2", "p2", "p3", "p3"],
            "cell": ["A", "B"] * 3,
            "value": [10.0, 12.0, 20.0, 23.0, 30.0, 31.0],
        }
    )
    # 1. participant means: p1 11, p2 21.5, p3 30.5; grand mean 126 / 6 = 21.
    # 2. normalised y - mean_i + 21: p1 (20, 22), p2 (19.5, 22.5), p3 (20.5, 21.5).
    # 3. cell A: 20, 19.5, 20.5 -> SD 0.5; cell B: 22, 22.5, 21.5 -> SD 0.5.
    # 4. Morey: variance x M / (M - 1) = 0.25 x 2 = 0.5, SD sqrt(0.5); SE sqrt(0.5) / sqrt(3).
    # 5. half-width = t(0.975, df 2) 4.302653 x 0.408248 = 1.756551.
    table = within_ci(frame, ["cell"], n_cells=2).set_index("cell")
    assert table.loc["A", "ci_half"] == pytest.approx(4.302653 * math.sqrt(0.5) / math.sqrt(3))
    assert table.loc["A", "ci_half"] == pytest.approx(1.756551, abs=1e-6)
    assert table.loc["B", "ci_half"] == pytest.approx(1.756551, abs=1e-6)
    assert table["n_within"].tolist() == [3, 3]
    # The between-participant SEM of cell A would be 10 / sqrt(3): the interval ignores that spread.
    # A participant with one cell only has no within-participant variation: left out of the CI.
    alone = pd.DataFrame({"participant_id": ["p4"], "cell": ["A"], "value": [99.0]})
    with_alone = within_ci(pd.concat([frame, alone]), ["cell"], n_cells=2).set_index("cell")
    assert with_alone.loc["A", "n_within"] == 3
    assert with_alone.loc["A", "ci_half"] == pytest.approx(1.756551, abs=1e-6)


def test_per_time_point_n_is_on_the_table_and_the_image(spectra, scores):
    figure, table = mrs.glx_timecourse(spectra, CONDITIONS)
    ax = figure.axes[0]
    drawn = sorted(
        (round(a.xy[0], 6), a.get_color(), a.get_text())
        for a in ax.texts
        if hasattr(a, "xy") and a.get_text().isdigit()
    )
    colours = style.condition_colours(CONDITIONS)
    expected = sorted(
        (round(row.midpoint_min, 6), colours[row.condition], str(row.n))
        for row in table.itertuples()
    )
    assert drawn == expected
    assert table.set_index(["condition", "block"]).loc[("placebo", 1), "n"] == 3
    figure, table = clinical.madrs_timecourse(scores, CONDITIONS, SCALES)
    counts = [a.get_text() for a in figure.axes[0].texts if a.get_text().isdigit()]
    totals = table[(table["panel"] == "total") & (table["level"] == "mean")]
    assert sorted(counts) == sorted(str(int(n)) for n in totals["n"])
    assert "3" in counts  # naltrexone day 1: sub-02 missing


def test_error_bars_are_the_within_participant_intervals(spectra):
    figure, table = mrs.glx_timecourse(spectra, CONDITIONS)
    kept = spectra[spectra["included"]]
    intervals = within_ci(kept, ["condition", "block"], 2 * 3, value="ratio")
    cell = table.set_index(["condition", "block"]).loc[("placebo", 1)]
    half = intervals.set_index(["condition", "block"]).loc[("placebo", 1), "ci_half"]
    assert cell["ci_high"] - cell["mean"] == pytest.approx(half)
    assert cell["n_within"] == 3
    assert CI_NAME in figure.legends[0].get_title().get_text().replace("\n", " ")


def test_madrs_figure_shows_the_change_from_pre(scores):
    figure, table = clinical.madrs_timecourse(scores, CONDITIONS, SCALES)
    change = table[table["panel"] == "change"]
    people = change[change["level"] == "participant"].set_index(["participant_id", "condition"])
    assert people.loc[("sub-01", "placebo"), "value"] == -12  # 18 - 30
    assert people.loc[("sub-03", "naltrexone"), "value"] == -6  # 24 - 30
    assert np.isnan(people.loc[("sub-02", "naltrexone"), "value"])  # day 1 missing: no change
    means = change[change["level"] == "mean"].set_index("condition")
    assert means.loc["placebo", "mean"] == pytest.approx(-12.25)
    assert means.loc["naltrexone", "mean"] == pytest.approx(-19 / 3)
    assert means.loc["naltrexone", "n"] == 3 and means.loc["placebo", "n_within"] == 3
    assert set(change["timepoint"]) == {"day1 - pre"}
    assert len([ax for ax in figure.axes if ax.axison]) == 2
    assert figure.axes[1].get_xticklabels()[0].get_text() == "n = 4 / 3"


def test_data_end_is_marked_where_the_infusion_shading_runs_on(spectra, participants):
    figure, table = mrs.glx_timecourse(spectra, CONDITIONS, infusion_window=(0.0, 40.0))
    assert set(table["data_end_min"]) == {12.0} and table["data_end_marked"].all()
    ax = figure.axes[0]
    assert [line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == ":"] == [12.0]
    assert "last fMRS block ends 12 min" in [t.get_text() for t in ax.texts]
    figure, table = mrs.sex_glx(spectra, participants, CONDITIONS)
    assert set(table["data_end_min"]) == {12.0} and table["data_end_marked"].all()
    for ax in figure.axes:
        assert [line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == ":"] == [12.0]
    figure, table = mrs.glx_timecourse(spectra, CONDITIONS, infusion_window=(0.0, 12.0))
    assert not table["data_end_marked"].any()
    assert not [line for line in figure.axes[0].lines if line.get_linestyle() == ":"]


def test_legend_lists_only_markers_that_appear(spectra):
    def entries(frame):
        figure, _ = mrs.glx_individual(frame, CONDITIONS)
        legend = [ax.get_legend() for ax in figure.axes if ax.get_legend()][0]
        return [text.get_text() for text in legend.get_texts()]

    assert {"excluded by QC", "no ratio (undetermined)"} <= set(entries(spectra))
    determined = spectra[spectra["ratio"].notna()]
    assert "no ratio (undetermined)" not in entries(determined)
    clean = determined[determined["included"]]
    assert "excluded by QC" not in entries(clean)


def test_spectral_quality_marks_what_the_flags_table_flagged(spectra, flags):
    # A threshold in the flags table unlike the config's: the figure follows the table.
    flags = flags.copy()
    fwhm = flags["criterion"] == "fwhm"
    flags.loc[fwhm, "threshold"] = 0.05
    flags.loc[fwhm, "flagged"] = flags.loc[fwhm, "value"] > 0.05
    figure, table = qc.qc_spectral_quality(spectra, flags, CONDITIONS)
    points = table[table["level"] == "spectrum"]
    keys = ["participant_id", "condition", "block"]
    for measure, criterion in qc.PANEL_CRITERIA.items():
        marked = points[points["measure"] == measure].set_index(keys)["beyond_threshold"]
        decided = flags[flags["criterion"] == criterion].set_index(keys)
        expected = decided["flagged"].reindex(marked.index)
        if criterion == "crlb":  # the flag is on the worse %SD: the panel's own %SD raised it
            values = points[points["measure"] == measure].set_index(keys)["value"]
            expected = expected & (values > decided["threshold"].reindex(marked.index))
        present = marked.notna()
        assert marked[present].astype(bool).tolist() == expected[present].tolist(), measure
        threshold = decided["threshold"].iloc[0]
        assert set(table.loc[table["measure"] == measure, "threshold"]) == {threshold}
    dashed = [line.get_ydata()[0] for line in figure.axes[0].lines if line.get_linestyle() == "--"]
    assert dashed == [0.05]
    summary = table[table["level"] == "summary"].set_index(["measure", "condition"])
    assert summary.loc[("fwhm_ppm", "placebo"), "n_beyond_threshold"] == 8  # every 0.06 and 0.15


def test_max_fwhm_ppm_is_read_in_at_most_two_package_modules():
    package = Path(__file__).resolve().parents[1] / "src" / "crossover_fmrs"
    readers = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "max_fwhm_ppm" in path.read_text() and "simulate" not in path.parts
    )
    assert "figures/qc.py" not in readers and len(readers) <= 1


def test_flow_phases_follow_consort(flow_table):
    phases = flow.flow_phases(flow.flow_tiers(flow_table), CONDITIONS)
    assert phases == [
        "Enrolment",
        "Enrolment",
        "Allocation",
        "Follow-up",
        "Follow-up",
        "Analysis",
        "Analysis",
    ]
    figure, _ = flow.participant_flow(flow_table, CONDITIONS)
    texts = [text.get_text() for text in figure.axes[0].texts]
    assert {"Enrolment", "Allocation", "Follow-up", "Analysis"} <= set(texts)
