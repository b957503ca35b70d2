# Simulation-based power of the study's tests (outside the default target: `snakemake --cores 4 power`).
# Scatter-gather: each grid cell (n participants x effect) runs in chunks of replicates; a
# replicate's random numbers depend only on what it is, so neither the chunking nor the cores or
# nodes change the results, and a killed run resumes with the chunks not yet written.

if "power" in config and "simulation" in config:

    POWER = config["power"]
    POWER_CHUNKS = [
        (n, effect_name(effect), effect_name(session_sd), chunk)
        for n, effect, session_sd in power_cells()
        for chunk in range(math.ceil(POWER["replicates"] / POWER["chunk_size"]))
    ]
    CHUNK = "n{n}_effect{effect}_session{session_sd}_chunk{chunk}"

    wildcard_constraints:
        n=r"\d+",
        effect=EFFECT_NAME_PATTERN,
        session_sd=EFFECT_NAME_PATTERN,
        chunk=r"\d+",

    rule power_chunk:
        output:
            replicates=f"{RESULTS}/power/chunks/{CHUNK}.tsv",
        log:
            f"{RESULTS}/logs/power/{CHUNK}.log",
        benchmark:
            f"{RESULTS}/benchmarks/power/{CHUNK}.tsv"
        conda:
            "../envs/python.yaml"
        threads: 1
        resources:
            mem_mb=600,
            runtime=30,
        params:
            code=code_version("power_chunk.py"),
            simulation=config["simulation"],
            conditions=CONDITIONS,
            reference=config["study"]["reference_condition"],
            formulas={
                "glx": config["stats"]["glx_formula"],
                "clinical": config["stats"]["clinical_formula"],
                "glx_sex": config["stats"]["glx_sex_formula"],
                "glx_session": config["stats"]["glx_session_formula"],
            },
            design={
                key: POWER[key]
                for key in ("male_fraction", "qc_failure_rate", "missing_visit_rate")
            },
            seed=POWER["seed"],
            replicates=POWER["replicates"],
            chunk_size=POWER["chunk_size"],
            cell=lambda wildcards: {
                "n_participants": int(wildcards.n),
                "effect": float(wildcards.effect),
                "session_sd": float(wildcards.session_sd),
                "chunk": int(wildcards.chunk),
            },
        script:
            "../scripts/power_chunk.py"

    rule power_table:
        input:
            chunks=[
                f"{RESULTS}/power/chunks/n{n}_effect{effect}_session{session_sd}_chunk{chunk}.tsv"
                for n, effect, session_sd, chunk in POWER_CHUNKS
            ],
            published="resources/published_results.tsv",
        output:
            replicates=f"{RESULTS}/power/replicates.tsv",
            power=f"{RESULTS}/power/power.tsv",
            sample_size=f"{RESULTS}/power/sample_size.tsv",
            summary=f"{RESULTS}/power/summary.md",
        log:
            f"{RESULTS}/logs/power/power_table.log",
        benchmark:
            f"{RESULTS}/benchmarks/power/power_table.tsv"
        conda:
            "../envs/python.yaml"
        resources:
            mem_mb=1000,
            runtime=10,
        params:
            code=code_version("power_table.py"),
            alpha=POWER["alpha"],
            targets=POWER["targets"],
            observed_n=config["simulation"]["n_participants"],
            synthetic=LABELS["synthetic"],
            planning_effect=POWER["planning_effect"],
            # what each chunk must hold, in the order of the chunks above
            cells=[
                {
                    "n_participants": n,
                    "effect": float(effect),
                    "session_sd": float(session_sd),
                    "chunk": chunk,
                }
                for n, effect, session_sd, chunk in POWER_CHUNKS
            ],
            replicates=POWER["replicates"],
            chunk_size=POWER["chunk_size"],
        script:
            "../scripts/power_table.py"

    rule figure_power:
        input:
            power=f"{RESULTS}/power/power.tsv",
        output:
            png=f"{RESULTS}/power/power_curves.png",
            svg=f"{RESULTS}/power/power_curves.svg",
            tsv=f"{RESULTS}/power/power_curves.tsv",
        log:
            f"{RESULTS}/logs/power/figure_power.log",
        benchmark:
            f"{RESULTS}/benchmarks/power/figure_power.tsv"
        conda:
            "../envs/python.yaml"
        params:
            code=code_version("figure_power.py"),
            observed_n=config["simulation"]["n_participants"],
            targets=POWER["targets"],
            dpi=config["figures"]["dpi"],
            synthetic=False,
        script:
            "../scripts/figure_power.py"

    rule power:
        input:
            f"{RESULTS}/power/power.tsv",
            f"{RESULTS}/power/sample_size.tsv",
            f"{RESULTS}/power/summary.md",
            f"{RESULTS}/power/power_curves.png",
