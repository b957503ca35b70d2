# The simulator that wrote the embedded synthetic dataset. Not part of the default target:
# `snakemake --cores 1 -f simulate_study` rewrites simulation.output_dir byte for byte; the
# command line `python -m crossover_fmrs.simulate` runs the same code (simulate/study.py).
# A configuration without a `simulation:` section (a real study) has no simulator rule.


if "simulation" in config:

    rule simulate_study:
        output:
            study=directory(config["simulation"]["output_dir"]),
        log:
            f"{RESULTS}/logs/simulate/simulate_study.log",
        benchmark:
            f"{RESULTS}/benchmarks/simulate/simulate_study.tsv"
        conda:
            "../envs/python.yaml"
        params:
            code=code_version("simulate_study.py"),
            settings=config["simulation"],
            conditions=CONDITIONS,
            scales=SCALES,
            reference=config["study"]["reference_condition"],
            qc_thresholds=config["qc"]["mrs"],
            stats=config["stats"],  # the models the simulator fits to its effects: the analysis's own
            site_column=config["study"]["site_column"],
        script:
            "../scripts/simulate_study.py"
