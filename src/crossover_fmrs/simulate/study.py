"""Write the whole synthetic study: participants, fMRS fit tables, clinical sheets.

The generative models live in simulate_mrs and simulate_clinical; this module draws the
participants, hands each part its own random stream (so that a change in one part does not
shift the numbers of another) and writes every file deterministically.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..common.errors import InputError
from ..common.tables import SITE
from ..common.version import __version__
from .calibrate import calibrate, calibration_tsv
from .clinical import simulate_clinical, write_sheet
from .effects import scaled_count
from .mrs import simulate_mrs

DESCRIPTION = "dataset_description.json"
# Counts given for the configured study (simulation.n_participants) that a study of another size
# keeps as a share: males, spectra failing QC or undetermined, missing ratings.
SCALED_COUNTS = (
    ("n_male",),
    ("mrs", "n_failing_spectra"),
    ("mrs", "n_undetermined_crlb"),
    ("clinical", "madrs_missing_assessments"),
    ("clinical", "madrs_missing_items"),
    ("clinical", "teps_anticipatory_missing_pre"),
)

SYNTHETIC_NOTICE = """\
# SYNTHETIC DATA: not the trial's data

Every file in this folder was written by this project's simulator (`snakemake -f simulate_study`,
settings under `simulation:` in config.yaml, seed {seed}). The design and the effect sizes follow
the published design and statistics of Jelen et al., Nat Med 2025 (NCT04977674); no value comes
from a real participant. The trial's participant-level data are not public.

Layout (see the project README for every column):
- participants.tsv, participants.json: one row per participant, and the data dictionary
- sub-XX/ses-<condition>/mrs/sub-XX_ses-<condition>_block-NN.table: LCModel fit tables
- sub-XX/ses-<condition>/mrs/sub-XX_ses-<condition>_blocks.tsv: block timing, minutes from the \
start of the infusion
- clinical/<scale>.tsv: item-level rating-scale sheets
- dataset_description.json: what wrote the study (seed, participants, sites, calibrated or not)
"""

CALIBRATION_NOTICE = """\
- calibration.tsv: the effect sizes the simulator's calibration found (simulation.calibrate: the
  pipeline, run on these files, reproduces the published statistics); no stage of the pipeline \
