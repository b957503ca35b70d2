"""Pooled multi-site studies: the site column, the site term of the models, each site's own
effect, the pooled estimates and the heterogeneity (checked against R's metafor)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crossover_fmrs.common.errors import InputError
from crossover_fmrs.ingest.participants import read_participants
from crossover_fmrs.stats.analyses import glx_model_data, is_multisite, with_site_term
from crossover_fmrs.stats.sites import SITE_EFFECT_COLUMNS, dersimonian_laird, site_effects
from embedded import embedded_model_data

ROOT = Path(__file__).resolve().parents[1]
META = ROOT / "tests" / "fixtures" / "stats" / "meta_analysis"
CONDITIONS = ["placebo", "naltrexone"]
FORMULA = "ratio ~ condition * block + (1 | participant_id)"


@pytest.fixture(scope="module")
def glx():
    return embedded_model_data(ROOT)["glx"]


def with_sites(data: pd.DataFrame, sites: dict[str, str]) -> pd.DataFrame:
    return data.assign(site=data["participant_id"].map(sites))


def three_sites(data: pd.DataFrame) -> dict[str, str]:
    people = sorted(data["participant_id"].unique())
    return {pid: "ABC"[i * 3 // len(people)] for i, pid in enumerate(people)}


def test_dersimonian_laird_matches_metafor_on_the_bcg_trials():
    data = pd.read_csv(META / "bcg.tsv", sep="\t")
    reference = pd.read_csv(META / "bcg_dl_reference.tsv", sep="\t").set_index("quantity")
    found = dersimonian_laird(data["estimate"].to_numpy(), data["se"].to_numpy())
    for quantity, value in reference["value"].items():
        assert found[quantity] == pytest.approx(value, rel=1e-9), quantity


def test_the_site_term_joins_the_models_only_with_more_than_one_site(glx):
    assert not is_multisite(glx) and with_site_term(FORMULA, glx, "(1 | site)") == FORMULA
    one = glx.assign(site="A")
    assert with_site_term(FORMULA, one, "(1 | site)") == FORMULA
    pooled = with_sites(glx, three_sites(glx))
    assert with_site_term(FORMULA, pooled, "(1 | site)") == FORMULA + " + (1 | site)"
    assert with_site_term(FORMULA + " + (1 | site)", pooled, "(1 | site)").count("site") == 1


def test_each_site_gets_its_own_effect_and_the_pooled_ones(glx):
    table = site_effects(
        with_sites(glx, three_sites(glx)), FORMULA, "(1 | site)", CONDITIONS, "placebo"
    )
    assert list(table.columns) == SITE_EFFECT_COLUMNS
    assert table["level"].tolist() == ["site"] * 3 + ["pooled_model", "meta_analysis"]
    sites = table[table["level"] == "site"]
    assert sites["n_participants"].sum() == glx["participant_id"].nunique()
    assert (sites["ci_low"] < sites["estimate"]).all() and (
        sites["estimate"] < sites["ci_high"]
    ).all()
    pooled, meta = table.iloc[3], table.iloc[4]
    assert "(1 | site)" in pooled["method"] and pooled["site_variance"] >= 0
    assert meta["q_df"] == 2 and 0 <= meta["i2_percent"] <= 100 and meta["tau2"] >= 0
    # The meta-analysis pools the three site rows of the table itself.
    again = dersimonian_laird(sites["estimate"].to_numpy(), sites["se"].to_numpy())
    assert meta["estimate"] == pytest.approx(again["estimate"])
    # With one site only, the one-stage model is the primary model: same estimate.
    alone = site_effects(glx.assign(site="A"), FORMULA, "(1 | site)", CONDITIONS, "placebo")
    assert "(1 | site)" not in alone.iloc[1]["method"]
    assert alone.iloc[0]["estimate"] == pytest.approx(alone.iloc[1]["estimate"])
    assert np.isnan(alone.iloc[2]["estimate"]) and "at least two" in alone.iloc[2]["note"]


def test_a_site_that_cannot_have_its_own_model_keeps_its_row_with_the_reason(glx):
    sites = three_sites(glx)
    people = sorted(sites)
    sites[people[0]] = "solo"  # one participant
    data = with_sites(glx, sites)
    # a site where only placebo sessions were observed
    only_placebo = data["site"].eq("C") & data["condition"].eq("naltrexone")
    table = site_effects(data[~only_placebo], FORMULA, "(1 | site)", CONDITIONS, "placebo")
    rows = table.set_index("site")
    assert np.isnan(rows.loc["solo", "estimate"]) and "one participant" in rows.loc["solo", "note"]
    assert np.isnan(rows.loc["C", "estimate"]) and "only placebo observed" in rows.loc["C", "note"]
    meta = table[table["level"] == "meta_analysis"].iloc[0]
    assert meta["note"] == "2 of 4 sites with an estimate" and meta["q_df"] == 1


def test_the_site_column_is_checked_and_named_site(tmp_path):
    source = (ROOT / "data" / "synthetic" / "participants.tsv").read_text().splitlines()
    lines = [source[0] + "\tcentre"] + [f"{line}\tLondon site" for line in source[1:]]
    path = tmp_path / "participants.tsv"
    path.write_text("\n".join(lines) + "\n")
    frame = read_participants(path, CONDITIONS, "centre")
    assert "site" in frame and "centre" not in frame and set(frame["site"]) == {"London site"}
    lines[3] = lines[3].rsplit("\t", 1)[0] + "\t"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as err:
        read_participants(path, CONDITIONS, "centre")
    message = str(err.value)
    assert "participants.tsv" in message and "line 4" in message and "centre" in message
    assert "an empty cell" in message and "\n" not in message
    # Without the column the study is one site and the table is as before.
    plain = read_participants(ROOT / "data" / "synthetic" / "participants.tsv", CONDITIONS, "site")
    assert "site" not in plain


def test_model_data_carry_the_site_only_for_a_pooled_study(glx):
    participants = read_participants(ROOT / "data" / "synthetic" / "participants.tsv", CONDITIONS)
    # the model data's own rows stand in for the spectra
    spectra = glx[["participant_id", "condition", "block", "phase", "ratio"]].assign(
        included=True, onset_min=0.0, offset_min=1.0
    )
    assert "site" not in glx_model_data(spectra, participants)
    assert "site" not in glx_model_data(spectra, participants.assign(site="A"))
    pooled = participants.assign(site=participants["participant_id"].map(three_sites(glx)))
    assert set(glx_model_data(spectra, pooled)["site"]) == {"A", "B", "C"}


def test_site_names_are_only_labels_never_file_names(glx):
    """Batches, not sites, name the scattered jobs' files: a site called 'Oslo/Bergen: 2' or
    'site *1' is as good as 'A', and gives the same effects."""
    plain = site_effects(
        with_sites(glx, three_sites(glx)), FORMULA, "(1 | site)", CONDITIONS, "placebo"
    )
    odd_names = {"A": "Oslo/Bergen: 2", "B": "site *1", "C": "..\\C"}
    renamed = {pid: odd_names[site] for pid, site in three_sites(glx).items()}
    odd = site_effects(with_sites(glx, renamed), FORMULA, "(1 | site)", CONDITIONS, "placebo")
    by_name = odd.iloc[:3].set_index("site")["estimate"]
    for site, name in odd_names.items():
        assert by_name[name] == plain.iloc[:3].set_index("site")["estimate"][site]
    assert odd.iloc[3:]["estimate"].tolist() == pytest.approx(plain.iloc[3:]["estimate"].tolist())
