# Paper vs reproduced, the record of the study a results folder holds, and the record of the
# configuration and software that produced the results.


rule paper_comparison:
    input:
        study=STUDY,
        published="resources/published_results.tsv",
        glx_lmm=f"{RESULTS}/stats/glx_lmm.tsv",
        glx_lmm_sensitivity=f"{RESULTS}/stats/glx_lmm_sensitivity.tsv",
        glx_sensitivity_models=f"{RESULTS}/stats/glx_sensitivity_models.tsv",
        clinical_lmm=f"{RESULTS}/stats/clinical_lmm.tsv",
        attenuation=f"{RESULTS}/stats/attenuation.tsv",
        sex_stratified=f"{RESULTS}/stats/sex_stratified.tsv",
        sex_interaction=f"{RESULTS}/stats/sex_interaction.tsv",
        # the power to detect the sex interaction, if `snakemake power` has been run
        power=lambda wildcards: existing(f"{RESULTS}/power/power.tsv"),
    output:
        **with_sidecars(
            table=f"{RESULTS}/paper_comparison.tsv",
            markdown=f"{RESULTS}/paper_comparison.md",
        ),
    log:
        f"{RESULTS}/logs/compare/paper_comparison.log",
    benchmark:
        f"{RESULTS}/benchmarks/compare/paper_comparison.tsv"
    conda:
        "../envs/python.yaml"
    params:
        code=code_version("paper_comparison.py"),
        labels=LABELS,
    script:
        "../scripts/paper_comparison.py"


rule run_record:
    output:
        # shown in the report as a page (rule report_run_config)
        config=f"{RESULTS}/run/config.yaml",
        versions=f"{RESULTS}/run/software_versions.tsv",
    log:
        f"{RESULTS}/logs/compare/run_record.log",
    benchmark:
        f"{RESULTS}/benchmarks/compare/run_record.tsv"
    conda:
        "../envs/python.yaml"
    params:
        code=code_version("run_record.py"),
        config=USER_CONFIG,
    script:
        "../scripts/run_record.py"
