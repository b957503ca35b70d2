# Figures: one rule per figure, each writing PNG + SVG (report items) and the plotted numbers as TSV.

FIGURES = [
    "glx_timecourse",
    "glx_individual",
    "madrs_timecourse",
    "secondary_scales",
    "sex_glx",
    "sex_madrs",
    "qc_spectral_quality",
    "qc_ratio_by_participant",
    "participant_flow",
]

INFUSION_WINDOW_MIN = config["figures"]["infusion_window_min"]
FIGURE_DPI = config["figures"]["dpi"]
PRIMARY_CLINICAL_OUTCOME = config["stats"]["primary_outcome"]


rule figure_glx_timecourse:
    input:
        spectra="results/qc/mrs_spectra.tsv",
        code=package_code("figure_glx_timecourse.py"),
    output:
        png=report(
            "results/figures/glx_timecourse.png",
            caption="../report/figures/glx_timecourse.rst",
            category="fMRS",
            subcategory="Glx/tNAA",
            labels={"figure": "time course by condition", "format": "PNG"},
        ),
        svg=report(
            "results/figures/glx_timecourse.svg",
            caption="../report/figures/glx_timecourse.rst",
            category="fMRS",
            subcategory="Glx/tNAA",
            labels={"figure": "time course by condition", "format": "SVG"},
        ),
        tsv="results/figures/glx_timecourse.tsv",
    log:
        "logs/figures/glx_timecourse.log",
    conda:
        "../envs/python.yaml"
    params:
        conditions=CONDITIONS,
        synthetic=config["synthetic"],
        infusion_window_min=INFUSION_WINDOW_MIN,
        dpi=FIGURE_DPI,
    script:
        "../scripts/figure_glx_timecourse.py"


rule figure_glx_individual:
    input:
        spectra="results/qc/mrs_spectra.tsv",
        code=package_code("figure_glx_individual.py"),
    output:
        png=report(
            "results/figures/glx_individual.png",
            caption="../report/figures/glx_individual.rst",
            category="fMRS",
            subcategory="Glx/tNAA",
            labels={"figure": "individual trajectories", "format": "PNG"},
        ),
        svg=report(
            "results/figures/glx_individual.svg",
            caption="../report/figures/glx_individual.rst",
            category="fMRS",
            subcategory="Glx/tNAA",
            labels={"figure": "individual trajectories", "format": "SVG"},
        ),
        tsv="results/figures/glx_individual.tsv",
    log:
        "logs/figures/glx_individual.log",
    conda:
        "../envs/python.yaml"
    params:
        conditions=CONDITIONS,
        synthetic=config["synthetic"],
        infusion_window_min=INFUSION_WINDOW_MIN,
        dpi=FIGURE_DPI,
    script:
        "../scripts/figure_glx_individual.py"


rule figure_madrs_timecourse:
    input:
        scores="results/tidy/clinical_scores.tsv",
        code=package_code("figure_madrs_timecourse.py"),
    output:
        png=report(
            "results/figures/madrs_timecourse.png",
            caption="../report/figures/madrs_timecourse.rst",
            category="Clinical",
            subcategory="MADRS",
            labels={"figure": "MADRS by condition", "format": "PNG"},
        ),
        svg=report(
            "results/figures/madrs_timecourse.svg",
            caption="../report/figures/madrs_timecourse.rst",
            category="Clinical",
            subcategory="MADRS",
            labels={"figure": "MADRS by condition", "format": "SVG"},
        ),
        tsv="results/figures/madrs_timecourse.tsv",
    log:
        "logs/figures/madrs_timecourse.log",
    conda:
        "../envs/python.yaml"
    params:
        conditions=CONDITIONS,
        scales=SCALES,
        outcome=PRIMARY_CLINICAL_OUTCOME,
        synthetic=config["synthetic"],
        dpi=FIGURE_DPI,
    script:
        "../scripts/figure_madrs_timecourse.py"


rule figure_secondary_scales:
    input:
        scores="results/tidy/clinical_scores.tsv",
        code=package_code("figure_secondary_scales.py"),
    output:
        png=report(
            "results/figures/secondary_scales.png",
            caption="../report/figures/secondary_scales.rst",
            category="Clinical",
            subcategory="Secondary scales",
            labels={"figure": "secondary outcomes", "format": "PNG"},
        ),
        svg=report(
            "results/figures/secondary_scales.svg",
            caption="../report/figures/secondary_scales.rst",
            category="Clinical",
            subcategory="Secondary scales",
            labels={"figure": "secondary outcomes", "format": "SVG"},
        ),
        tsv="results/figures/secondary_scales.tsv",
    log:
        "logs/figures/secondary_scales.log",
    conda:
        "../envs/python.yaml"
    params:
        conditions=CONDITIONS,
        scales=SCALES,
        primary=PRIMARY_CLINICAL_OUTCOME,
        synthetic=config["synthetic"],
        dpi=FIGURE_DPI,
    script:
        "../scripts/figure_secondary_scales.py"


