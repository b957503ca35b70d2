# Figures, generated from one table: each writes PNG + SVG + the plotted numbers as TSV, and a
# report page (the PNG, with its SVG and TSV as downloads), so the report shows each figure once.

SPECTRA = f"{RESULTS}/qc/mrs_spectra.parquet"
SCORES = f"{RESULTS}/tidy/clinical_scores.tsv"
PARTICIPANTS = f"{RESULTS}/tidy/participants.tsv"
PRIMARY_CLINICAL_OUTCOME = config["stats"]["primary_outcome"]
# Params a figure may take, by name; each figure lists the ones it uses, so a changed setting
# reruns only the figures that draw it.
FIGURE_PARAMS = {
    "conditions": CONDITIONS,
    "scales": SCALES,
    "outcome": PRIMARY_CLINICAL_OUTCOME,
    "primary": PRIMARY_CLINICAL_OUTCOME,
    "infusion_window_min": config["figures"]["infusion_window_min"],
    "labels": config["figures"]["labels"],
    "ratio_label": RATIO_LABEL,
    # sizes above which a figure takes its form that scales (docs/reproducibility.md)
    "swarm_max_spectra": config["figures"]["swarm_max_spectra"],
    "individual_max_participants": config["figures"]["individual_max_participants"],
    "ratio_map_max_participants": config["figures"]["ratio_map_max_participants"],
}
# name, inputs, params, report category, subcategory (script scripts/figure_<name>.py, caption
# report/figures/<name>.rst)
FIGURE_TABLE = [
    (
        "glx_timecourse",
        {"spectra": SPECTRA},
        ["conditions", "infusion_window_min", "labels"],
        "fMRS",
        "Glx/tNAA",
    ),
    (
        "glx_individual",
        {"spectra": SPECTRA},
        ["conditions", "infusion_window_min", "labels", "individual_max_participants"],
        "fMRS",
        "Glx/tNAA",
    ),
    (
        "madrs_timecourse",
        {"scores": SCORES},
        ["conditions", "scales", "outcome", "labels"],
        "Clinical",
        "MADRS",
    ),
    (
        "secondary_scales",
        {"scores": SCORES},
        ["conditions", "scales", "primary", "labels"],
        "Clinical",
        "Secondary scales",
    ),
    (
        "sex_glx",
        {"spectra": SPECTRA, "participants": PARTICIPANTS},
        ["conditions", "infusion_window_min", "labels"],
        "Sex differences",
        "Glx/tNAA",
    ),
    (
        "sex_madrs",
        {"scores": SCORES, "participants": PARTICIPANTS},
        ["conditions", "scales", "outcome", "labels"],
        "Sex differences",
        "MADRS",
    ),
    (
        "qc_spectral_quality",
        # thresholds and the spectra beyond them as QC decided them, not recomputed from config
        {"spectra": SPECTRA, "flags": f"{RESULTS}/qc/mrs_qc_flags.tsv"},
        ["conditions", "labels", "swarm_max_spectra"],
        "QC",
        "fMRS",
    ),
    (
        "qc_ratio_by_participant",
        {"spectra": SPECTRA},
        ["conditions", "labels", "ratio_map_max_participants"],
        "QC",
        "fMRS",
    ),
    (
        "site_forest",
        {"effects": f"{RESULTS}/stats/site_effects.tsv"},
        ["ratio_label"],
        "Sites",
        "Glx/tNAA",
    ),
    (
        "participant_flow",
        {
            "flow": f"{RESULTS}/stats/participant_flow.tsv",
        },
        ["conditions"],
        "QC",
        "Participant flow",
    ),
]
FIGURES = [name for name, *_ in FIGURE_TABLE]
# What each figure shows: its name in the report's lists (Snakemake's report would name it by
# its file otherwise).
FIGURE_TITLES = {
    "glx_timecourse": f"{RATIO_LABEL} time course by condition",
    "glx_individual": f"{RATIO_LABEL} of each participant",
    "madrs_timecourse": f"{PRIMARY_CLINICAL_OUTCOME} before and after, by condition",
    "secondary_scales": "Secondary rating scales by condition",
    "sex_glx": f"{RATIO_LABEL} time course by condition, males and females",
    "sex_madrs": f"{PRIMARY_CLINICAL_OUTCOME} change by condition, males and females",
    "qc_spectral_quality": "Spectral quality of every spectrum (linewidth, S/N, %SD)",
    "qc_ratio_by_participant": f"{RATIO_LABEL} of every spectrum with its QC decision",
    "site_forest": f"{RATIO_LABEL} condition effect per site (forest plot)",
    "participant_flow": "Participant flow diagram",
}


for name, inputs, param_names, category, subcategory in FIGURE_TABLE:

    rule:
        name:
            f"figure_{name}"
        input:
            **inputs,
        output:
            png=f"{RESULTS}/figures/{name}.png",
            svg=f"{RESULTS}/figures/{name}.svg",
            tsv=f"{RESULTS}/figures/{name}.tsv",
            page=report(
                f"{RESULTS}/report/figures/{name}.html",
                caption=f"../report/figures/{name}.rst",
                category=category,
                subcategory=subcategory,
                labels={"name": FIGURE_TITLES[name]},
            ),
        log:
            f"{RESULTS}/logs/figures/{name}.log",
        benchmark:
            f"{RESULTS}/benchmarks/figures/{name}.tsv"
        conda:
            "../envs/python.yaml"
        params:
            code=code_version(f"figure_{name}.py"),
            **{key: FIGURE_PARAMS[key] for key in param_names},
            synthetic=LABELS["synthetic"],
            dpi=config["figures"]["dpi"],
            max_side_px=config["figures"]["max_side_px"],
            script=f"figure_{name}.py",
        script:
            # filled in from params when the job runs: a reference to the loop's `name` here
            # would by then be the last figure's
            "../scripts/{params.script}"
