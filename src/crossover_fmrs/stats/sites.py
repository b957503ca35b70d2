"""A pooled multi-site study: the naltrexone - placebo Glx/tNAA effect of each site from its own
model, the pooled estimate, and how much the sites differ.

Three kinds of row (column `level`):

- `site`: the site's own model (config stats.glx_formula on the site's rows), its condition
  estimate with SE, Satterthwaite df and the t-based 95% CI. A site where that model cannot be
  fitted (one participant, one condition observed, too few spectra) keeps its row, with the
  estimate NA and the reason in `note`.
- `pooled_model`: the one-stage analysis, the same formula on every row with the site random
  intercept (stats.site_term): its condition estimate and CI, and `site_variance`, the variance
  of the site intercepts (how much sites differ in their Glx/tNAA level).
- `meta_analysis`: the two-stage analysis, a random-effects meta-analysis of the site estimates
  (DerSimonian & Laird 1986): inverse-variance weights, Cochran's Q, the between-site variance
  of the effect tau^2 = max(0, (Q - (k - 1)) / (sum w - sum w^2 / sum w)), I^2 = max(0,
  (Q - (k - 1)) / Q) (Higgins & Thompson 2002: the share of the variation of the site estimates
  beyond chance), and the pooled estimate with weights 1 / (SE^2 + tau^2) and a normal 95% CI,
  as R's metafor::rma(method = "DL") gives them (tests/fixtures/stats/meta_analysis/).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..common.errors import InputError
from ..common.tables import SITE
from .analyses import fit, lmm_rows

SITE_EFFECT_COLUMNS = [
    "level",
    "site",
    "n_participants",
    "n_observations",
    "estimate",
    "se",
    "df",
    "ci_low",
    "ci_high",
    "p",
    "site_variance",
    "tau2",
    "i2_percent",
    "q",
    "q_df",
    "q_p",
    "method",
    "note",
]
CONFIDENCE = 0.95
TERM = "condition"


def _condition_row(result, data: pd.DataFrame, source: str) -> dict:
    row = lmm_rows(result, "site_effects", "", "", data).set_index("term").loc[TERM]
    t = stats.t.ppf(0.5 + CONFIDENCE / 2, row["df_den"])
    return {
        "n_participants": int(row["n_participants"]),
        "n_observations": int(row["n_observations"]),
        "estimate": float(row["estimate"]),
        "se": float(row["se"]),
        "df": float(row["df_den"]),
        "ci_low": float(row["estimate"] - t * row["se"]),
        "ci_high": float(row["estimate"] + t * row["se"]),
        "p": float(row["p"]),
    }


def _site_row(site, part: pd.DataFrame, formula: str, conditions, reference, ddf) -> dict:
    base = {
        "level": "site",
        "site": site,
        "n_participants": part["participant_id"].nunique(),
        "n_observations": int(part["ratio"].notna().sum()),
        "method": f"the site's own model: {formula}",
    }
    if base["n_participants"] < 2:
        return {**base, "note": "one participant: a model with a participant intercept needs two"}
    if part["condition"].nunique() < 2:
        observed = part["condition"].iloc[0]
        return {**base, "note": f"only {observed} observed at this site: no condition effect"}
    try:
        result = fit(part, formula, conditions, reference, f"site {site}", ddf=ddf)
    except (InputError, ValueError, np.linalg.LinAlgError) as err:
        return {**base, "note": f"the site's model cannot be fitted: {err}"}
    return {**base, **_condition_row(result, part, f"site {site}"), "note": ""}


def dersimonian_laird(estimates: np.ndarray, ses: np.ndarray) -> dict:
    """Random-effects meta-analysis of k estimates with their SEs (see the module docstring)."""
    k = len(estimates)
    w = 1.0 / ses**2
    fixed = np.sum(w * estimates) / np.sum(w)
    q = float(np.sum(w * (estimates - fixed) ** 2))
    c = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    tau2 = max(0.0, (q - (k - 1)) / c) if c > 0 else 0.0
    w_star = 1.0 / (ses**2 + tau2)
    pooled = float(np.sum(w_star * estimates) / np.sum(w_star))
    se = float(np.sqrt(1.0 / np.sum(w_star)))
    z = stats.norm.ppf(0.5 + CONFIDENCE / 2)
    return {
        "estimate": pooled,
        "se": se,
        "ci_low": pooled - z * se,
        "ci_high": pooled + z * se,
        "p": float(2 * stats.norm.sf(abs(pooled / se))),
        "tau2": tau2,
        "i2_percent": max(0.0, 100.0 * (q - (k - 1)) / q) if q > 0 else 0.0,
        "q": q,
        "q_df": k - 1,
        "q_p": float(stats.chi2.sf(q, k - 1)) if k > 1 else np.nan,
    }


def site_effects(
    data: pd.DataFrame,
    formula: str,
    site_term: str,
    conditions: list[str],
    reference: str,
    ddf: str = "Satterthwaite",
) -> pd.DataFrame:
    """The rows of site_effects.tsv from the Glx/tNAA model data of a pooled study."""
    rows = [
        _site_row(site, part, formula, conditions, reference, ddf)
        for site, part in data.groupby(SITE, sort=True)
    ]
    pooled = fit(data, formula, conditions, reference, "site_effects (pooled)", ddf, site_term)
    components = pooled.variance_components.set_index("name")["variance"]
    rows.append(
        {
            "level": "pooled_model",
            "site": "all",
            **_condition_row(pooled, data, "pooled"),
            "site_variance": float(components.get(SITE, np.nan)),
            "method": f"one-stage model: {pooled.formula}",
            "note": "",
        }
    )
    fitted = [row for row in rows[:-1] if pd.notna(row.get("estimate"))]
    meta = {
        "level": "meta_analysis",
        "site": "all",
        "n_participants": sum(row["n_participants"] for row in fitted),
        "n_observations": sum(row["n_observations"] for row in fitted),
        "method": "random-effects meta-analysis of the site estimates (DerSimonian-Laird)",
    }
    if len(fitted) >= 2:
        meta |= dersimonian_laird(
            np.array([row["estimate"] for row in fitted]), np.array([row["se"] for row in fitted])
        )
        meta["note"] = f"{len(fitted)} of {len(rows) - 1} sites with an estimate"
    else:
        meta["note"] = f"{len(fitted)} site(s) with an estimate: at least two are needed"
    rows.append(meta)
    return pd.DataFrame(rows, columns=SITE_EFFECT_COLUMNS)
