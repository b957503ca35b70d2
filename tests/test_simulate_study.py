"""The embedded dataset is exactly what the simulator writes with the committed settings.

The committed settings calibrate (simulation.calibrate); these tests reuse the found values in
the committed calibration.tsv, and tests/test_calibration.py runs the search itself."""

import hashlib
from pathlib import Path

import yaml

from crossover_fmrs.ingest.clinical import scale_specs
from crossover_fmrs.simulate.calibrate import read_calibration
from crossover_fmrs.simulate.study import model_formulas, simulate_files, write_study

ROOT = Path(__file__).resolve().parents[1]


def committed_config():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


def committed_calibration(config):
    return read_calibration(
        (ROOT / config["simulation"]["output_dir"] / "calibration.tsv").read_bytes()
    )


def simulate(config, calibration=None):
    return simulate_files(
        config["simulation"],
        config["study"]["conditions"],
        scale_specs(config["clinical"]["scales"]),
        config["study"]["reference_condition"],
        config["qc"]["mrs"],
        calibration=calibration,
        formulas=model_formulas(config["stats"]),
    )


def test_embedded_dataset_is_the_simulators_output_byte_for_byte():
    config = committed_config()
    assert config["simulation"]["calibrate"] is True
    files = simulate(config, committed_calibration(config))
    data_dir = ROOT / config["simulation"]["output_dir"]
    # Snakemake marks a directory output with .snakemake_timestamp; it is not part of the study.
    on_disk = sorted(
        str(p.relative_to(data_dir))
        for p in data_dir.rglob("*")
        if p.is_file() and p.name != ".snakemake_timestamp"
    )
    assert on_disk == sorted(files)
    differing = [
        name for name, content in files.items() if (data_dir / name).read_bytes() != content
    ]
    assert differing == []


def test_design_of_the_embedded_study():
    config = committed_config()
    files = simulate(config, committed_calibration(config))
    tables = [name for name in files if name.endswith(".table")]
    assert len(tables) == 26 * 2 * 6
    assert "SYNTHETIC" in files["README.md"].decode()
    participants = files["participants.tsv"].decode().splitlines()
    assert len(participants) == 27
    orders = [line.split("\t")[3] for line in participants[1:]]
    assert orders.count("placebo-naltrexone") == orders.count("naltrexone-placebo") == 13


def test_another_seed_gives_another_study(tmp_path):
    config = committed_config()
    config["simulation"]["seed"] += 1
    config["simulation"]["calibrate"] = False
    other = simulate(config)
    write_study(other, tmp_path / "study")
    original = (ROOT / config["simulation"]["output_dir"] / "participants.tsv").read_bytes()
    assert (
        hashlib.sha256((tmp_path / "study" / "participants.tsv").read_bytes()).digest()
        != hashlib.sha256(original).digest()
    )


def test_without_calibration_the_simulator_writes_a_plain_draw():
    config = committed_config()
    config["simulation"]["calibrate"] = False
    plain = simulate(config)
    calibrated = simulate(committed_config(), committed_calibration(committed_config()))
    assert "calibration.tsv" not in plain and "calibration.tsv" in calibrated
    assert set(plain) == set(calibrated) - {"calibration.tsv"}
    # Same noise, other effect sizes: the participants are the same, the measurements are not.
    assert plain["participants.tsv"] == calibrated["participants.tsv"]
    assert plain["clinical/madrs.tsv"] != calibrated["clinical/madrs.tsv"]
    assert b"calibration.tsv" not in plain["README.md"]
