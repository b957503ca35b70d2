# The paper's statistics: mixed models (Satterthwaite F), rm-ANOVA (GG), sex, attenuation, crossover.


rule stats_glx:
    input:
        study=STUDY,
        participants=f"{RESULTS}/tidy/participants.tsv",
        spectra=f"{RESULTS}/qc/mrs_spectra.parquet",
    output:
        **with_sidecars(
            lmm=f"{RESULTS}/stats/glx_lmm.tsv",
            rm_anova=f"{RESULTS}/stats/glx_rm_anova.tsv",
            models=f"{RESULTS}/stats/glx_models.tsv",
        ),
    log:
        f"{RESULTS}/logs/stats/stats_glx.log",
    benchmark:
        f"{RESULTS}/benchmarks/stats/stats_glx.tsv"
    conda:
        "../envs/python.yaml"
    params:
        code=code_version("stats_glx.py"),
        analysis="glx_lmm",
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
        study=STUDY,
        participants=f"{RESULTS}/tidy/participants.tsv",
        spectra=f"{RESULTS}/qc/mrs_spectra.parquet",
    output:
        **with_sidecars(
            lmm=f"{RESULTS}/stats/glx_lmm_sensitivity.tsv",
            models=f"{RESULTS}/stats/glx_sensitivity_models.tsv",
        ),
    log:
        f"{RESULTS}/logs/stats/stats_glx_sensitivity.log",
    benchmark:
        f"{RESULTS}/benchmarks/stats/stats_glx_sensitivity.tsv"
    conda:
        "../envs/python.yaml"
    params:
        code=code_version("stats_glx.py"),
        analysis="glx_lmm_sensitivity",
        ddf=config["stats"]["ddf"],
        site_term=config["stats"]["site_term"],
        formula=config["stats"]["glx_session_formula"],
        conditions=CONDITIONS,
        reference=config["study"]["reference_condition"],
        outcome=RATIO_LABEL,
    script:
        "../scripts/stats_glx.py"


rule stats_clinical:
    input:
        study=STUDY,
        participants=f"{RESULTS}/tidy/participants.tsv",
        scores=f"{RESULTS}/tidy/clinical_scores.tsv",
    output:
        **with_sidecars(
            lmm=f"{RESULTS}/stats/clinical_lmm.tsv",
            rm_anova=f"{RESULTS}/stats/clinical_rm_anova.tsv",
            models=f"{RESULTS}/stats/clinical_models.tsv",
            imputed=f"{RESULTS}/stats/imputed_values.tsv",
        ),
    log:
        f"{RESULTS}/logs/stats/stats_clinical.log",
    benchmark:
        f"{RESULTS}/benchmarks/stats/stats_clinical.tsv"
    conda:
        "../envs/python.yaml"
    params:
        code=code_version("stats_clinical.py"),
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
        study=STUDY,
        participants=f"{RESULTS}/tidy/participants.tsv",
        spectra=f"{RESULTS}/qc/mrs_spectra.parquet",
        scores=f"{RESULTS}/tidy/clinical_scores.tsv",
    output:
        **with_sidecars(
            stratified=f"{RESULTS}/stats/sex_stratified.tsv",
            interaction=f"{RESULTS}/stats/sex_interaction.tsv",
            models=f"{RESULTS}/stats/sex_models.tsv",
        ),
    log:
        f"{RESULTS}/logs/stats/stats_sex.log",
    benchmark:
        f"{RESULTS}/benchmarks/stats/stats_sex.tsv"
    conda:
        "../envs/python.yaml"
    params:
        code=code_version("stats_sex.py"),
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
        study=STUDY,
        participants=f"{RESULTS}/tidy/participants.tsv",
        scores=f"{RESULTS}/tidy/clinical_scores.tsv",
    output:
        **with_sidecars(
            attenuation=f"{RESULTS}/stats/attenuation.tsv",
        ),
    log:
        f"{RESULTS}/logs/stats/stats_attenuation.log",
    benchmark:
        f"{RESULTS}/benchmarks/stats/stats_attenuation.tsv"
    conda:
        "../envs/python.yaml"
    params:
        code=code_version("stats_attenuation.py"),
        attenuation=config["stats"]["attenuation"],
        timepoints=SCALE_TIMEPOINTS,
        conditions=CONDITIONS,
        reference=config["study"]["reference_condition"],
    script:
        "../scripts/stats_attenuation.py"


