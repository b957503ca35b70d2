"""Quality control of fMRS spectra: one row per spectrum (participant x condition x block).

Every criterion is a flag with its value and threshold; only the criteria listed in the
config's `exclude_on` remove a spectrum from the statistics (flag first, exclude by pre-set
criteria only; a hard %CRLB cut biases means upwards, Kreis 2016, so it stays a setting).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..common.errors import InputError
from ..common.schemas import SPECTRUM_KEYS

CRITERIA = ("crlb", "fwhm", "snr", "undetermined", "fwhm_drift", "snr_drift")
# Criteria on the quality of the spectrum (undetermined is about the ratio's metabolites): a
# spectrum none of these could be evaluated for (fsl_dynmrs without dyn_cov.csv) is marked, never
# passed in silence.
QUALITY_CRITERIA = ("crlb", "fwhm", "snr", "fwhm_drift", "snr_drift")
# [A] A denominator under this fraction of the study median is no fit of that metabolite (a sum of
# nearly cancelling parts gave Glx/tNAA = 165): the ratio is flagged with the reason.
MIN_DENOMINATOR_FRACTION = 0.1


def ratio_table(
    tidy: pd.DataFrame, numerator: str = "Glx", denominator: str = "tNAA"
) -> pd.DataFrame:
    """One row per participant x condition x block with numerator/denominator concentrations.

    The ratio is NaN, with the reason, where the spectrum's fit output lacks either metabolite
    (e.g. no Glu+Gln row: "numerator Glx not in the fit output"), where either is a sum with a
    negative part, has an undetermined %SD (LCModel 999%), or the denominator is not positive or
    implausibly small (_implausible). Order follows the tidy table.
    """
    keys = SPECTRUM_KEYS + ["onset_min", "offset_min", "source_file"]
    spectra = tidy[keys].drop_duplicates(SPECTRUM_KEYS).reset_index(drop=True)
    for metabolite, label in ((numerator, "numerator"), (denominator, "denominator")):
        part = tidy.loc[
            tidy["metabolite"] == metabolite, SPECTRUM_KEYS + ["concentration", "crlb_undetermined"]
        ]
        part = part.rename(
            columns={
                "concentration": f"{label}_concentration",
                "crlb_undetermined": f"{label}_undetermined",
            }
        )
        spectra = spectra.merge(part, on=SPECTRUM_KEYS, how="left", validate="one_to_one")
    negative = {
        label: _negative_parts(tidy, metabolite)
        for metabolite, label in ((numerator, "numerator"), (denominator, "denominator"))
    }
    floor = (
        MIN_DENOMINATOR_FRACTION
        * spectra["denominator_concentration"]
        .where(spectra["denominator_concentration"] > 0)
        .median()
    )
    reasons = []
    for row in spectra.itertuples(index=False):
        why = []
        key = (row.participant_id, row.condition, row.block)
        for metabolite, label in ((numerator, "numerator"), (denominator, "denominator")):
            value = getattr(row, f"{label}_concentration")
            if pd.isna(value):
                why.append(f"{label} {metabolite} not in the fit output")
            elif key in negative[label]:
                why.append(f"{metabolite} undetermined: part {negative[label][key]} negative")
            elif bool(getattr(row, f"{label}_undetermined")):
                why.append(f"{metabolite} %SD undetermined (999)")
        if not why and not row.denominator_concentration > 0:
            why.append(f"{denominator} concentration not positive")
        elif not why and row.denominator_concentration < floor:
            why.append(
                f"{denominator} implausible: {row.denominator_concentration:.3g} is below "
                f"{MIN_DENOMINATOR_FRACTION:.0%} of the study median "
                f"{floor / MIN_DENOMINATOR_FRACTION:.3g}"
            )
        reasons.append("; ".join(why))
    spectra["reason"] = reasons
    usable = spectra["reason"] == ""
    spectra["ratio"] = (
        spectra["numerator_concentration"] / spectra["denominator_concentration"]
    ).where(usable)
    spectra["numerator"] = numerator
    spectra["denominator"] = denominator
    columns = keys[:5] + [
        "numerator",
        "denominator",
        "numerator_concentration",
        "denominator_concentration",
        "ratio",
        "reason",
        "source_file",
    ]
    return spectra[columns]


def _negative_parts(tidy: pd.DataFrame, metabolite: str) -> dict[tuple, str]:
    """{spectrum: 'NAAG = -0.00306'} where the metabolite is a sum (its tool name joins parts
    with '+' or '_', e.g. NAA+NAAG) and a part the same spectrum reports is negative. Tools that
    do not bound amplitudes (fsl_dynmrs) write such sums: the sum then measures noise."""
    if "tool_metabolite" not in tidy:
        return {}
    below = tidy[tidy["concentration"] < 0]
    negative = {
        (r.participant_id, r.condition, r.block, r.tool_metabolite): r.concentration
        for r in below.itertuples(index=False)
    }
    out = {}
    for row in tidy[tidy["metabolite"] == metabolite].itertuples(index=False):
        key = (row.participant_id, row.condition, row.block)
        parts = [p for p in re.split(r"[+_]", str(row.tool_metabolite)) if (*key, p) in negative]
        if parts:
            out[key] = "; ".join(f"{p} = {negative[(*key, p)]:.3g}" for p in parts)
    return out


def check_ratio_metabolites(
    tidy: pd.DataFrame, numerator: str, denominator: str, label: str
) -> None:
    """InputError when no spectrum reports a ratio metabolite at all (a basis set without it, or a
    name the vocabulary does not know), naming the metabolite and the fit outputs searched."""
    found = sorted(tidy["metabolite"].dropna().unique())
    files = sorted(tidy["source_file"].dropna().unique()) if "source_file" in tidy else []
    for metabolite, role in ((numerator, "numerator"), (denominator, "denominator")):
        if metabolite not in found:
            searched = ", ".join(files[:2]) + (", ..." if len(files) > 2 else "")
            raise InputError(
                label,
                None,
                f"mrs.ratio.{role}",
                f"a metabolite some fit output reports; searched "
                f"{len(files)} fit outputs in data_dir ({searched}), "
                f"which report {', '.join(found)}",
                metabolite,
            )


def spectrum_table(mrs_long: pd.DataFrame, numerator: str, denominator: str) -> pd.DataFrame:
    """The outcome ratio (ratio_table: NaN with a reason where it cannot be formed) and the
    quality measures of each spectrum."""
    check_ratio_metabolites(mrs_long, numerator, denominator, "results/tidy/mrs_long.tsv")
    spectra = ratio_table(mrs_long, numerator, denominator)
    quality = mrs_long.groupby(SPECTRUM_KEYS, sort=True)[["fwhm_ppm", "snr"]].first().reset_index()
    spectra = spectra.merge(quality, on=SPECTRUM_KEYS, how="left", validate="one_to_one")
    for metabolite, label in ((numerator, "numerator"), (denominator, "denominator")):
        rows = mrs_long.loc[
            mrs_long["metabolite"] == metabolite,
            SPECTRUM_KEYS + ["crlb_percent", "crlb_undetermined"],
        ]
        rows = rows.rename(
            columns={
                "crlb_percent": f"{label}_crlb_percent",
                "crlb_undetermined": f"{label}_undetermined",
            }
        )
        spectra = spectra.merge(rows, on=SPECTRUM_KEYS, how="left", validate="one_to_one")
    spectra["undetermined"] = spectra["reason"] != ""
    return spectra.sort_values(SPECTRUM_KEYS, kind="stable").reset_index(drop=True)


def mark_phase(spectra: pd.DataFrame, baseline_blocks: list[int]) -> pd.DataFrame:
    """Add `phase` (baseline | infusion) from config mrs.baseline_blocks, checked against the
    timing: a baseline block must end by the start of the infusion (0 min), every other block
    start at or after it."""
    baseline = spectra["block"].isin(baseline_blocks)
    wrong = spectra[
        (baseline & (spectra["offset_min"] > 0)) | (~baseline & (spectra["onset_min"] < 0))
    ]
    if len(wrong):
        row = wrong.iloc[0]
        listed = "listed" if row["block"] in baseline_blocks else "not listed"
        raise InputError(
            "config.yaml",
            f"{row['participant_id']}, {row['condition']}, block {row['block']}",
            "mrs.baseline_blocks",
            "baseline blocks that end by 0 min and infusion blocks that start at or after 0 min "
            f"(block {row['block']} is {listed} as baseline)",
            f"{row['onset_min']:g} to {row['offset_min']:g} min in {row['source_file']}",
        )
    return spectra.assign(phase=np.where(baseline, "baseline", "infusion"))


def _flag_rows(
    spectra: pd.DataFrame, criterion: str, value, threshold, rule: str, flagged
) -> pd.DataFrame:
    """One criterion for every spectrum. A value the fitting tool does not provide (NaN, e.g. no
    %CRLB from Osprey, no FWHM in LCModel's csv) is `available = False`: not evaluated, never a
    pass."""
    frame = spectra[SPECTRUM_KEYS].copy()
    frame["criterion"] = criterion
    frame["value"] = np.asarray(value, dtype=float)
    frame["threshold"] = float(threshold)
    frame["rule"] = rule
    frame["available"] = ~np.isnan(frame["value"].to_numpy())
    frame["flagged"] = np.asarray(flagged, dtype=bool) & frame["available"].to_numpy()
    return frame


def beyond_thresholds(worst_crlb, fwhm_ppm, snr, thresholds: dict) -> dict:
    """Each spectral QC criterion (config qc.mrs), True where a spectrum is beyond its threshold:
    the one place the rules are written. qc_flags applies them to the study, the simulator to the
    spectra it makes pass or fail. worst_crlb is the larger %SD of the ratio's two metabolites;
    the values are those the fitting tool printed."""
    return {
        "crlb": worst_crlb > thresholds["max_crlb_percent"],
        "fwhm": fwhm_ppm > thresholds["max_fwhm_ppm"],
        "snr": snr < thresholds["min_snr"],
    }


def qc_flags(spectra: pd.DataFrame, thresholds: dict) -> pd.DataFrame:
    """Long table: one row per spectrum x criterion with value, threshold and whether it is
    flagged."""
    worst_crlb = spectra[["numerator_crlb_percent", "denominator_crlb_percent"]].max(
        axis=1, skipna=False
    )
    beyond = beyond_thresholds(worst_crlb, spectra["fwhm_ppm"], spectra["snr"], thresholds)
    # Drift is measured from the session's first block that passes the other criteria, so one
    # poor first spectrum does not flag a whole session.
    passes = ~(
        beyond["crlb"] | beyond["fwhm"] | beyond["snr"] | spectra["undetermined"].astype(bool)
    )
    reference = spectra[["fwhm_ppm", "snr"]].where(passes)
    first = reference.groupby(
        [spectra["participant_id"], spectra["condition"]], sort=True
    ).transform("first")
    fwhm_drift = (spectra["fwhm_ppm"] - first["fwhm_ppm"]).abs()
    snr_drop = 1 - spectra["snr"] / first["snr"]
    parts = [
        _flag_rows(
            spectra,
            "crlb",
            worst_crlb,
            thresholds["max_crlb_percent"],
            "%SD of numerator or denominator > threshold",
            beyond["crlb"],
        ),
        _flag_rows(
            spectra,
            "fwhm",
            spectra["fwhm_ppm"],
            thresholds["max_fwhm_ppm"],
            "FWHM (ppm) > threshold",
            beyond["fwhm"],
        ),
        _flag_rows(
            spectra,
            "snr",
            spectra["snr"],
            thresholds["min_snr"],
            "S/N < threshold",
            beyond["snr"],
        ),
        _flag_rows(
            spectra,
            "undetermined",
            spectra["undetermined"].astype(float),
            1,
            "ratio metabolite missing or %SD undetermined (999)",
            spectra["undetermined"],
        ),
        _flag_rows(
            spectra,
            "fwhm_drift",
            fwhm_drift,
            thresholds["max_fwhm_drift_ppm"],
            "|FWHM - FWHM of the session's first passing block| > threshold",
            fwhm_drift > thresholds["max_fwhm_drift_ppm"],
        ),
        _flag_rows(
            spectra,
            "snr_drift",
            snr_drop,
            thresholds["max_snr_drift_fraction"],
            "fall of S/N from the session's first passing block, as a fraction > threshold",
            snr_drop > thresholds["max_snr_drift_fraction"],
        ),
    ]
    flags = pd.concat(parts, ignore_index=True)
    flags["criterion"] = pd.Categorical(flags["criterion"], categories=list(CRITERIA), ordered=True)
    flags = flags.sort_values(SPECTRUM_KEYS + ["criterion"], kind="stable").reset_index(drop=True)
    flags["criterion"] = flags["criterion"].astype(str)
    return flags


def apply_qc(spectra: pd.DataFrame, flags: pd.DataFrame, exclude_on: list[str]) -> pd.DataFrame:
    """Spectra with `flags`, `excluded_by` (criteria in exclude_on that fired), `not_evaluated`
    (criteria whose measure the tool does not provide), `included`, and `quality_not_evaluated`
    (no quality criterion could be evaluated: an included spectrum then passed on its ratio
    alone)."""
    unknown = sorted(set(exclude_on) - set(CRITERIA))
    if unknown:
        raise ValueError(
            f"qc.mrs.exclude_on: unknown criteria {unknown}; expected some of {list(CRITERIA)}"
        )
    fired = flags[flags["flagged"]]
    listed = fired.groupby(SPECTRUM_KEYS, sort=True)["criterion"].agg(";".join).rename("flags")
    excluding = fired[fired["criterion"].isin(exclude_on)]
    excluded_by = (
        excluding.groupby(SPECTRUM_KEYS, sort=True)["criterion"].agg(";".join).rename("excluded_by")
    )
    table = spectra.merge(listed, on=SPECTRUM_KEYS, how="left").merge(
        excluded_by, on=SPECTRUM_KEYS, how="left"
    )
    missing = flags[~flags["available"]]
    not_evaluated = (
        missing.groupby(SPECTRUM_KEYS, sort=True)["criterion"].agg(";".join).rename("not_evaluated")
    )
    table = table.merge(not_evaluated, on=SPECTRUM_KEYS, how="left")
    table["flags"] = table["flags"].fillna("")
    table["excluded_by"] = table["excluded_by"].fillna("")
    table["not_evaluated"] = table["not_evaluated"].fillna("")
    table["included"] = (table["excluded_by"] == "") & table["ratio"].notna()
    evaluated = flags[flags["available"] & flags["criterion"].isin(QUALITY_CRITERIA)]
    checked = evaluated[SPECTRUM_KEYS].drop_duplicates().assign(_checked=True)
    table = table.merge(checked, on=SPECTRUM_KEYS, how="left")
    table["quality_not_evaluated"] = table.pop("_checked").isna()
    return table
