# Reproduction of Jelen et al., Nat Med 2025 (NCT04977674): fMRS Glx/tNAA and rating scales in a
# naltrexone/placebo-before-ketamine crossover. This file only orchestrates; see rules/.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/simulate.smk"
include: "rules/ingest.smk"
include: "rules/qc.smk"
include: "rules/stats.smk"
include: "rules/compare.smk"
include: "rules/figures.smk"
include: "rules/report.smk"
include: "rules/power.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