reads it
"""

PARTICIPANTS_DICTIONARY = {
    "participant_id": {"Description": "Participant label"},
    "sex": {"Description": "Sex", "Levels": {"M": "male", "F": "female"}},
    "age": {"Description": "Age at screening", "Units": "years"},
    "order": {
        "Description": "Randomised order of the conditions, first-second",
        "Levels": {
            "placebo-naltrexone": "placebo at visit 1, naltrexone at visit 2",
            "naltrexone-placebo": "naltrexone at visit 1, placebo at visit 2",
        },
    },
    "hamd17_screening": {
        "Description": "17-item Hamilton Depression Rating Scale at screening (inclusion >= 18)"
    },
    "n_failed_treatments": {
        "Description": (
            "Antidepressant treatments (medication or psychotherapy) with inadequate response"
        )
    },
    "on_antidepressant": {
        "Description": "Taking a regular antidepressant during the study",
        "Levels": {"yes": "yes", "no": "no"},
    },
}


class SimulationSettingsError(InputError):
    """Settings (config simulation: or the command line) that describe no study."""


def _refuse(flag: str | None, key: str, expected: str, got) -> None:
    """One-line error naming the command-line flag when the value came from there, else the
    config key."""
    if flag is not None:
        raise SimulationSettingsError(flag, None, None, expected, got)
    raise SimulationSettingsError("config.yaml", "simulation", key, expected, got)


def study_settings(
    settings: Mapping,
    n_participants: int | None = None,
    n_sites: int | None = None,
    seed: int | None = None,
    calibrate: bool | None = None,
) -> dict:
    """The settings of one study: config `simulation:` with the size, sites, seed and calibration
    asked for (None: as configured). The counts of SCALED_COUNTS are given for
    simulation.n_participants and keep their share at another size; the effects (natural units)
    and SDs stay as they are, so every participant is drawn alike at any size. Calibration
    searches the published statistics at simulation.published_n_participants: at another size
    asked for here it is off unless asked for, and a configured study of another size that asks
    for it is refused. The Snakemake rule simulate_study and the command line both come through
    here."""
    out = json.loads(json.dumps(dict(settings)))  # a deep copy of plain config values
    configured_n = int(settings["n_participants"])
    n = configured_n if n_participants is None else int(n_participants)
    sites = int(settings["n_sites"] if n_sites is None else n_sites)
    n_flag = None if n_participants is None else "--participants"
    sites_flag = None if n_sites is None else "--sites"
    if n < 2:
        _refuse(n_flag, "n_participants", "at least 2 participants", n)
    if sites < 1:
        _refuse(sites_flag, "n_sites", "at least 1 site", sites)
    if sites > n:
        _refuse(sites_flag, "n_sites", f"at most one site per participant ({n})", sites)
    if n != configured_n:
        for path in SCALED_COUNTS:
            holder = out
            for key in path[:-1]:
                holder = holder[key]
            if path[-1] in holder:
                holder[path[-1]] = scaled_count(holder[path[-1]], n, configured_n)
    out["n_participants"], out["n_sites"] = n, sites
    if seed is not None:
        out["seed"] = int(seed)
    published_n = int(settings["published_n_participants"])
    wanted = bool(settings["calibrate"]) if calibrate is None else bool(calibrate)
    if wanted and n != published_n:
        if calibrate is None and n_participants is not None:
            wanted = False  # another size on the command line: a plain draw by default
        else:
            _refuse(
                None,
                "calibrate",
                f"false for a study of {n} participants (the search targets the published "
                f"statistics at n = {published_n})",
                True,
            )
    out["calibrate"] = wanted
    return out


def assign_sites(settings: Mapping, n: int, rng: np.random.Generator) -> dict:
    """Site of each participant (balanced: sizes differ by at most one) and the site random
    intercepts [A] (simulation.sites): Glx/tNAA and MADRS points, one array per participant."""
    n_sites = int(settings["n_sites"])
    width = max(2, len(str(n_sites)))
    names = np.array([f"site-{k:0{width}d}" for k in range(1, n_sites + 1)])
    index = rng.permutation(np.arange(n) % n_sites)
    site = settings["sites"]  # defaults in the schema (simulation.sites)
    glx = rng.normal(0.0, float(site["glx_tnaa_site_sd"]), n_sites)
    madrs = rng.normal(0.0, float(site["madrs_site_sd"]), n_sites)
    return {"site": names[index], "glx": glx[index], "madrs": madrs[index]}


def dataset_description(settings: Mapping, calibrated: bool) -> bytes:
    """BIDS-style dataset_description.json: what wrote the study; the same settings give the same
    bytes (sorted keys, no time stamps)."""
    description = {
        "Name": "Synthetic pharmacological crossover fMRS study (simulated, not measured)",
        "DatasetType": "raw",
        "GeneratedBy": [
            {
                "Name": "crossover_fmrs.simulate",
                "Version": __version__,
                "Description": (
                    "Simulator of the crossover_fmrs project: the design of Jelen et al., Nat Med "
                    "2025, effects in natural units (docs/simulator.md)"
                ),
            }
        ],
        "Synthetic": True,
        "Calibrated": bool(calibrated),
        "Seed": int(settings["seed"]),
        "NumberOfParticipants": int(settings["n_participants"]),
        "NumberOfSites": int(settings["n_sites"]),
    }
    return (json.dumps(description, indent=2, sort_keys=True) + "\n").encode()


def is_simulated_study(folder: str | Path) -> bool:
    """True when folder holds a study this simulator wrote (its dataset_description.json, or the
    SYNTHETIC notice of a study written before that file existed)."""
    folder = Path(folder)
    try:
        description = json.loads((folder / DESCRIPTION).read_text())
        if description.get("Synthetic") is True:
            return True
    except (OSError, ValueError):
        pass
    readme = folder / "README.md"
    return readme.is_file() and readme.read_text(errors="replace").startswith("# SYNTHETIC DATA")


def simulate_participants(
    settings: dict, conditions: list[str], rng: np.random.Generator
) -> pd.DataFrame:
    """Participants with sex, age, counterbalanced order and baseline characteristics."""
    n = int(settings["n_participants"])
    n_male = int(settings["n_male"])
    if not 0 <= n_male <= n:
        raise ValueError(
            f"simulation.n_male must be between 0 and n_participants ({n}), got {n_male}"
        )
    sex = np.array(["M"] * n_male + ["F"] * (n - n_male))
    rng.shuffle(sex)
    # Counterbalanced: the two orders alternate over the participants listed by sex, so each order
    # has half of the sample (and of each sex, up to one), then are shuffled within sex.
    order = np.empty(n, dtype=object)
    pair = ["-".join(conditions), "-".join(reversed(conditions))]
    by_sex = np.concatenate([np.flatnonzero(sex == "M"), np.flatnonzero(sex == "F")])
    order[by_sex] = [pair[i % 2] for i in range(n)]
    for code in ("M", "F"):
        index = np.flatnonzero(sex == code)
        order[index] = rng.permutation(order[index])
    age = np.clip(np.round(rng.normal(settings["age_mean"], settings["age_sd"], n)), 18, 50).astype(
        int
    )
    hamd = rng.integers(18, 27, n)
    failed = rng.integers(2, 6, n)
    on_ad = np.where(rng.random(n) < 0.6, "yes", "no")
    width = max(2, len(str(n)))
    return pd.DataFrame(
        {
            "participant_id": [f"sub-{i:0{width}d}" for i in range(1, n + 1)],
            "sex": sex,
            "age": age,
            "order": order,
            "hamd17_screening": hamd,
            "n_failed_treatments": failed,
            "on_antidepressant": on_ad,
        }
    )


def model_formulas(stats: Mapping) -> dict[str, str]:
    """The models the calibration fits, from config `stats:` (the paper's analysis)."""
    return {
        "glx": stats["glx_formula"],
        "glx_sex": stats["glx_sex_formula"],
        "clinical": stats["clinical_formula"],
    }


def _with_study_config(
    settings: dict,
    qc_thresholds: dict | None,
    formulas: dict | None,
    scales: dict | None,
    reference: str | None,
) -> dict:
    """A copy of the study's settings with the parts of the study's config the simulator needs
    (QC thresholds, the analysis's formulas, the scales' sheets, the reference condition)."""
    settings = dict(settings)
    if qc_thresholds is not None:
        settings["qc_thresholds"] = qc_thresholds
    if formulas is not None:
        settings["formulas"] = formulas
    if scales is not None:
        settings["clinical"] = {**settings.get("clinical", {}), "scales": scales}
    if reference is not None:
        settings["reference_condition"] = reference
    return settings


def _part_stream(seed: int, part: int) -> np.random.Generator:
    """Part k's random stream (0 participants, 1 fMRS, 2 clinical, 3 sites)."""
    # A fresh SeedSequence each time: spawning children advances it, and every candidate of
    # the calibration must draw the same noise as the final study. Child k of a seed is the
    # same however many are spawned, so the sites' stream (3) moves no other draw.
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(4)[part])


