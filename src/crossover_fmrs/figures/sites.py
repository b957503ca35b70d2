"""Forest plot of a pooled study: each site's naltrexone - placebo Glx/tNAA effect with its 95%
CI, then the pooled estimates (one-stage model, random-effects meta-analysis) as diamonds.

Linear in the number of sites. Up to LABELLED_SITES sites each row is named; beyond that the
sites are drawn sorted by their estimate without names (a caterpillar plot), and the height is
capped so that no side exceeds MAX_HEIGHT_IN inches.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import style

LABELLED_SITES = 60
ROW_HEIGHT_IN = 0.16
MAX_HEIGHT_IN = 9.0
POOLED = {"pooled_model": "pooled, one-stage model", "meta_analysis": "pooled, meta-analysis"}


def site_forest(effects: pd.DataFrame, outcome: str = "Glx/tNAA", synthetic: bool = False):
    """Returns (figure, table): the table holds the plotted rows in drawing order."""
    sites = effects[effects["level"] == "site"].copy()
    pooled = effects[effects["level"].isin(POOLED)].copy()
    labelled = len(sites) <= LABELLED_SITES
    if not labelled:  # a caterpillar: sorted by estimate, sites without one last
        sites = sites.sort_values("estimate", na_position="last", kind="stable")
    sites["label"] = [
        f"{site} (n = {n})" if labelled else ""
        for site, n in zip(sites["site"], sites["n_participants"])
    ]
    pooled["label"] = [POOLED[level] for level in pooled["level"]]
    rows = pd.concat([sites, pooled], ignore_index=True)
    # the pooled rows below the sites, one gap and one row apart; apart enough to read at any
    # number of sites (a caterpillar squeezes its rows)
    step = max(1.0, len(sites) / 25)
    pooled_y = -len(sites) - step * np.arange(1, len(pooled) + 1)
    rows["y"] = np.concatenate([-np.arange(len(sites), dtype=float), pooled_y])
    half = 0.35 * step
    height = min(MAX_HEIGHT_IN, 1.0 + ROW_HEIGHT_IN * (len(rows) + 1))
    with style.context():
        figure = style.new_figure(style.SINGLE_COLUMN * 1.4, height)
        ax = figure.subplots()
        site_rows = rows[rows["level"] == "site"]
        has = site_rows["estimate"].notna()
        ax.hlines(
            site_rows.loc[has, "y"],
            site_rows.loc[has, "ci_low"],
            site_rows.loc[has, "ci_high"],
            color=style.NEUTRAL,
            lw=0.8,
        )
        weights = 1.0 / site_rows.loc[has, "se"] ** 2
        sizes = 6 + 30 * weights / weights.max() if len(weights) else []
        ax.scatter(
            site_rows.loc[has, "estimate"],
            site_rows.loc[has, "y"],
            s=sizes,
            marker="s",
            color=style.OKABE_ITO[0],
            zorder=3,
            label="site (size: weight 1/SE²)",
        )
        for row in rows[rows["level"] != "site"].itertuples(index=False):
            ax.fill(
                [row.ci_low, row.estimate, row.ci_high, row.estimate],
                [row.y, row.y + half, row.y, row.y - half],
                color=style.OKABE_ITO[1],
                zorder=3,
            )
        ax.axvline(0, color=style.INK, lw=0.6)
        ax.set_yticks(rows["y"] if labelled else rows.loc[rows["level"] != "site", "y"])
        ax.set_yticklabels(
            rows["label"] if labelled else rows.loc[rows["level"] != "site", "label"]
        )
        if not labelled:
            ax.set_ylabel(f"{len(sites)} sites, sorted by their estimate")
        ax.set_xlabel(f"{outcome}: naltrexone − placebo (95% CI)")
        notes = []
        meta = effects[effects["level"] == "meta_analysis"]
        if len(meta) and pd.notna(meta["tau2"].iloc[0]):
            m = meta.iloc[0]
            notes.append(
                f"between sites: τ² = {m['tau2']:.2g}, I² = {m['i2_percent']:.0f}%, "
                f"Q({int(m['q_df'])}) = {m['q']:.3g}"
            )
        missing = int((~has).sum())
        if missing:
            notes.append(f"{missing} site(s) without an estimate (site_effects.tsv says why)")
        if notes:
            ax.set_title("\n".join(notes), loc="left")
        style.label_synthetic(figure, synthetic)
    table = rows[["level", "site", "n_participants", "estimate", "ci_low", "ci_high", "y"]]
    return figure, table
