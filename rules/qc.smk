# Quality control: flags with reasons, inclusion decisions the statistics use, participant flow.


rule qc_mrs_batch:
    input:
        mrs="results/tidy/batches/mrs_long_{batch}.parquet",
        code=package_code("qc_mrs.py"),
    output:
        spectra="results/qc/batches/mrs_spectra_{batch}.parquet",
        flags="results/qc/batches/mrs_qc_flags_{batch}.parquet",
    log:
        "logs/qc/qc_mrs_{batch}.log",
    benchmark:
        "benchmarks/qc/qc_mrs_{batch}.tsv"
    conda:
        "../envs/python.yaml"
    params:
        ratio=config["mrs"]["ratio"],
        baseline_blocks=config["mrs"]["baseline_blocks"],
        thresholds=config["qc"]["mrs"],
    script:
        "../scripts/qc_mrs.py"


rule qc_mrs:
    input:
        spectra=expand("results/qc/batches/mrs_spectra_{batch}.parquet", batch=MRS_BATCHES),
        flags=expand("results/qc/batches/mrs_qc_flags_{batch}.parquet", batch=MRS_BATCHES),
        code=package_code("gather_qc_mrs.py"),
    output:
        spectra="results/qc/mrs_spectra.tsv",
        flags="results/qc/mrs_qc_flags.tsv",
        columnar="results/qc/mrs_spectra.parquet",
    log:
        "logs/qc/qc_mrs.log",
    benchmark:
        "benchmarks/qc/qc_mrs.tsv"
    conda:
        "../envs/python.yaml"
    script:
        "../scripts/gather_qc_mrs.py"


rule qc_clinical:
    input:
        participants="results/tidy/participants.tsv",
        scores="results/tidy/clinical_scores.tsv",
        code=package_code("qc_clinical.py"),
    output:
        checks="results/qc/clinical_qc.tsv",
        missing_conditions="results/qc/clinical_missing_conditions.tsv",
    log:
        "logs/qc/qc_clinical.log",
    benchmark:
        "benchmarks/qc/qc_clinical.tsv"
    conda:
        "../envs/python.yaml"
    params:
        scales=SCALES,
        conditions=CONDITIONS,
        windows=config["qc"]["clinical"]["windows"],
    script:
        "../scripts/qc_clinical.py"


rule participant_flow:
    input:
        participants="results/tidy/participants.tsv",
        spectra="results/qc/mrs_spectra.parquet",
        scores="results/tidy/clinical_scores.tsv",
        glx_rm_anova="results/stats/glx_rm_anova.tsv",
        clinical_rm_anova="results/stats/clinical_rm_anova.tsv",
        code=package_code("participant_flow.py"),
    output:
        flow="results/qc/participant_flow.tsv",
    log:
        "logs/qc/participant_flow.log",
    benchmark:
        "benchmarks/qc/participant_flow.tsv"
    conda:
        "../envs/python.yaml"
    params:
        conditions=CONDITIONS,
        primary_outcome=config["stats"]["primary_outcome"],
        ratio_label=RATIO_LABEL,
    script:
        "../scripts/participant_flow.py"
