# Paper vs reproduced, and the record of the software that produced the results.


rule paper_comparison:
    input:
        published="resources/published_results.tsv",
        glx_lmm="results/stats/glx_lmm.tsv",
        clinical_lmm="results/stats/clinical_lmm.tsv",
        madrs_attenuation="results/stats/madrs_attenuation.tsv",
        sex_stratified="results/stats/sex_stratified.tsv",
    output:
        table=report(
            "results/paper_comparison.tsv",
            caption="../report/paper_comparison.rst",
            category="Paper comparison",
        ),
        markdown="results/paper_comparison.md",
    params:
        synthetic=config["synthetic"],
    log:
        "logs/compare/paper_comparison.log",
    conda:
        "../envs/python.yaml"
    script:
        "../scripts/paper_comparison.py"