def _participants_at_sites(
    settings: dict, conditions: list[str], site_column: str
) -> tuple[pd.DataFrame, dict, dict]:
    """(participants, site offsets of Glx/tNAA and MADRS per participant or None, data dictionary
    of participants.tsv); with one site no site column and no site draw."""
    seed = int(settings["seed"])
    participants = simulate_participants(settings, conditions, _part_stream(seed, 0))
    n_sites = int(settings["n_sites"])
    offsets = {"glx": None, "madrs": None}
    dictionary = dict(PARTICIPANTS_DICTIONARY)
    if n_sites > 1:
        sites = assign_sites(settings, len(participants), _part_stream(seed, 3))
        participants[site_column] = sites["site"]
        offsets = {"glx": sites["glx"], "madrs": sites["madrs"]}
        dictionary[site_column] = {"Description": f"Site of the participant (1 of {n_sites})"}
    return participants, offsets, dictionary


def _description_files(
    settings: dict, participants: pd.DataFrame, dictionary: dict, calibrated: bool
) -> dict[str, bytes]:
    """README.md (the SYNTHETIC notice), participants.tsv and .json, dataset_description.json."""
    return {
        "README.md": (
            SYNTHETIC_NOTICE.format(seed=settings["seed"])
            + (CALIBRATION_NOTICE if calibrated else "")
        ).encode(),
        "participants.tsv": participants.to_csv(
            sep="\t", index=False, lineterminator="\n"
        ).encode(),
        "participants.json": (json.dumps(dictionary, indent=2) + "\n").encode(),
        DESCRIPTION: dataset_description(settings, calibrated),
    }


