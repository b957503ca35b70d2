# The paper's statistics: mixed models (Satterthwaite F), rm-ANOVA (GG), sex, attenuation, crossover.


rule stats_glx:
    input:
        participants="results/tidy/participants.tsv",
        spectra="results/qc/mrs_spectra.parquet",
        code=package_code("stats_glx.py"),
    output:
        lmm="results/stats/glx_lmm.tsv",
        rm_anova="results/stats/glx_rm_anova.tsv",
        models="results/stats/glx_models.tsv",
    log:
        "logs/stats/stats_glx.log",
    benchmark:
        "benchmarks/stats/stats_glx.tsv"
    conda:
        "../envs/python.yaml"
    params:
        ddf=config["stats"]["ddf"],
        site_term=config["stats"]["site_term"],
        formula=config["stats"]["glx_formula"],
        conditions=CONDITIONS,
        reference=config["study"]["reference_condition"],
        outcome=RATIO_LABEL,
    script:
        "../scripts/stats_glx.py"


rule stats_glx_sensitivity:
    input:
        participants="results/tidy/participants.tsv",
        spectra="results/qc/mrs_spectra.parquet",
        code=package_code("stats_glx_sensitivity.py"),
    output:
        lmm="results/stats/glx_lmm_sensitivity.tsv",
        models="results/stats/glx_sensitivity_models.tsv",
    log:
        "logs/stats/stats_glx_sensitivity.log",
    benchmark:
        "benchmarks/stats/stats_glx_sensitivity.tsv"
    conda:
        "../envs/python.yaml"
    params:
        ddf=config["stats"]["ddf"],
        site_term=config["stats"]["site_term"],
        formula=config["stats"]["glx_session_formula"],
        conditions=CONDITIONS,
        reference=config["study"]["reference_condition"],
        outcome=RATIO_LABEL,
    script:
        "../scripts/stats_glx_sensitivity.py"


rule stats_clinical:
    input:
        participants="results/tidy/participants.tsv",
        scores="results/tidy/clinical_scores.tsv",
        code=package_code("stats_clinical.py"),
    output:
        lmm="results/stats/clinical_lmm.tsv",
        rm_anova="results/stats/clinical_rm_anova.tsv",
        models="results/stats/clinical_models.tsv",
        imputed="results/stats/imputed_values.tsv",
    log:
        "logs/stats/stats_clinical.log",
    benchmark:
        "benchmarks/stats/stats_clinical.tsv"
    conda:
        "../envs/python.yaml"
    params:
        ddf=config["stats"]["ddf"],
        site_term=config["stats"]["site_term"],
        formula=config["stats"]["clinical_formula"],
        conditions=CONDITIONS,
        reference=config["study"]["reference_condition"],
        scales=SCALES,
        imputation=config["stats"]["impute_missing"],
    script:
        "../scripts/stats_clinical.py"


rule stats_sex:
    input:
        participants="results/tidy/participants.tsv",
        spectra="results/qc/mrs_spectra.parquet",
        scores="results/tidy/clinical_scores.tsv",
        code=package_code("stats_sex.py"),
    output:
        stratified="results/stats/sex_stratified.tsv",
        interaction="results/stats/sex_interaction.tsv",
        models="results/stats/sex_models.tsv",
    log:
        "logs/stats/stats_sex.log",
    benchmark:
        "benchmarks/stats/stats_sex.tsv"
    conda:
        "../envs/python.yaml"
    params:
        ddf=config["stats"]["ddf"],
        site_term=config["stats"]["site_term"],
        glx_formula=config["stats"]["glx_formula"],
        clinical_formula=config["stats"]["clinical_formula"],
        glx_sex_formula=config["stats"]["glx_sex_formula"],
        clinical_sex_formula=config["stats"]["clinical_sex_formula"],
        primary_outcome=config["stats"]["primary_outcome"],
        timepoints=SCALE_TIMEPOINTS,
        conditions=CONDITIONS,
        reference=config["study"]["reference_condition"],
        outcome=RATIO_LABEL,
    script:
        "../scripts/stats_sex.py"


rule stats_attenuation:
    input:
        participants="results/tidy/participants.tsv",
        scores="results/tidy/clinical_scores.tsv",
        code=package_code("stats_attenuation.py"),
    output:
        attenuation="results/stats/attenuation.tsv",
    log:
        "logs/stats/stats_attenuation.log",
    benchmark:
        "benchmarks/stats/stats_attenuation.tsv"
    conda:
        "../envs/python.yaml"
    params:
        attenuation=config["stats"]["attenuation"],
        timepoints=SCALE_TIMEPOINTS,
        conditions=CONDITIONS,
        reference=config["study"]["reference_condition"],
    script:
        "../scripts/stats_attenuation.py"


rule stats_crossover:
    input:
        participants="results/tidy/participants.tsv",
        spectra="results/qc/mrs_spectra.parquet",
        scores="results/tidy/clinical_scores.tsv",
        code=package_code("stats_crossover.py"),
    output:
        checks="results/stats/crossover_checks.tsv",
        models="results/stats/crossover_models.tsv",
    log:
        "logs/stats/stats_crossover.log",
    benchmark:
        "benchmarks/stats/stats_crossover.tsv"
    conda:
        "../envs/python.yaml"
    params:
        ddf=config["stats"]["ddf"],
        site_term=config["stats"]["site_term"],
        glx_formula=config["stats"]["glx_crossover_formula"],
        clinical_formula=config["stats"]["clinical_crossover_formula"],
        primary_outcome=config["stats"]["primary_outcome"],
        timepoints=SCALE_TIMEPOINTS,
        conditions=CONDITIONS,
        reference=config["study"]["reference_condition"],
        outcome=RATIO_LABEL,
    script:
        "../scripts/stats_crossover.py"


rule baseline_characteristics:
    input:
        participants="results/tidy/participants.tsv",
        scores="results/tidy/clinical_scores.tsv",
        code=package_code("baseline_characteristics.py"),
    output:
        table="results/stats/baseline_characteristics.tsv",
    log:
        "logs/stats/baseline_characteristics.log",
    benchmark:
        "benchmarks/stats/baseline_characteristics.tsv"
    conda:
        "../envs/python.yaml"
    params:
        primary_outcome=config["stats"]["primary_outcome"],
        before=SCALE_TIMEPOINTS[config["stats"]["primary_outcome"]][0],
    script:
        "../scripts/baseline_characteristics.py"


rule stats_sites:
    input:
        participants="results/tidy/participants.tsv",
        spectra="results/qc/mrs_spectra.parquet",
        code=package_code("stats_sites.py"),
    output:
        effects="results/stats/site_effects.tsv",
    log:
        "logs/stats/stats_sites.log",
    benchmark:
        "benchmarks/stats/stats_sites.tsv"
    conda:
        "../envs/python.yaml"
    params:
        ddf=config["stats"]["ddf"],
        formula=config["stats"]["glx_formula"],
        site_term=config["stats"]["site_term"],
        conditions=CONDITIONS,
        reference=config["study"]["reference_condition"],
    script:
        "../scripts/stats_sites.py"
