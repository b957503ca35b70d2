"""Command line of the simulator: write a synthetic study of any size in the raw formats the
pipeline reads.

    python -m crossover_fmrs.simulate --out DIR --participants N [--sites S] [--seed K]
        [--no-calibrate] [--config config.yaml]

Every other setting comes from the config's `simulation:` (defaults: schemas/config.schema.yaml),
through the same functions as the Snakemake rule simulate_study (simulate/study.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from ..common.config import config_schema, with_defaults
from ..ingest.clinical import scale_specs
from .study import (
    SimulationSettingsError,
    is_simulated_study,
    model_formulas,
    simulate_files,
    stderr_progress,
    study_settings,
    write_study,
)

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "config.yaml"


def load_config(path: Path) -> dict:
    config = with_defaults(yaml.safe_load(path.read_text()), config_schema())
    if "simulation" not in config:
        raise SimulationSettingsError(f"{path}: no simulation: section")
    return config


class OneLineParser(argparse.ArgumentParser):
    """argparse, with a usage error in one line (--help shows the usage)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (--help for the usage)\n")


def parser(simulation: dict) -> argparse.ArgumentParser:
    published = simulation["published_n_participants"]
    out = OneLineParser(
        prog="python -m crossover_fmrs.simulate",
        description=(
            "Write a SYNTHETIC crossover fMRS study (LCModel .table files, block sidecars, "
            "clinical sheets, participants.tsv, dataset_description.json) with the effects of "
            "config simulation: in natural units, the same per participant at any size."
        ),
        epilog=(
            f"Calibration (searching the effects until the pipeline reproduces the published "
            f"statistics) targets the published statistics at n = {published}: it runs only "
            f"with --participants {published} and simulation.calibrate true; with any other N "
            "the study is a plain draw (calibration off)."
        ),
    )
    out.add_argument("--out", required=True, type=Path, help="folder to write the study into")
    out.add_argument(
        "--participants",
        type=int,
        default=int(simulation["n_participants"]),
        help="number of participants (default: simulation.n_participants, %(default)s)",
    )
    out.add_argument(
        "--sites",
        type=int,
        default=int(simulation["n_sites"]),
        help="number of sites, participants spread evenly (default %(default)s: no site column)",
    )
    out.add_argument(
        "--seed",
        type=int,
        default=int(simulation["seed"]),
        help="random seed (default: simulation.seed, %(default)s)",
    )
    out.add_argument(
        "--no-calibrate",
        action="store_true",
        help=f"a plain draw even at n = {published} (calibration is off at any other n)",
    )
    out.add_argument(
        "--config", type=Path, default=CONFIG, help="configuration file (default: %(default)s)"
    )
    return out


def refuse(message: str) -> int:
    print(f"python -m crossover_fmrs.simulate: error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # The config names the defaults, so it is read before the other arguments.
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--config", type=Path, default=CONFIG)
    known, _ = first.parse_known_args(argv)
    try:
        config = load_config(known.config)
    except (OSError, yaml.YAMLError, SimulationSettingsError) as error:
        return refuse(f"--config {known.config}: {error}")
    simulation = config["simulation"]
    args = parser(simulation).parse_args(argv)
    out = args.out
    if out.exists() and not out.is_dir():
        return refuse(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not is_simulated_study(out):
        return refuse(
            f"--out {out}: a non-empty folder that is not a simulated study "
            "(no dataset_description.json with Synthetic: true); choose a new or empty folder"
        )
    try:
        settings = study_settings(
            simulation,
            n_participants=args.participants,
            n_sites=args.sites,
            seed=args.seed,
            calibrate=False if args.no_calibrate else None,
        )
    except SimulationSettingsError as error:
        return refuse(str(error))
    study = config["study"]
    scales = scale_specs(config["clinical"]["scales"])
    stderr_progress(
        f"{settings['n_participants']} participants, {settings['n_sites']} site(s), seed "
        f"{settings['seed']}, calibrate {str(settings['calibrate']).lower()} -> {out}"
    )
    files = simulate_files(
        settings,
        study["conditions"],
        scales,
        study["reference_condition"],
        config["qc"]["mrs"],
        site_column=study["site_column"],
        progress=stderr_progress,
        formulas=model_formulas(config["stats"]),
    )
    write_study(files, out, progress=stderr_progress)
    stderr_progress(f"wrote {len(files)} files to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
