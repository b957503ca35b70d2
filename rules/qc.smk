# Quality control: flags with reasons, inclusion decisions the statistics use, participant flow.


rule qc_mrs_batch:
    input:
        study=STUDY,
        mrs=f"{RESULTS}/tidy/batches/mrs_long_{{batch}}.parquet",
    output:
        **with_sidecars(
            spectra=f"{RESULTS}/qc/batches/mrs_spectra_{{batch}}.parquet",
            flags=f"{RESULTS}/qc/batches/mrs_qc_flags_{{batch}}.parquet",
        ),
    log:
        f"{RESULTS}/logs/qc/qc_mrs_{{batch}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/qc/qc_mrs_{{batch}}.tsv"
    conda:
        "../envs/python.yaml"
    params:
        code=code_version("qc_mrs.py"),
        ratio=config["mrs"]["ratio"],
        baseline_blocks=config["mrs"]["baseline_blocks"],
        thresholds=config["qc"]["mrs"],
    script:
        "../scripts/qc_mrs.py"


rule qc_mrs:
    input:
        study=STUDY,
        spectra=expand(f"{RESULTS}/qc/batches/mrs_spectra_{{batch}}.parquet", batch=MRS_BATCHES),
        flags=expand(f"{RESULTS}/qc/batches/mrs_qc_flags_{{batch}}.parquet", batch=MRS_BATCHES),
    output:
        **with_sidecars(
            spectra=f"{RESULTS}/qc/mrs_spectra.tsv",
            flags=f"{RESULTS}/qc/mrs_qc_flags.tsv",
            columnar=f"{RESULTS}/qc/mrs_spectra.parquet",
        ),
    log:
        f"{RESULTS}/logs/qc/qc_mrs.log",
    benchmark:
        f"{RESULTS}/benchmarks/qc/qc_mrs.tsv"
    conda:
        "../envs/python.yaml"
    params:
        code=code_version("gather_qc_mrs.py"),
    script:
        "../scripts/gather_qc_mrs.py"


rule qc_clinical:
    input:
        study=STUDY,
        participants=f"{RESULTS}/tidy/participants.tsv",
        scores=f"{RESULTS}/tidy/clinical_scores.tsv",
    output:
        **with_sidecars(
            checks=f"{RESULTS}/qc/clinical_qc.tsv",
            missing_conditions=f"{RESULTS}/qc/clinical_missing_conditions.tsv",
        ),
    log:
        f"{RESULTS}/logs/qc/qc_clinical.log",
    benchmark:
        f"{RESULTS}/benchmarks/qc/qc_clinical.tsv"
    conda:
        "../envs/python.yaml"
    params:
        code=code_version("qc_clinical.py"),
        scales=SCALES,
        conditions=CONDITIONS,
        windows=config["qc"]["clinical"]["windows"],
    script:
        "../scripts/qc_clinical.py"
