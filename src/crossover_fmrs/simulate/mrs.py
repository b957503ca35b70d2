"""Simulated fMRS raw files: one LCModel .table per participant x condition x block, plus sidecars.

SYNTHETIC data in the published design of Jelen et al., Nat Med 2025. Generative model (every
effect size from config `simulation:`; quality constants below are assumptions [A] of this
project, chosen as typical of 3 T PRESS spectra of the ACC fitted with LCModel):

Blocks
    One baseline block (simulation.mrs.baseline_block_minutes, default -8..0 min) then
    n_infusion_blocks blocks of infusion_block_minutes from the start of the infusion
    (0-6, 6-12, ..., 24-30 min). No jitter.

Glx/tNAA of spectrum (participant i, condition c, block b)
    ratio = glx_tnaa_mean + u_i + s_ic + ketamine_rise * ramp_b * (1 - a_sex * [c is naltrexone])
            + e
    u_i ~ N(0, glx_tnaa_between_sd) (one intercept per participant, both conditions);
    s_ic ~ N(0, glx_tnaa_session_sd), one offset per session (participant x condition: another
    day, shim, voxel placement), which the paper's model does not have (default 0: none);
    e ~ N(0, glx_tnaa_within_sd); ramp_b = 0 at baseline, min(1, k / RAMP_BLOCKS) in infusion
    block k (ketamine builds up over the first blocks of the 40-min infusion).
    A spectrum that fails QC gets an extra error N(0, FAILING_EXTRA_SD_FACTOR * within_sd):
    poor spectra are less precise, which is why QC removes them.

Naltrexone attenuation a (naltrexone_attenuation): the published condition main effect
    F(1,253) = 4.83 was tested against the within-participant residual. With N usable spectra
    (2 x n_participants x n_blocks - n_failing_spectra), the condition difference averaged over
    blocks has SE = sigma_within * sqrt(1/N_pbo + 1/N_ntx) ~ 2 sigma / sqrt(N), so the expected
    marginal difference is Delta = sqrt(F) * 2 sigma / sqrt(N). Divided by the placebo rise
    averaged over all blocks (baseline included): a = Delta / mean_b(ketamine_rise * ramp_b).
    Larger in males [V direction]: a_male = male_to_female_effect_ratio * a_female, with the
    sample-weighted mean (n_male a_male + n_female a_female) / n = a.
    Defaults: N = 290, Delta = 0.0155, mean rise = 0.045, a = 0.34, a_female = 0.17, a_male = 0.52.
    With simulation.calibrate, a and the male:female ratio are searched instead
    (simulate/calibrate.py).

Concentrations (institutional units, no water scaling)
    A participant scale (lognormal, SD 8%) and a session scale (3%) multiply every metabolite.
    tNAA = NAA (~9.0) + NAAG (~1.2); Glx = ratio x tNAA, split into Glu (~80%) and Gln; Cr ~4.0
    and PCr ~3.5 (tCr ~7.5); other metabolites, macromolecules and lipids at typical levels
    (METABOLITES). Values are rounded to the 3 decimals LCModel prints before the sums and the
    /Cr+PCr ratios are formed, so parsing returns exactly what was generated.

Spectral quality
    Session S/N ~ N(26, 5) truncated to [min_snr + 6, 45] and FWHM ~ N(0.055, 0.008) ppm
    truncated to [0.035, max_fwhm_ppm - 0.03]; per block S/N x
    exp(N(0, 0.08)) and FWHM + N(0, 0.003); in DRIFT_SESSION_FRACTION of the sessions the
    linewidth drifts up linearly by U(0.005, 0.015) ppm over the session.
    %SD = ref %SD x (SNR_REF / S/N) x (FWHM / FWHM_REF) x (typical conc / conc) x exp(N(0, 0.1)),
    rounded like LCModel (NINT, capped at 998 here so that 999 means only "undetermined").
    Exactly n_failing_spectra spectra (one per participant in turn, at random; with
    baseline_spectra_fail false only infusion blocks) fail the QC
    criteria (%SD of Glx or tNAA > max_crlb_percent, FWHM > max_fwhm_ppm or S/N < min_snr,
    evaluated on the printed values): half by low S/N, half by a broad line. All others pass,
    by redrawing their block-level noise. n_undetermined_crlb other spectra get 0.000 with 999%
    for GABA or Asp. Failing spectra are written like all others: QC removes them, not this.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..ingest.formats.lcmodel_table import ConcRow
from .lcmodel_writer import TableFit, printed_sd, write_table

# QC criteria the simulator respects; the same keys as config `qc.mrs`. Pass other values as
# settings["qc_thresholds"] (e.g. {**config["simulation"], "qc_thresholds": config["qc"]["mrs"]}).
DEFAULT_QC_THRESHOLDS = {"max_crlb_percent": 20.0, "max_fwhm_ppm": 0.10, "min_snr": 8.0}
REFERENCE_CONDITION = "placebo"
RAMP_BLOCKS = 2  # [A] infusion blocks until the ketamine rise is complete
FAILING_EXTRA_SD_FACTOR = 2.0  # [A]
SNR_REF = 25.0  # [A] S/N and FWHM at which the reference %SD below hold
FWHM_REF = 0.05
SESSION_SNR = (26.0, 5.0, 45.0)  # [A] mean, SD, upper bound of a session's LCModel S/N
SESSION_FWHM = (0.055, 0.008, 0.035)  # [A] mean, SD, lower bound of a session's FWHM (ppm)
BLOCK_SNR_LOG_SD = 0.08
BLOCK_FWHM_SD = 0.003
CRLB_LOG_SD = 0.10
DRIFT_SESSION_FRACTION = 0.25
DRIFT_PPM = (0.005, 0.015)
PARTICIPANT_SCALE_SD = 0.08
SESSION_SCALE_SD = 0.03
UNDETERMINED_CANDIDATES = ("GABA", "Asp")
MAX_REDRAWS = 500
BASIS_NAME = "synthetic_press_te30_3t.basis"

# name: (typical concentration, between-spectrum log SD, %SD at SNR_REF and FWHM_REF) [A]
# Basis order of a 3 T LCModel basis set, then macromolecules and lipids.
METABOLITES = {
    "Ala": (0.45, 0.25, 30),
    "Asp": (1.9, 0.15, 16),
    "PCh": (0.35, 0.30, 30),
    "Cr": (4.0, 0.04, 6),
    "PCr": (3.5, 0.05, 7),
    "GABA": (1.5, 0.15, 17),
    "Glc": (0.9, 0.25, 30),
    "Gln": (2.6, 0.0, 18),
    "Glu": (10.4, 0.0, 6),
    "GPC": (1.3, 0.10, 8),
    "GSH": (1.4, 0.12, 11),
    "Ins": (6.0, 0.08, 4),
    "Lac": (0.5, 0.30, 30),
    "NAA": (9.0, 0.03, 3),
    "NAAG": (1.2, 0.12, 16),
    "Scyllo": (0.25, 0.30, 25),
    "Tau": (1.5, 0.15, 18),
    "MM09": (3.5, 0.15, 20),
    "MM12": (5.5, 0.20, 18),
    "MM14": (8.5, 0.15, 20),
    "MM17": (4.0, 0.15, 16),
    "MM20": (12.5, 0.10, 8),
    "Lip09": (0.08, 0.50, 120),
    "Lip13a": (0.9, 0.50, 60),
    "Lip13b": (0.45, 0.50, 110),
    "Lip20": (2.1, 0.40, 45),
}
# Combinations LCModel prints after the single entries: (components, %SD at reference quality).
COMBINATIONS = {
    "GPC+PCh": (("GPC", "PCh"), 4),
    "NAA+NAAG": (("NAA", "NAAG"), 2),
    "Cr+PCr": (("Cr", "PCr"), 2),
    "Glu+Gln": (("Glu", "Gln"), 5),
    "MM14+Lip13a+Lip13b+MM12": (("MM14", "Lip13a", "Lip13b", "MM12"), 8),
    "MM09+Lip09": (("MM09", "Lip09"), 18),
    "MM20+Lip20": (("MM20", "Lip20"), 7),
}
GLU_FRACTION = (0.80, 0.02)  # [A] share of Glu in Glx: mean, SD


def thresholds_of(settings: dict) -> dict:
    """QC thresholds the simulated spectra are made to pass or fail."""
    return {
        **DEFAULT_QC_THRESHOLDS,
        **{
            k: v for k, v in settings.get("qc_thresholds", {}).items() if k in DEFAULT_QC_THRESHOLDS
        },
    }


def fails_qc(
    glx_crlb: float, tnaa_crlb: float, fwhm_ppm: float, snr: float, thresholds: dict
) -> bool:
    """The default exclusion criteria, on printed values (as qc_mrs applies them)."""
    return bool(
        glx_crlb > thresholds["max_crlb_percent"]
        or tnaa_crlb > thresholds["max_crlb_percent"]
        or fwhm_ppm > thresholds["max_fwhm_ppm"]
        or snr < thresholds["min_snr"]
    )


def block_timing(settings: dict) -> pd.DataFrame:
    """Block, onset_min, offset_min, phase: the baseline block then the infusion blocks."""
    mrs = settings["mrs"]
    onset, offset = (float(x) for x in mrs["baseline_block_minutes"])
    length = float(mrs["infusion_block_minutes"])
    rows = [(1, onset, offset, "baseline")]
    rows += [
        (k + 1, (k - 1) * length, k * length, "infusion")
        for k in range(1, int(mrs["n_infusion_blocks"]) + 1)
    ]
    return pd.DataFrame(rows, columns=["block", "onset_min", "offset_min", "phase"])


def rise_profile(settings: dict) -> np.ndarray:
    """Fraction of ketamine_rise reached in each block (baseline first): 0, then a ramp to 1."""
    ramp_blocks = int(settings["mrs"].get("ramp_blocks", RAMP_BLOCKS))
    n = int(settings["mrs"]["n_infusion_blocks"])
    return np.array([0.0] + [min(1.0, k / ramp_blocks) for k in range(1, n + 1)])


def naltrexone_attenuation(
    settings: dict, n_participants: int | None = None, n_male: int | None = None
) -> dict:
    """Attenuation fraction of the placebo rise implied by F(1,253) (see the module docstring)."""
    mrs = settings["mrs"]
    n = int(settings["n_participants"] if n_participants is None else n_participants)
    males = int(settings["n_male"] if n_male is None else n_male)
    profile = rise_profile(settings)
    n_usable = 2 * n * len(profile) - int(mrs["n_failing_spectra"])
    se = float(mrs["glx_tnaa_within_sd"]) * 2.0 / math.sqrt(n_usable)
    delta = math.sqrt(float(mrs["published_condition_F"])) * se
    mean_rise = float(mrs["ketamine_rise"]) * float(profile.mean())
    a = delta / mean_rise
    ratio = float(settings["male_to_female_effect_ratio"])
    # A calibrated study (simulation.calibrate, simulate/calibrate.py) replaces both by found
    # values.
    calibrated = settings.get("calibrated", {})
    a = float(calibrated.get("glx_attenuation", a))
    ratio = float(calibrated.get("glx_male_to_female_ratio", ratio))
    a_female = a * n / (ratio * males + (n - males))
    return {
        "n_usable": n_usable,
        "se": se,
        "delta": delta,
        "mean_rise": mean_rise,
        "a": a,
        "a_male": ratio * a_female,
        "a_female": a_female,
    }


def _truncated_normal(
    rng: np.random.Generator, mean: float, sd: float, low: float, high: float, what: str
) -> float:
    if low > high:
        raise ValueError(
            f"simulate_mrs: no room for {what} between {low:g} and {high:g}; "
            "check the QC thresholds"
        )
    for _ in range(MAX_REDRAWS):
        value = rng.normal(mean, sd)
        if low <= value <= high:
            return float(value)
    raise ValueError(f"simulate_mrs: could not draw {what} in [{low:g}, {high:g}] around {mean:g}")


def _round3(value: float) -> float:
    return round(float(value), 3)


def _concentrations(rng, scale: float, ratio: float, undetermined: str) -> dict[str, float]:
    """Printed (3-decimal) concentrations of the single entries and their combinations."""
    conc = {}
    for name, (typical, log_sd, _) in METABOLITES.items():
        if name in ("Glu", "Gln"):
            continue
        conc[name] = _round3(typical * scale * math.exp(rng.normal(0.0, log_sd)))
    tnaa = _round3(conc["NAA"] + conc["NAAG"])
    glx = max(ratio, 0.0) * tnaa
    conc["Glu"] = _round3(glx * rng.normal(*GLU_FRACTION))
    conc["Gln"] = _round3(max(glx - conc["Glu"], 0.0))
    if undetermined:
        conc[undetermined] = 0.0
    for name, (parts, _) in COMBINATIONS.items():
        conc[name] = _round3(sum(conc[part] for part in parts))
    return conc


def _crlbs(rng, conc: dict, snr: float, fwhm: float, undetermined: str) -> dict[str, int]:
    quality = (SNR_REF / snr) * (fwhm / FWHM_REF)
    sds = {}
    for name, value in conc.items():
        if name in COMBINATIONS:
            parts, reference = COMBINATIONS[name]
            typical = sum(METABOLITES[part][0] for part in parts)
        else:
            typical, _, reference = METABOLITES[name]
        if name == undetermined or value <= 0:
            sds[name] = printed_sd(0.0, None)
            continue
        percent = reference * quality * (typical / value) * math.exp(rng.normal(0.0, CRLB_LOG_SD))
        sds[name] = min(998, max(1, printed_sd(value, percent)))
    return sds


def _choose_failing(
    rng, spectra: pd.DataFrame, n_failing: int, baseline_can_fail: bool = True
) -> dict[int, str]:
    """Row index -> failure mode; one spectrum per participant in turn, so failures spread out.
    Without baseline_can_fail only infusion blocks fail (simulation.mrs.baseline_spectra_fail)."""
    eligible = spectra if baseline_can_fail else spectra[spectra["phase"] != "baseline"]
    if n_failing > len(eligible):
        raise ValueError(
            f"simulate_mrs: n_failing_spectra {n_failing} exceeds the {len(eligible)} spectra "
            "that can fail"
        )
    participants = sorted(spectra["participant_id"].unique())
    order = [participants[i] for i in rng.permutation(len(participants))]
    chosen: list[int] = []
    for k in range(n_failing):
        candidates = [
            i
            for i in eligible.index[eligible["participant_id"] == order[k % len(order)]]
            if i not in chosen
        ]
        if not candidates:  # this participant has no spectra left: any other spectrum
            candidates = [i for i in eligible.index if i not in chosen]
        chosen.append(int(candidates[rng.integers(len(candidates))]))
    modes = ["snr", "fwhm"] * (n_failing // 2 + 1)
    rng.shuffle(modes)
    return dict(zip(chosen, modes[:n_failing]))


def _quality(
    rng, session: dict, position: float, mode: str, thresholds: dict
) -> tuple[float, float]:
    """(S/N, FWHM) of one block, printed precision; mode '' passes, 'snr'/'fwhm' fails by that."""
    snr = session["snr"] * math.exp(rng.normal(0.0, BLOCK_SNR_LOG_SD))
    fwhm = session["fwhm"] + session["drift"] * position + rng.normal(0.0, BLOCK_FWHM_SD)
    if mode == "snr":
        snr = rng.uniform(0.45, 0.9) * thresholds["min_snr"]
    elif mode == "fwhm":
        fwhm = thresholds["max_fwhm_ppm"] + rng.uniform(0.008, 0.05)
    return float(max(1, round(snr))), _round3(max(fwhm, 0.01))


def latent_spectra(
    participants: pd.DataFrame, settings: dict, rng: np.random.Generator, effect: dict | None = None
) -> tuple[pd.DataFrame, dict[str, float]]:
    """(spectra, participant scales): the generative truth of every spectrum before spectral
    quality, one row per participant x condition x block with expected_ratio, true_ratio and the
    failure mode ('' for a spectrum that passes QC, 'snr' or 'fwhm'). `effect` ({'a_male',
    'a_female'}) overrides the naltrexone attenuation derived from the published F (power
    planning keeps the published effect fixed while n changes). The embedded study and every
    power replicate are drawn by this function."""
    mrs = settings["mrs"]
    participants = participants.sort_values("participant_id", kind="stable").reset_index(drop=True)
    conditions = sorted({c for order in participants["order"] for c in str(order).split("-")})
    reference = settings.get("reference_condition", REFERENCE_CONDITION)
    if reference not in conditions or len(conditions) != 2:
        raise ValueError(
            f"simulate_mrs: expected two conditions including {reference!r}, got {conditions}"
        )
    conditions = [reference] + [c for c in conditions if c != reference]
    n_male = int((participants["sex"] == "M").sum())
    if effect is None:
        effect = naltrexone_attenuation(settings, n_participants=len(participants), n_male=n_male)
    timing = block_timing(settings)
    profile = rise_profile(settings)

    # Truth that does not depend on spectral quality, in a fixed order.
    rows = []
    intercepts = rng.normal(0.0, float(mrs["glx_tnaa_between_sd"]), len(participants))
    scales = dict(
        zip(
            participants["participant_id"],
            np.exp(rng.normal(0.0, PARTICIPANT_SCALE_SD, len(participants))),
        )
    )
    for person, intercept in zip(participants.itertuples(index=False), intercepts):
        attenuation = effect["a_male"] if person.sex == "M" else effect["a_female"]
        for condition in conditions:
            active = condition != reference
            for block in timing.itertuples(index=False):
                rise = (
                    float(mrs["ketamine_rise"])
                    * profile[block.block - 1]
                    * (1 - attenuation * active)
                )
                rows.append(
                    {
                        "participant_id": person.participant_id,
                        "sex": person.sex,
                        "condition": condition,
                        "block": int(block.block),
                        "onset_min": block.onset_min,
                        "offset_min": block.offset_min,
                        "phase": block.phase,
                        "expected_ratio": float(mrs["glx_tnaa_mean"]) + intercept + rise,
                    }
                )
    spectra = pd.DataFrame(rows)
    spectra["true_ratio"] = spectra["expected_ratio"] + rng.normal(
        0.0, float(mrs["glx_tnaa_within_sd"]), len(spectra)
    )

    failing = _choose_failing(
        rng, spectra, int(mrs["n_failing_spectra"]), bool(mrs.get("baseline_spectra_fail", True))
    )
    spectra["failure"] = [failing.get(i, "") for i in spectra.index]
    extra = rng.normal(
        0.0, FAILING_EXTRA_SD_FACTOR * float(mrs["glx_tnaa_within_sd"]), len(spectra)
    )
    spectra["true_ratio"] += np.where(spectra["failure"] != "", extra, 0.0)
    # Drawn last, and only when asked for, so that a study without it keeps every other draw.
    session_sd = float(mrs.get("glx_tnaa_session_sd", 0.0))
    if session_sd > 0:
        sessions = spectra.groupby(["participant_id", "condition"], sort=False).ngroup()
        offsets = rng.normal(0.0, session_sd, int(sessions.max()) + 1)
        spectra["true_ratio"] += offsets[sessions.to_numpy()]
    return spectra, scales


def simulate_mrs_study(
    participants: pd.DataFrame, settings: dict, rng: np.random.Generator
) -> tuple[pd.DataFrame, dict[str, str]]:
    """(spectra, files): the generative truth per spectrum and the files as path -> text."""
    mrs = settings["mrs"]
    thresholds = thresholds_of(settings)
    timing = block_timing(settings)
    n_blocks = len(timing)
    spectra, scales = latent_spectra(participants, settings, rng)
    passing = spectra.index[spectra["failure"] == ""]
    n_undetermined = int(mrs["n_undetermined_crlb"])
    if n_undetermined > len(passing):
        raise ValueError(
            f"simulate_mrs: n_undetermined_crlb {n_undetermined} exceeds the passing spectra"
        )
    undetermined = rng.choice(passing, size=n_undetermined, replace=False)
    spectra["undetermined_metabolite"] = ""
    for i in sorted(int(i) for i in undetermined):
        spectra.loc[i, "undetermined_metabolite"] = UNDETERMINED_CANDIDATES[
            rng.integers(len(UNDETERMINED_CANDIDATES))
        ]

    snr_mean, snr_sd, snr_high = SESSION_SNR
    fwhm_mean, fwhm_sd, fwhm_low = SESSION_FWHM
    snr_low = thresholds["min_snr"] + 6
    fwhm_high = thresholds["max_fwhm_ppm"] - 0.03
    files: dict[str, str] = {}
    measured = []
    for (participant, condition), session_rows in spectra.groupby(
        ["participant_id", "condition"], sort=False
    ):
        session_scale = float(scales[participant]) * math.exp(rng.normal(0.0, SESSION_SCALE_SD))
        session = {
            "snr": _truncated_normal(
                rng, snr_mean, snr_sd, snr_low, max(snr_high, snr_low + 10), "session S/N"
            ),
            "fwhm": _truncated_normal(rng, fwhm_mean, fwhm_sd, fwhm_low, fwhm_high, "session FWHM"),
            "drift": rng.uniform(*DRIFT_PPM) if rng.random() < DRIFT_SESSION_FRACTION else 0.0,
        }
        folder = f"{participant}/ses-{condition}/mrs"
        for i, row in session_rows.iterrows():
            conc = _concentrations(
                rng, session_scale, row["true_ratio"], row["undetermined_metabolite"]
            )
            position = (row["block"] - 1) / max(1, n_blocks - 1)
            for _ in range(MAX_REDRAWS):
                snr, fwhm = _quality(rng, session, position, row["failure"], thresholds)
                sds = _crlbs(rng, conc, snr, fwhm, row["undetermined_metabolite"])
                fails = fails_qc(sds["Glu+Gln"], sds["NAA+NAAG"], fwhm, snr, thresholds)
                if fails == (row["failure"] != ""):
                    break
            else:
                kind = "failing" if row["failure"] else "passing"
                raise ValueError(
                    f"simulate_mrs: could not draw a {kind} spectrum for {participant} {condition} "
                    f"block {row['block']}; check the QC thresholds"
                )
            label = f"{participant} ses-{condition} block-{int(row['block']):02d}"
            name = f"{participant}_ses-{condition}_block-{int(row['block']):02d}.table"
            fit = TableFit(
                rows=tuple(
                    ConcRow(
                        metabolite,
                        conc[metabolite],
                        float(sds[metabolite]),
                        crlb_undetermined=metabolite == row["undetermined_metabolite"],
                    )
                    for metabolite in list(METABOLITES) + list(COMBINATIONS)
                ),
                fwhm_ppm=fwhm,
                snr=snr,
                data_shift_ppm=_round3(rng.normal(0.0, 0.01)),
                phase0_deg=float(np.clip(round(rng.normal(0.0, 15.0)), -180, 180)),
                phase1_deg_per_ppm=round(float(rng.normal(0.0, 3.0)), 1),
                alpha_b=float(10 ** rng.uniform(-1.5, -0.3)),
                alpha_s=float(10 ** rng.uniform(-1.0, 0.0)),
                spline_knots=int(rng.integers(24, 33)),
                inflections=int(rng.integers(1, 4)),
                extrema=int(rng.integers(0, 3)),
                title=f"{label} SYNTHETIC (simulated, not measured)",
                input_changes=(f" filbas='{BASIS_NAME}'", f" filtab='{name}'", " ltable=7"),
            )
            files[f"{folder}/{name}"] = write_table(fit)
            measured.append(
                {
                    "index": i,
                    "path": f"{folder}/{name}",
                    "snr": snr,
                    "fwhm_ppm": fwhm,
                    "glx": conc["Glu+Gln"],
                    "tnaa": conc["NAA+NAAG"],
                    "glx_crlb": float(sds["Glu+Gln"]),
                    "tnaa_crlb": float(sds["NAA+NAAG"]),
                    "drift_ppm": session["drift"],
                }
            )
        lines = ["block\tonset_min\toffset_min\tphase"]
        lines += [
            f"{b.block}\t{b.onset_min:.1f}\t{b.offset_min:.1f}\t{b.phase}"
            for b in timing.itertuples(index=False)
        ]
        files[f"{folder}/{participant}_ses-{condition}_blocks.tsv"] = "\n".join(lines) + "\n"
    quality = pd.DataFrame(measured).set_index("index").sort_index()
    spectra = spectra.join(quality)
    spectra["fails_qc"] = spectra["failure"] != ""
    spectra["printed_ratio"] = spectra["glx"] / spectra["tnaa"]
    return spectra.reset_index(drop=True), dict(sorted(files.items()))


def simulate_mrs(
    participants: pd.DataFrame, settings: dict, rng: np.random.Generator
) -> dict[str, str]:
    """Every fMRS file of the synthetic study: relative path -> text (tables and block sidecars)."""
    return simulate_mrs_study(participants, settings, rng)[1]
