# Report pages of the tables, generated from one table: each TSV becomes an HTML page that the
# report shows in place (the TSV itself stays a download on the page).

STATS = f"{RESULTS}/stats"
# name, table, title, caption (report/<caption>.rst), category, subcategory, built when
REPORT_TABLES = [
    (
        "paper_comparison",
        f"{RESULTS}/paper_comparison.tsv",
        "Paper vs reproduced: every published result",
        "paper_comparison",
        "Paper comparison",
        "Paper comparison",
        config["stats"]["paper_comparison"],
    ),
    (
        "baseline_characteristics",
        f"{STATS}/baseline_characteristics.tsv",
        "Baseline characteristics (Table 1)",
        "stats/baseline_characteristics",
        "Clinical",
        "Sample",
        True,
    ),
    (
        "participant_flow",
        f"{RESULTS}/stats/participant_flow.tsv",
        "Participant flow (counts per stage)",
        "participant_flow",
        "QC",
        "Participant flow",
        True,
    ),
    (
        "glx_lmm",
        f"{STATS}/glx_lmm.tsv",
        f"{RATIO_LABEL} mixed model (type III F tests)",
        "stats/glx_lmm",
        "fMRS",
        "Statistics",
        True,
    ),
    (
        "glx_lmm_sensitivity",
        f"{STATS}/glx_lmm_sensitivity.tsv",
        f"{RATIO_LABEL} mixed model with a session intercept (sensitivity; F tests)",
        "stats/glx_lmm_sensitivity",
        "fMRS",
        "Statistics",
        True,
    ),
    (
        "glx_sensitivity_models",
        f"{STATS}/glx_sensitivity_models.tsv",
        f"{RATIO_LABEL} sensitivity model: variance components and fit",
        "stats/models",
        "fMRS",
        "Statistics",
        True,
    ),
    (
        "glx_rm_anova",
        f"{STATS}/glx_rm_anova.tsv",
        f"{RATIO_LABEL} repeated-measures ANOVAs (complete cases)",
        "stats/glx_rm_anova",
        "fMRS",
        "Statistics",
        True,
    ),
    (
        "glx_models",
        f"{STATS}/glx_models.tsv",
        f"{RATIO_LABEL} mixed model: variance components and fit",
        "stats/models",
        "fMRS",
        "Statistics",
        True,
    ),
    (
        "clinical_lmm",
        f"{STATS}/clinical_lmm.tsv",
        "Rating scales: mixed models (type III F tests)",
        "stats/clinical_lmm",
        "Clinical",
        "Statistics",
        True,
    ),
    (
        "clinical_rm_anova",
        f"{STATS}/clinical_rm_anova.tsv",
        "Rating scales: repeated-measures ANOVAs (complete cases)",
        "stats/clinical_rm_anova",
        "Clinical",
        "Statistics",
        True,
    ),
    (
        "clinical_models",
        f"{STATS}/clinical_models.tsv",
        "Rating scales: mixed models, variance components and fit",
        "stats/models",
        "Clinical",
        "Statistics",
        True,
    ),
    (
        "attenuation",
        f"{STATS}/attenuation.tsv",
        "Attenuation of the day-1 improvement (bootstrap CI)",
        "stats/attenuation",
        "Clinical",
        "Statistics",
        bool(config["stats"]["attenuation"]),
    ),
    (
        "sex_stratified",
        f"{STATS}/sex_stratified.tsv",
        "Mixed models within each sex (F tests)",
        "stats/sex_stratified",
        "Sex differences",
        "Statistics",
        config["stats"]["sex_analyses"],
    ),
    (
        "sex_interaction",
        f"{STATS}/sex_interaction.tsv",
        "Mixed models with the sex interactions (F tests)",
        "stats/sex_interaction",
        "Sex differences",
        "Statistics",
        config["stats"]["sex_analyses"],
    ),
    (
        "sex_models",
        f"{STATS}/sex_models.tsv",
        "Sex models: variance components and fit",
        "stats/models",
        "Sex differences",
        "Statistics",
        config["stats"]["sex_analyses"],
    ),
    (
        "site_effects",
        f"{STATS}/site_effects.tsv",
        f"{RATIO_LABEL} condition effect per site, pooled and meta-analysed",
        "stats/site_effects",
        "Sites",
        "Statistics",
        MULTISITE,
    ),
    (
        "crossover_checks",
        f"{STATS}/crossover_checks.tsv",
        "Crossover checks: period and carry-over terms (F tests)",
        "stats/crossover_checks",
        "Crossover checks",
        "Statistics",
        True,
    ),
    (
        "crossover_models",
        f"{STATS}/crossover_models.tsv",
        "Crossover checks: variance components and fit",
        "stats/models",
        "Crossover checks",
        "Statistics",
        True,
    ),
    (
        "software_versions",
        f"{RESULTS}/run/software_versions.tsv",
        "Software versions of the run",
        "software_versions",
        "Run record",
        "Run record",
        True,
    ),
]
# Tables without an outcome column: the outcome whose unit their estimates carry.
TABLE_OUTCOME = {"site_effects": RATIO_LABEL}
TABLE_PAGES = [
    f"{RESULTS}/report/tables/{name}.html" for name, *_, built in REPORT_TABLES if built
]
CONFIG_PAGE = f"{RESULTS}/report/run/config.html"


for name, table, title, caption, category, subcategory, built in REPORT_TABLES:
    if not built:
        continue

    rule:
        name:
            f"report_table_{name}"
        input:
            table=table,
            # shown on the page too, so editing it rebuilds the page
            caption=f"report/{caption}.rst",
        output:
            page=report(
                f"{RESULTS}/report/tables/{name}.html",
                caption=f"../report/{caption}.rst",
                category=category,
                subcategory=subcategory,
                labels={"name": title},
            ),
        log:
            f"{RESULTS}/logs/report/{name}.log",
        benchmark:
            f"{RESULTS}/benchmarks/report/{name}.tsv"
        conda:
            "../envs/python.yaml"
        params:
            code=code_version("report_table.py"),
            title=title,
            labels=LABELS,
            ratio_label=RATIO_LABEL,
            outcome=TABLE_OUTCOME.get(name, ""),
        script:
            "../scripts/report_table.py"


rule report_run_config:
    input:
        config=f"{RESULTS}/run/config.yaml",
        caption="report/run_config.rst",
    output:
        page=report(
            CONFIG_PAGE,
            caption="../report/run_config.rst",
            category="Run record",
            subcategory="Run record",
            labels={"name": "Configuration of the run (config.yaml)"},
        ),
    log:
        f"{RESULTS}/logs/report/run_config.log",
    benchmark:
        f"{RESULTS}/benchmarks/report/run_config.tsv"
    conda:
        "../envs/python.yaml"
    params:
        code=code_version("report_config.py"),
        title="Configuration of the run (config.yaml)",
        labels=LABELS,
    script:
        "../scripts/report_config.py"
