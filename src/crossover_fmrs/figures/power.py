"""Power curves: power against the number of participants, one panel per test, one line per
effect, with the Monte Carlo 95% CI, the target powers and the study's own n marked."""

from __future__ import annotations

import pandas as pd

from . import style

TEST_TITLES = {
    "glx_condition": "Glx/tNAA: condition",
    "madrs_condition_x_time": "MADRS: condition × time",
    "glx_condition_x_sex": "Glx/tNAA: condition × sex",
}


def power_curves(
    power: pd.DataFrame, *, observed_n: int, targets=(0.8, 0.9), synthetic: bool = False
):
    """Returns (figure, table): the table holds the plotted points. The grid's cells only: the
    cells with varying sessions (more session_sd than the grid's) count false positives."""
    power = power[power["session_sd"] == power["session_sd"].min()]
    tests = list(dict.fromkeys(power["test"]))
    effects = sorted(power["effect"].unique())
    colours = dict(zip(effects, style.OKABE_ITO[2:] + style.OKABE_ITO[:2]))
    with style.context():
        figure = style.new_figure(style.DOUBLE_COLUMN, 2.5)
        axes = figure.subplots(1, len(tests), sharey=True, squeeze=False)[0]
        for ax, test in zip(axes, tests):
            of_test = power[power["test"] == test]
            for effect in effects:
                rows = of_test[of_test["effect"] == effect].sort_values("n_participants")
                ax.fill_between(
                    rows["n_participants"],
                    rows["ci_low"],
                    rows["ci_high"],
                    color=colours[effect],
                    alpha=0.18,
                    lw=0,
                )
                ax.plot(
                    rows["n_participants"],
                    rows["power"],
                    marker="o",
                    color=colours[effect],
                    label=f"{effect:g} × published" if effect else "no effect (size)",
                )
            for target in targets:
                ax.axhline(target, color=style.LIGHT, lw=0.6, ls="--", zorder=0)
            ax.axvline(observed_n, color=style.NEUTRAL, lw=0.7, ls=":")
            ax.text(
                observed_n,
                1.02,
                f" n = {observed_n}",
                color=style.NEUTRAL,
                ha="left",
                va="bottom",
                transform=ax.get_xaxis_transform(),
            )
            ax.set_ylim(0, 1)
            ax.set_title(TEST_TITLES.get(test, test), pad=12)
            ax.set_xlabel("participants")
        axes[0].set_ylabel("power")
        style.panel_letters(axes)
        handles, names = axes[0].get_legend_handles_labels()
        n_replicates = int(power["replicates"].min())
        figure.legend(
            handles,
            names,
            loc="outside lower center",
            ncols=len(effects),
            title=f"power: share of replicates with P < alpha; bands: 95% CI over {n_replicates} "
            "replicates per point; dashed: target powers; effect:",
        )
        style.label_synthetic(figure, synthetic)
    return figure, power.sort_values(
        ["test", "effect", "n_participants"], kind="stable"
    ).reset_index(drop=True)