def _sheet_files(sheets: dict[str, pd.DataFrame]) -> dict[str, bytes]:
    """clinical/<sheet> -> the bytes write_sheet writes."""
    out = {}
    with tempfile.TemporaryDirectory() as scratch:
        for sheet, frame in sheets.items():
            target = Path(scratch) / sheet
            write_sheet(frame, target)
            out[f"clinical/{sheet}"] = target.read_bytes()
    return out


def simulate_files(
    settings: dict,
    conditions: list[str],
    scales: dict | None = None,
    reference: str | None = None,
    qc_thresholds: dict | None = None,
    calibration: dict | None = None,
    site_column: str = SITE,
    progress: Callable[[str], None] | None = None,
    formulas: dict | None = None,
) -> dict[str, bytes]:
    """Every file of the synthetic study as relative path -> bytes.

    settings are those of one study (study_settings). scales (config clinical.scales) names the
    sheets and their time points; reference is the reference condition; qc_thresholds (config
    qc.mrs) are the criteria the few poor spectra are made to fail (required: the study's own);
    formulas (model_formulas of the config) are the models the calibration fits. With
    settings["calibrate"] the effect sizes are searched (simulate/calibrate.py) and written to
    calibration.tsv; `calibration`
    (read_calibration of that file) skips the search. With settings["n_sites"] > 1 every
    participant gets a site (column site_column of participants.tsv) and each site its own
    Glx/tNAA and MADRS intercept. progress, when given, receives a line per stage.
    """
    settings = _with_study_config(settings, qc_thresholds, formulas, scales, reference)
    started = time.perf_counter()

    def report(stage: str) -> None:
        if progress is not None:
            progress(f"{stage} ({time.perf_counter() - started:.1f} s)")

    participants, offsets, dictionary = _participants_at_sites(settings, conditions, site_column)
    report(f"drew {len(participants)} participants at {int(settings['n_sites'])} site(s)")
    calibrated = bool(settings["calibrate"])
    files = _description_files(settings, participants, dictionary, calibrated)

    def draw_mrs(values: dict) -> dict[str, bytes]:
        stream = _part_stream(int(settings["seed"]), 1)
        drawn = simulate_mrs(participants, values, stream, site_offsets=offsets["glx"])
        return {path: text.encode() for path, text in drawn.items()}

    def draw_clinical(values: dict, only=None) -> dict[str, bytes]:
        stream = _part_stream(int(settings["seed"]), 2)
        return _sheet_files(simulate_clinical(participants, values, stream, offsets["madrs"], only))

    if calibrated:
        if calibration is None:
            report("calibrating (the search runs the pipeline's models; about 2 minutes)")
            calibration = calibrate(settings, conditions, files, draw_mrs, draw_clinical)
        settings["calibrated"] = calibration
        files["calibration.tsv"] = calibration_tsv(calibration)
    files.update(draw_mrs(settings))
    report(f"drew and formatted {sum(p.endswith('.table') for p in files)} LCModel tables")
    files.update(draw_clinical(settings))
    report("drew the clinical sheets")
    return dict(sorted(files.items()))


def stderr_progress(message: str) -> None:
    print(f"[simulate] {message}", file=sys.stderr, flush=True)


def write_study(
    files: dict[str, bytes],
    out_dir: str | Path,
    progress: Callable[[str], None] | None = None,
    every: int = 50_000,
) -> None:
    """Write the files into out_dir via a scratch folder, so a failure leaves no half-written
    study. progress, when given, hears every `every` files."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".simulate-", dir=out_dir.parent))
    try:
        for k, (relative, content) in enumerate(files.items(), start=1):
            if progress is not None and (k % every == 0 or k == len(files)):
                progress(f"wrote {k} of {len(files)} files")
            target = scratch / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        scratch.rename(out_dir)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch)