rule stats_crossover:
    input:
        study=STUDY,
        participants=f"{RESULTS}/tidy/participants.tsv",
        spectra=f"{RESULTS}/qc/mrs_spectra.parquet",
        scores=f"{RESULTS}/tidy/clinical_scores.tsv",
    output:
        **with_sidecars(
            checks=f"{RESULTS}/stats/crossover_checks.tsv",
            models=f"{RESULTS}/stats/crossover_models.tsv",
        ),
    log:
        f"{RESULTS}/logs/stats/stats_crossover.log",
    benchmark:
        f"{RESULTS}/benchmarks/stats/stats_crossover.tsv"
    conda:
        "../envs/python.yaml"
    params:
        code=code_version("stats_crossover.py"),
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
        study=STUDY,
        participants=f"{RESULTS}/tidy/participants.tsv",
        scores=f"{RESULTS}/tidy/clinical_scores.tsv",
    output:
        **with_sidecars(
            table=f"{RESULTS}/stats/baseline_characteristics.tsv",
        ),
    log:
        f"{RESULTS}/logs/stats/baseline_characteristics.log",
    benchmark:
        f"{RESULTS}/benchmarks/stats/baseline_characteristics.tsv"
    conda:
        "../envs/python.yaml"
    params:
        code=code_version("baseline_characteristics.py"),
        primary_outcome=config["stats"]["primary_outcome"],
        before=SCALE_TIMEPOINTS[config["stats"]["primary_outcome"]][0],
    script:
        "../scripts/baseline_characteristics.py"


rule stats_sites:
    input:
        study=STUDY,
        participants=f"{RESULTS}/tidy/participants.tsv",
        spectra=f"{RESULTS}/qc/mrs_spectra.parquet",
    output:
        **with_sidecars(
            effects=f"{RESULTS}/stats/site_effects.tsv",
        ),
    log:
        f"{RESULTS}/logs/stats/stats_sites.log",
    benchmark:
        f"{RESULTS}/benchmarks/stats/stats_sites.tsv"
    conda:
        "../envs/python.yaml"
    params:
        code=code_version("stats_sites.py"),
        ddf=config["stats"]["ddf"],
        formula=config["stats"]["glx_formula"],
        site_term=config["stats"]["site_term"],
        conditions=CONDITIONS,
        reference=config["study"]["reference_condition"],
    script:
        "../scripts/stats_sites.py"


# The participant flow counts who entered each analysis: a stats rule, reading the stats it counts.
rule participant_flow:
    input:
        study=STUDY,
        participants=f"{RESULTS}/tidy/participants.tsv",
        spectra=f"{RESULTS}/qc/mrs_spectra.parquet",
        flags=f"{RESULTS}/qc/mrs_qc_flags.tsv",
        scores=f"{RESULTS}/tidy/clinical_scores.tsv",
        glx_rm_anova=f"{RESULTS}/stats/glx_rm_anova.tsv",
        clinical_rm_anova=f"{RESULTS}/stats/clinical_rm_anova.tsv",
    output:
        **with_sidecars(
            flow=f"{RESULTS}/stats/participant_flow.tsv",
        ),
    log:
        f"{RESULTS}/logs/stats/participant_flow.log",
    benchmark:
        f"{RESULTS}/benchmarks/stats/participant_flow.tsv"
    conda:
        "../envs/python.yaml"
    params:
        code=code_version("participant_flow.py"),
        conditions=CONDITIONS,
        primary_outcome=config["stats"]["primary_outcome"],
        ratio_label=RATIO_LABEL,
    script:
        "../scripts/participant_flow.py"
