# Shared helpers: config validation, raw-file lookup, target lists.
from pathlib import Path

from snakemake.utils import validate


validate(config, schema="../schemas/config.schema.yaml")

DATA_DIR = Path(config["data_dir"])
CONDITIONS = config["study"]["conditions"]
SCALES = config["clinical"]["scales"]
SCALE_TIMEPOINTS = {scale: spec["timepoints"] for scale, spec in SCALES.items()}
RATIO_LABEL = "{numerator}/{denominator}".format(**config["mrs"]["ratio"])


def raw_mrs_files(wildcards):
    """Every fit table and block sidecar of the study, sorted, so a new or changed file reruns ingestion."""
    return sorted(str(path) for path in DATA_DIR.glob("sub-*/ses-*/mrs/*") if path.is_file())


def raw_clinical_sheets(wildcards):
    return [str(DATA_DIR / "clinical" / scale["sheet"]) for scale in SCALES.values()]


def final_outputs():
    """What `snakemake --cores 4` builds; the sex analyses and the paper comparison are switches."""
    stats = config["stats"]
    figures = [name for name in FIGURES if stats["sex_analyses"] or not name.startswith("sex_")]
    targets = [
        "results/tidy/participants.tsv",
        "results/tidy/mrs_long.tsv",
        "results/tidy/clinical_items.tsv",
        "results/tidy/clinical_scores.tsv",
        "results/qc/mrs_spectra.tsv",
        "results/qc/clinical_qc.tsv",
        "results/qc/participant_flow.tsv",
        "results/stats/glx_lmm.tsv",
        "results/stats/clinical_lmm.tsv",
        "results/stats/crossover_checks.tsv",
        "results/run/config.yaml",
        "results/run/software_versions.tsv",
        *expand("results/figures/{name}.{ext}", name=figures, ext=["png", "svg", "tsv"]),
    ]
    if stats["sex_analyses"]:
        targets.append("results/stats/sex_stratified.tsv")
    if stats["attenuation"]:
        targets.append("results/stats/attenuation.tsv")
    if stats["paper_comparison"]:
        targets.append("results/paper_comparison.tsv")
    return targets
