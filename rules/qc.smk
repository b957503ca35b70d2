# Quality control: flags with reasons, inclusion decisions the statistics use, participant flow.


rule qc_mrs:
    input:
        mrs="results/tidy/mrs_long.tsv",
        code=package_code("qc_mrs.py"),
    output:
        spectra="results/qc/mrs_spectra.tsv",
        flags="results/qc/mrs_qc_flags.tsv",
    log:
        "logs/qc/qc_mrs.log",
    conda:
        "../envs/python.yaml"
    params:
        ratio=config["mrs"]["ratio"],
        baseline_blocks=config["mrs"]["baseline_blocks"],
        thresholds=config["qc"]["mrs"],
    script:
        "../scripts/qc_mrs.py"


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
        spectra="results/qc/mrs_spectra.tsv",
        scores="results/tidy/clinical_scores.tsv",
        glx_rm_anova="results/stats/glx_rm_anova.tsv",
        clinical_rm_anova="results/stats/clinical_rm_anova.tsv",
        code=package_code("participant_flow.py"),
    output:
        flow="results/qc/participant_flow.tsv",
    log:
        "logs/qc/participant_flow.log",
    conda:
        "../envs/python.yaml"
    params:
        conditions=CONDITIONS,
        primary_outcome=config["stats"]["primary_outcome"],
        ratio_label=RATIO_LABEL,
    script:
        "../scripts/participant_flow.py"
