# Paper vs reproduced, and the record of the software that produced the results.


rule paper_comparison:
    input:
        published="resources/published_results.tsv",
        glx_lmm="results/stats/glx_lmm.tsv",
        glx_lmm_sensitivity="results/stats/glx_lmm_sensitivity.tsv",
        glx_sensitivity_models="results/stats/glx_sensitivity_models.tsv",
        clinical_lmm="results/stats/clinical_lmm.tsv",
        attenuation="results/stats/attenuation.tsv",
        sex_stratified="results/stats/sex_stratified.tsv",
        sex_interaction="results/stats/sex_interaction.tsv",
        code=package_code("paper_comparison.py"),
    output:
        table="results/paper_comparison.tsv",
        markdown="results/paper_comparison.md",
    log:
        "logs/compare/paper_comparison.log",
    benchmark:
        "benchmarks/compare/paper_comparison.tsv"
    conda:
        "../envs/python.yaml"
    params:
        synthetic=config["synthetic"],
        calibrated=calibrated_study(),
    script:
        "../scripts/paper_comparison.py"


rule run_record:
    input:
        code=package_code("run_record.py"),
    output:
        config=report(
            "results/run/config.yaml",
            caption="../report/run_config.rst",
            category="Run record",
        ),
        versions="results/run/software_versions.tsv",
    log:
        "logs/compare/run_record.log",
    benchmark:
        "benchmarks/compare/run_record.tsv"
    conda:
        "../envs/python.yaml"
    params:
        config=config,
        packages=[
            "snakemake",
            "pandas",
            "numpy",
            "scipy",
            "statsmodels",
            "pingouin",
            "matplotlib",
            "seaborn",
            "PyYAML",
            "jsonschema",
        ],
    script:
        "../scripts/run_record.py"
