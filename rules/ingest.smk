# Raw files in, tidy tables out.


rule ingest_participants:
    input:
        study=STUDY,
        participants=DATA_DIR / "participants.tsv",
        dictionary=participants_dictionary,
        code=package_code("ingest_participants.py"),
    output:
        **with_sidecars(
            participants=f"{RESULTS}/tidy/participants.tsv",
            columns=f"{RESULTS}/qc/participant_columns.tsv",
        ),
    log:
        f"{RESULTS}/logs/ingest/ingest_participants.log",
    benchmark:
        f"{RESULTS}/benchmarks/ingest/ingest_participants.tsv"
    conda:
        "../envs/python.yaml"
    params:
        conditions=CONDITIONS,
        site_column=config["study"]["site_column"],
    script:
        "../scripts/ingest_participants.py"


rule ingest_mrs_batch:
    input:
        study=STUDY,
        participants=DATA_DIR / "participants.tsv",
        dictionary=participants_dictionary,
        raw=raw_mrs_batch_files,
        code=package_code("ingest_mrs.py"),
    output:
        **with_sidecars(
            mrs=f"{RESULTS}/tidy/batches/mrs_long_{{batch}}.parquet",
        ),
    log:
        f"{RESULTS}/logs/ingest/ingest_mrs_{{batch}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/ingest/ingest_mrs_{{batch}}.tsv"
    conda:
        "../envs/python.yaml"
    params:
        data_dir=lambda wildcards, input: Path(input.participants).parent,
        conditions=CONDITIONS,
        format=config["mrs"]["format"],
        larmor_mhz=config["mrs"]["larmor_mhz"],
        options={
            key: config["mrs"][key]
            for key in ("osprey_subspectrum", "dynmrs_time", "dynmrs_aggregate")
        },
        batch=lambda wildcards: MRS_BATCHES[wildcards.batch] if BATCHED else None,
    script:
        "../scripts/ingest_mrs.py"


rule ingest_mrs:
    input:
        study=STUDY,
        participants=DATA_DIR / "participants.tsv",
        batches=expand(f"{RESULTS}/tidy/batches/mrs_long_{{batch}}.parquet", batch=MRS_BATCHES),
        code=package_code("gather_mrs.py"),
    output:
        **with_sidecars(
            tsv=f"{RESULTS}/tidy/mrs_long.tsv",
        ),
    log:
        f"{RESULTS}/logs/ingest/ingest_mrs.log",
    benchmark:
        f"{RESULTS}/benchmarks/ingest/ingest_mrs.tsv"
    conda:
        "../envs/python.yaml"
    params:
        data_dir=lambda wildcards, input: Path(input.participants).parent,
        conditions=CONDITIONS,
        format=config["mrs"]["format"],
        check_folders=BATCHED,
    script:
        "../scripts/gather_mrs.py"


rule ingest_clinical:
    input:
        study=STUDY,
        participants=DATA_DIR / "participants.tsv",
        dictionary=participants_dictionary,
        sheets=raw_clinical_sheets,
        code=package_code("ingest_clinical.py"),
    output:
        **with_sidecars(
            item_scores=f"{RESULTS}/tidy/clinical_items.tsv",
            scores=f"{RESULTS}/tidy/clinical_scores.tsv",
        ),
    log:
        f"{RESULTS}/logs/ingest/ingest_clinical.log",
    benchmark:
        f"{RESULTS}/benchmarks/ingest/ingest_clinical.tsv"
    conda:
        "../envs/python.yaml"
    params:
        clinical_dir=lambda wildcards, input: Path(input.participants).parent
        / "clinical",
        scales=SCALES,
        conditions=CONDITIONS,
        madrs_max_missing_items=config["clinical"]["madrs_max_missing_items"],
    script:
        "../scripts/ingest_clinical.py"
