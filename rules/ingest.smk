# Raw files in, tidy tables out.


# The study's record (data folder, raw inputs' hash, labels): the first thing a run writes.
rule study_record:
    output:
        record=STUDY,
        listing=f"{RESULTS}/study_listing.sha256",
    log:
        f"{RESULTS}/logs/ingest/study_record.log",
    benchmark:
        f"{RESULTS}/benchmarks/ingest/study_record.tsv"
    conda:
        "../envs/python.yaml"
    params:
        code=code_version("study_record.py"),
        data_dir=config["data_dir"],
        labels=LABELS,
        # changes when a raw file is added, removed or rewritten: the record is then made anew
        listing_sha256=RAW_LISTING,
        # which files are raw inputs (layout.study_inputs, as above)
        mrs_format=config["mrs"]["format"],
        osprey_subspectrum=config["mrs"]["osprey_subspectrum"],
        sheets=[scale["sheet"] for scale in config["clinical"]["scales"]],
    script:
        "../scripts/study_record.py"


rule ingest_participants:
    input:
        study=STUDY,
        participants=DATA_DIR / "participants.tsv",
        dictionary=participants_dictionary,
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
        code=code_version("ingest_participants.py"),
        conditions=CONDITIONS,
        site_column=config["study"]["site_column"],
    script:
        "../scripts/ingest_participants.py"


rule ingest_mrs_batch:
    input:
        study=STUDY,
        participants=DATA_DIR / "participants.tsv",
        dictionary=participants_dictionary,
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
        code=code_version("ingest_mrs.py"),
        raw_files=raw_mrs_batch_fingerprint,
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
        code=code_version("gather_mrs.py"),
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
        code=code_version("ingest_clinical.py"),
        clinical_dir=lambda wildcards, input: Path(input.participants).parent
        / "clinical",
        scales=SCALES,
        conditions=CONDITIONS,
        madrs_max_missing_items=config["clinical"]["madrs_max_missing_items"],
    script:
        "../scripts/ingest_clinical.py"