rule figure_sex_glx:
    input:
        spectra="results/qc/mrs_spectra.tsv",
        participants="results/tidy/participants.tsv",
        code=package_code("figure_sex_glx.py"),
    output:
        png=report(
            "results/figures/sex_glx.png",
            caption="../report/figures/sex_glx.rst",
            category="Sex differences",
            subcategory="Glx/tNAA",
            labels={"figure": "Glx/tNAA by sex", "format": "PNG"},
        ),
        svg=report(
            "results/figures/sex_glx.svg",
            caption="../report/figures/sex_glx.rst",
            category="Sex differences",
            subcategory="Glx/tNAA",
            labels={"figure": "Glx/tNAA by sex", "format": "SVG"},
        ),
        tsv="results/figures/sex_glx.tsv",
    log:
        "logs/figures/sex_glx.log",
    conda:
        "../envs/python.yaml"
    params:
        conditions=CONDITIONS,
        synthetic=config["synthetic"],
        infusion_window_min=INFUSION_WINDOW_MIN,
        dpi=FIGURE_DPI,
    script:
        "../scripts/figure_sex_glx.py"


rule figure_sex_madrs:
    input:
        scores="results/tidy/clinical_scores.tsv",
        participants="results/tidy/participants.tsv",
        code=package_code("figure_sex_madrs.py"),
    output:
        png=report(
            "results/figures/sex_madrs.png",
            caption="../report/figures/sex_madrs.rst",
            category="Sex differences",
            subcategory="MADRS",
            labels={"figure": "MADRS change by sex", "format": "PNG"},
        ),
        svg=report(
            "results/figures/sex_madrs.svg",
            caption="../report/figures/sex_madrs.rst",
            category="Sex differences",
            subcategory="MADRS",
            labels={"figure": "MADRS change by sex", "format": "SVG"},
        ),
        tsv="results/figures/sex_madrs.tsv",
    log:
        "logs/figures/sex_madrs.log",
    conda:
        "../envs/python.yaml"
    params:
        conditions=CONDITIONS,
        scales=SCALES,
        outcome=PRIMARY_CLINICAL_OUTCOME,
        synthetic=config["synthetic"],
        dpi=FIGURE_DPI,
    script:
        "../scripts/figure_sex_madrs.py"


rule figure_qc_spectral_quality:
    input:
        spectra="results/qc/mrs_spectra.tsv",
        code=package_code("figure_qc_spectral_quality.py"),
    output:
        png=report(
            "results/figures/qc_spectral_quality.png",
            caption="../report/figures/qc_spectral_quality.rst",
            category="QC",
            subcategory="fMRS",
            labels={"figure": "spectral quality", "format": "PNG"},
        ),
        svg=report(
            "results/figures/qc_spectral_quality.svg",
            caption="../report/figures/qc_spectral_quality.rst",
            category="QC",
            subcategory="fMRS",
            labels={"figure": "spectral quality", "format": "SVG"},
        ),
        tsv="results/figures/qc_spectral_quality.tsv",
    log:
        "logs/figures/qc_spectral_quality.log",
    conda:
        "../envs/python.yaml"
    params:
        conditions=CONDITIONS,
        thresholds=config["qc"]["mrs"],
        synthetic=config["synthetic"],
        dpi=FIGURE_DPI,
    script:
        "../scripts/figure_qc_spectral_quality.py"


rule figure_qc_ratio_by_participant:
    input:
        spectra="results/qc/mrs_spectra.tsv",
        code=package_code("figure_qc_ratio_by_participant.py"),
    output:
        png=report(
            "results/figures/qc_ratio_by_participant.png",
            caption="../report/figures/qc_ratio_by_participant.rst",
            category="QC",
            subcategory="fMRS",
            labels={"figure": "ratio of every spectrum", "format": "PNG"},
        ),
        svg=report(
            "results/figures/qc_ratio_by_participant.svg",
            caption="../report/figures/qc_ratio_by_participant.rst",
            category="QC",
            subcategory="fMRS",
            labels={"figure": "ratio of every spectrum", "format": "SVG"},
        ),
        tsv="results/figures/qc_ratio_by_participant.tsv",
    log:
        "logs/figures/qc_ratio_by_participant.log",
    conda:
        "../envs/python.yaml"
    params:
        conditions=CONDITIONS,
        synthetic=config["synthetic"],
        dpi=FIGURE_DPI,
    script:
        "../scripts/figure_qc_ratio_by_participant.py"


rule figure_participant_flow:
    input:
        flow="results/qc/participant_flow.tsv",
        code=package_code("figure_participant_flow.py"),
    output:
        png=report(
            "results/figures/participant_flow.png",
            caption="../report/figures/participant_flow.rst",
            category="QC",
            subcategory="Participant flow",
            labels={"figure": "participant flow", "format": "PNG"},
        ),
        svg=report(
            "results/figures/participant_flow.svg",
            caption="../report/figures/participant_flow.rst",
            category="QC",
            subcategory="Participant flow",
            labels={"figure": "participant flow", "format": "SVG"},
        ),
        tsv="results/figures/participant_flow.tsv",
    log:
        "logs/figures/participant_flow.log",
    conda:
        "../envs/python.yaml"
    params:
        conditions=CONDITIONS,
        synthetic=config["synthetic"],
        dpi=FIGURE_DPI,
    script:
        "../scripts/figure_participant_flow.py"
