"""Simulated fMRS raw files: one LCModel .table per participant x condition x block, plus sidecars.

SYNTHETIC data in the published design of Jelen et al., Nat Med 2025. Generative model (every
effect size from config `simulation:`; quality constants below are assumptions [A] of this
project, chosen as typical of 3 T PRESS spectra of the ACC fitted with LCModel):

Blocks
    One baseline block (simulation.mrs.baseline_block_minutes, default -8..0 min) then
    n_infusion_blocks blocks of infusion_block_minutes from the start of the infusion
    (0-6, 6-12, ..., 24-30 min). No jitter.

Glx/tNAA of spectrum (participant i at site k, condition c, block b)
    ratio = glx_tnaa_mean + v_k + u_i + s_ic + ketamine_rise * ramp_b
            + [c is naltrexone] * d_sex * ramp_b / mean_b(ramp_b) + e
    v_k ~ N(0, sites.glx_tnaa_site_sd), one intercept per site (only with n_sites > 1; drawn from
    the sites' own stream, simulate/study.py);
    u_i ~ N(0, glx_tnaa_between_sd) (one intercept per participant, both conditions);
    s_ic ~ N(0, glx_tnaa_session_sd), one offset per session (participant x condition: another
    day, shim, voxel placement), which the paper's model does not have (default 0: none);
    e ~ N(0, glx_tnaa_within_sd); ramp_b = 0 at baseline, min(1, k / ramp_blocks) in infusion
    block k (ketamine builds up over the first blocks of the 40-min infusion).
    A spectrum that fails QC gets an extra error N(0, FAILING_EXTRA_SD_FACTOR * within_sd):
    poor spectra are less precise, which is why QC removes them.

Naltrexone effect d (natural units, mrs.naltrexone_minus_placebo): the naltrexone - placebo
    Glx/tNAA averaged over a session's blocks, spread over the blocks in proportion to the rise
    (none at baseline). Its default is derived from the published F(1,253) = 4.83 at n = 26
    (simulate/effects.py, -0.01549) and does not change with the study's size. Larger in males
    [V direction]: d_male = male_to_female_effect_ratio * d_female, with the sample-weighted
    mean (n_male d_male + n_female d_female) / n = d. With simulation.calibrate, d and the
    male:female ratio are searched instead (simulate/calibrate.py).

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

Every part is drawn for all spectra at once (numpy), from its own child stream; the tables are
formatted in bulk (lcmodel_writer.write_tables), so 120,000 tables take seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..common.errors import InputError
from ..ingest.formats.lcmodel_table import UNDETERMINED_SD
from ..qc.mrs import beyond_thresholds
from .effects import configured, split_by_sex
from .lcmodel_writer import write_tables

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
    """The QC thresholds (config qc.mrs, in settings["qc_thresholds"]) the simulated spectra are
    made to pass or fail; the study's own, never a copy of their defaults."""
    if "qc_thresholds" not in settings:
        raise InputError(
            "config", None, "qc.mrs", "the QC thresholds in settings['qc_thresholds']", "none"
        )
    return dict(settings["qc_thresholds"])


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
    ramp_blocks = int(settings["mrs"]["ramp_blocks"])
    n = int(settings["mrs"]["n_infusion_blocks"])
    return np.array([0.0] + [min(1.0, k / ramp_blocks) for k in range(1, n + 1)])


def glx_effect_by_sex(settings: dict, n_male: int, n_female: int) -> dict[str, float]:
    """Naltrexone - placebo Glx/tNAA (ratio units, averaged over a session's blocks) per sex:
    the configured (or calibrated) difference, larger in males by male_to_female_effect_ratio,
    with the sample-weighted mean equal to it (simulate/effects.py)."""
    effects = configured(settings)
    return split_by_sex(
        effects["glx_naltrexone_minus_placebo"],
        effects["glx_male_to_female_ratio"],
        n_male,
        n_female,
    )


def _truncated_normal(
    rng: np.random.Generator, mean: float, sd: float, low: float, high: float, size: int, what: str
) -> np.ndarray:
    """size draws of N(mean, sd) within [low, high]: the draws outside are drawn again."""
    if low > high:
        raise ValueError(
            f"simulate_mrs: no room for {what} between {low:g} and {high:g}; "
            "check the QC thresholds"
        )
    values = rng.normal(mean, sd, size)
    for _ in range(MAX_REDRAWS):
        outside = np.flatnonzero((values < low) | (values > high))
        if not len(outside):
            return values
        values[outside] = rng.normal(mean, sd, len(outside))
    raise ValueError(f"simulate_mrs: could not draw {what} in [{low:g}, {high:g}] around {mean:g}")


def _round3(values):
    return np.round(values, 3)


def _nint(values: np.ndarray) -> np.ndarray:
    """Fortran NINT (halves away from zero), as LCModel prints %SD."""
    return np.copysign(np.floor(np.abs(values) + 0.5), values)


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
    left = {pid: list(rows) for pid, rows in eligible.groupby("participant_id").groups.items()}
    chosen: list[int] = []
    taken: set[int] = set()
    for k in range(n_failing):
        candidates = left.get(order[k % len(order)], [])
        if not candidates:  # this participant has no spectra left: any other spectrum
            candidates = [i for i in eligible.index if i not in taken]
        pick = int(candidates[rng.integers(len(candidates))])
        chosen.append(pick)
        taken.add(pick)
        pid = spectra.at[pick, "participant_id"]
        if pid in left:
            left[pid] = [i for i in left[pid] if i != pick]
    modes = ["snr", "fwhm"] * (n_failing // 2 + 1)
    rng.shuffle(modes)
    return dict(zip(chosen, modes[:n_failing]))


def latent_spectra(
    participants: pd.DataFrame,
    settings: dict,
    rng: np.random.Generator,
    effect: dict | None = None,
    site_offsets: np.ndarray | None = None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """(spectra, participant scales): the generative truth of every spectrum before spectral
    quality, one row per participant x condition x block with expected_ratio, true_ratio and the
    failure mode ('' for a spectrum that passes QC, 'snr' or 'fwhm'). `effect` ({'M', 'F'}:
    naltrexone - placebo Glx/tNAA per sex, averaged over the blocks) overrides the configured
    one (power planning scales it). site_offsets (one per participant, in participant_id order)
    shift every spectrum of a participant's site; they are drawn elsewhere, so a study without
    sites keeps every draw. The embedded study and every power replicate are drawn by this
    function."""
    mrs = settings["mrs"]
    participants = participants.sort_values("participant_id", kind="stable").reset_index(drop=True)
    conditions = sorted({c for order in participants["order"] for c in str(order).split("-")})
    reference = settings["reference_condition"]
    if reference not in conditions or len(conditions) != 2:
        raise ValueError(
            f"simulate_mrs: expected two conditions including {reference!r}, got {conditions}"
        )
    conditions = [reference] + [c for c in conditions if c != reference]
    n_male = int((participants["sex"] == "M").sum())
    if effect is None:
        effect = glx_effect_by_sex(settings, n_male, len(participants) - n_male)
    timing = block_timing(settings)
    profile = rise_profile(settings)

    # Truth that does not depend on spectral quality, in a fixed order.
    n, n_blocks = len(participants), len(timing)
    intercepts = rng.normal(0.0, float(mrs["glx_tnaa_between_sd"]), n)
    if site_offsets is not None:
        intercepts = intercepts + np.asarray(site_offsets, dtype=float)
    scales = dict(
        zip(participants["participant_id"], np.exp(rng.normal(0.0, PARTICIPANT_SCALE_SD, n)))
    )
    person = np.repeat(np.arange(n), 2 * n_blocks)
    condition = np.tile(np.repeat(np.arange(2), n_blocks), n)
    block = np.tile(np.arange(n_blocks), 2 * n)
    sex = participants["sex"].to_numpy()[person]
    difference = np.where(sex == "M", effect["M"], effect["F"])
    # The naltrexone session follows the placebo rise, less by the difference spread over the
    # blocks in proportion to the rise (its mean over the blocks is the difference).
    shape = profile / profile.mean() if profile.mean() > 0 else np.ones_like(profile)
    rise = float(mrs["ketamine_rise"]) * profile[block] + condition * difference * shape[block]
    spectra = pd.DataFrame(
        {
            "participant_id": participants["participant_id"].to_numpy()[person],
            "sex": sex,
            "condition": np.array(conditions, dtype=object)[condition],
            "block": timing["block"].to_numpy()[block].astype(int),
            "onset_min": timing["onset_min"].to_numpy()[block],
            "offset_min": timing["offset_min"].to_numpy()[block],
            "phase": timing["phase"].to_numpy()[block],
            "expected_ratio": float(mrs["glx_tnaa_mean"]) + intercepts[person] + rise,
        }
    )
    spectra["true_ratio"] = spectra["expected_ratio"] + rng.normal(
        0.0, float(mrs["glx_tnaa_within_sd"]), len(spectra)
    )

    failing = _choose_failing(
        rng, spectra, int(mrs["n_failing_spectra"]), bool(mrs["baseline_spectra_fail"])
    )
    failure = np.full(len(spectra), "", dtype=object)
    failure[list(failing)] = list(failing.values())
    spectra["failure"] = failure
    extra = rng.normal(
        0.0, FAILING_EXTRA_SD_FACTOR * float(mrs["glx_tnaa_within_sd"]), len(spectra)
    )
    spectra["true_ratio"] += np.where(spectra["failure"] != "", extra, 0.0)
    # Drawn last, and only when asked for, so that a study without it keeps every other draw.
    session_sd = float(mrs["glx_tnaa_session_sd"])
    if session_sd > 0:
        sessions = person * 2 + condition
        offsets = rng.normal(0.0, session_sd, 2 * n)
        spectra["true_ratio"] += offsets[sessions]
    return spectra, scales


# Metabolites drawn on their own (Glu and Gln follow from Glx), and every row of a table.
DRAWN = [name for name in METABOLITES if name not in ("Glu", "Gln")]
ROWS = list(METABOLITES) + list(COMBINATIONS)


def _concentrations(
    rng, scale: np.ndarray, ratio: np.ndarray, undetermined: np.ndarray
) -> np.ndarray:
    """Printed (3-decimal) concentrations, one row per spectrum, columns as ROWS."""
    n = len(scale)
    typical = np.array([METABOLITES[name][0] for name in DRAWN])
    log_sd = np.array([METABOLITES[name][1] for name in DRAWN])
    conc = np.zeros((n, len(ROWS)))
    column = {name: j for j, name in enumerate(ROWS)}
    drawn = _round3(
        typical * scale[:, None] * np.exp(rng.normal(0.0, 1.0, (n, len(DRAWN))) * log_sd)
    )
    conc[:, [column[name] for name in DRAWN]] = drawn
    tnaa = _round3(conc[:, column["NAA"]] + conc[:, column["NAAG"]])
    glx = np.maximum(ratio, 0.0) * tnaa
    conc[:, column["Glu"]] = _round3(glx * rng.normal(*GLU_FRACTION, n))
    conc[:, column["Gln"]] = _round3(np.maximum(glx - conc[:, column["Glu"]], 0.0))
    for k, name in enumerate(UNDETERMINED_CANDIDATES, start=1):
        conc[undetermined == k, column[name]] = 0.0
    for name, (parts, _) in COMBINATIONS.items():
        conc[:, column[name]] = _round3(conc[:, [column[part] for part in parts]].sum(axis=1))
    return conc


def _crlbs(rng, conc: np.ndarray, snr: np.ndarray, fwhm: np.ndarray) -> np.ndarray:
    """Printed %SD per spectrum and row: 1..998, 999 for a zero (undetermined) concentration."""
    typical = np.array(
        [
            sum(METABOLITES[part][0] for part in COMBINATIONS[name][0])
            if name in COMBINATIONS
            else METABOLITES[name][0]
            for name in ROWS
        ]
    )
    reference = np.array(
        [COMBINATIONS[name][1] if name in COMBINATIONS else METABOLITES[name][2] for name in ROWS]
    )
    quality = (SNR_REF / snr) * (fwhm / FWHM_REF)
    noise = np.exp(rng.normal(0.0, CRLB_LOG_SD, conc.shape))
    with np.errstate(divide="ignore"):
        percent = reference * quality[:, None] * (typical / conc) * noise
    printed = np.clip(_nint(np.where(conc > 0, percent, 0.0)), 1, 998)
    return np.where(conc > 0, printed, UNDETERMINED_SD).astype(int)


def _quality(rng, session: dict, position: np.ndarray, failure: np.ndarray, thresholds: dict):
    """(S/N, FWHM) per spectrum at printed precision; failure '' passes, 'snr'/'fwhm' fails by
    that."""
    n = len(position)
    snr = session["snr"] * np.exp(rng.normal(0.0, BLOCK_SNR_LOG_SD, n))
    fwhm = session["fwhm"] + session["drift"] * position + rng.normal(0.0, BLOCK_FWHM_SD, n)
    low_snr = rng.uniform(0.45, 0.9, n) * thresholds["min_snr"]
    broad = thresholds["max_fwhm_ppm"] + rng.uniform(0.008, 0.05, n)
    snr = np.where(failure == "snr", low_snr, snr)
    fwhm = np.where(failure == "fwhm", broad, fwhm)
    return np.maximum(1.0, np.round(snr)), _round3(np.maximum(fwhm, 0.01))


def _undetermined_spectra(
    rng: np.random.Generator, spectra: pd.DataFrame, n_undetermined: int
) -> np.ndarray:
    """Per spectrum 0, or k: UNDETERMINED_CANDIDATES[k - 1] is printed 0.000 with 999%; only
    spectra that pass QC are chosen."""
    passing = np.flatnonzero((spectra["failure"] == "").to_numpy())
    if n_undetermined > len(passing):
        raise ValueError(
            f"simulate_mrs: n_undetermined_crlb {n_undetermined} exceeds the passing spectra"
        )
    undetermined = np.zeros(len(spectra), dtype=int)
    chosen = np.sort(rng.choice(passing, size=n_undetermined, replace=False))
    undetermined[chosen] = 1 + rng.integers(len(UNDETERMINED_CANDIDATES), size=len(chosen))
    return undetermined


def _sessions(
    rng: np.random.Generator, participant_scale: np.ndarray, thresholds: dict, n_blocks: int
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(concentration scale per session, session S/N, FWHM and drift per spectrum): one session
    per participant x condition, in the spectra's order."""
    n_sessions = len(participant_scale)
    snr_mean, snr_sd, snr_high = SESSION_SNR
    fwhm_mean, fwhm_sd, fwhm_low = SESSION_FWHM
    snr_low = thresholds["min_snr"] + 6
    fwhm_high = thresholds["max_fwhm_ppm"] - 0.03
    session_scale = participant_scale * np.exp(rng.normal(0.0, SESSION_SCALE_SD, n_sessions))
    session = {
        "snr": _truncated_normal(
            rng,
            snr_mean,
            snr_sd,
            snr_low,
            max(snr_high, snr_low + 10),
            n_sessions,
            "session S/N",
        ),
        "fwhm": _truncated_normal(
            rng, fwhm_mean, fwhm_sd, fwhm_low, fwhm_high, n_sessions, "session FWHM"
        ),
        "drift": np.where(
            rng.random(n_sessions) < DRIFT_SESSION_FRACTION,
            rng.uniform(*DRIFT_PPM, n_sessions),
            0.0,
        ),
    }
    return session_scale, {key: np.repeat(value, n_blocks) for key, value in session.items()}


def _quality_meeting_qc(
    rng: np.random.Generator,
    spectra: pd.DataFrame,
    session: dict,
    position: np.ndarray,
    conc: np.ndarray,
    thresholds: dict,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(S/N, FWHM, %SD) per spectrum, drawn again for the spectra that miss their intended QC
    outcome (spectra["failure"]) until none does."""
    failure = spectra["failure"].to_numpy()
    glx, tnaa = ROWS.index("Glu+Gln"), ROWS.index("NAA+NAAG")
    snr, fwhm = _quality(rng, session, position, failure, thresholds)
    sds = _crlbs(rng, conc, snr, fwhm)
    for _ in range(MAX_REDRAWS):
        beyond = beyond_thresholds(np.maximum(sds[:, glx], sds[:, tnaa]), fwhm, snr, thresholds)
        fails = beyond["crlb"] | beyond["fwhm"] | beyond["snr"]
        again = np.flatnonzero(fails != (failure != ""))
        if not len(again):
            return snr, fwhm, sds
        part = {key: value[again] for key, value in session.items()}
        snr[again], fwhm[again] = _quality(rng, part, position[again], failure[again], thresholds)
        sds[again] = _crlbs(rng, conc[again], snr[again], fwhm[again])
    row = spectra.iloc[again[0]]
    kind = "failing" if row["failure"] else "passing"
    raise ValueError(
        f"simulate_mrs: could not draw a {kind} spectrum for {row['participant_id']} "
        f"{row['condition']} block {row['block']}; check the QC thresholds"
    )


def _table_files(
    rng: np.random.Generator,
    spectra: pd.DataFrame,
    conc: np.ndarray,
    sds: np.ndarray,
    snr: np.ndarray,
    fwhm: np.ndarray,
) -> dict[str, str]:
    """The LCModel .table of each spectrum, path -> text in the spectra's order; the fit details
    that QC does not read (shift, phases, regularisation, baseline) drawn from rng."""
    n = len(spectra)
    pids = spectra["participant_id"].to_numpy()
    conditions = spectra["condition"].to_numpy()
    blocks = spectra["block"].to_numpy()
    folders = [f"{p}/ses-{c}/mrs" for p, c in zip(pids, conditions)]
    stems = [f"{p}_ses-{c}_block-{b:02d}" for p, c, b in zip(pids, conditions, blocks)]
    texts = write_tables(
        ROWS,
        conc,
        sds,
        fwhm=fwhm,
        snr=snr,
        data_shift_ppm=_round3(rng.normal(0.0, 0.01, n)),
        phase0_deg=np.clip(np.round(rng.normal(0.0, 15.0, n)), -180, 180),
        phase1_deg_per_ppm=np.round(rng.normal(0.0, 3.0, n), 1),
        alpha_b=10 ** rng.uniform(-1.5, -0.3, n),
        alpha_s=10 ** rng.uniform(-1.0, 0.0, n),
        spline_knots=rng.integers(24, 33, n),
        inflections=rng.integers(1, 4, n),
        extrema=rng.integers(0, 3, n),
        titles=[
            f"{p} ses-{c} block-{b:02d} SYNTHETIC (simulated, not measured)"
            for p, c, b in zip(pids, conditions, blocks)
        ],
        input_changes=[
            (f" filbas='{BASIS_NAME}'", f" filtab='{stem}.table'", " ltable=7") for stem in stems
        ],
    )
    return {f"{folder}/{stem}.table": text for folder, stem, text in zip(folders, stems, texts)}


def _block_sidecars(spectra: pd.DataFrame, timing: pd.DataFrame) -> dict[str, str]:
    """The block timing beside each session's tables, path -> text."""
    lines = ["block\tonset_min\toffset_min\tphase"]
    lines += [
        f"{b.block}\t{b.onset_min:.1f}\t{b.offset_min:.1f}\t{b.phase}"
        for b in timing.itertuples(index=False)
    ]
    sidecar = "\n".join(lines) + "\n"
    sessions = spectra.iloc[:: len(timing)]
    return {
        f"{p}/ses-{c}/mrs/{p}_ses-{c}_blocks.tsv": sidecar
        for p, c in zip(sessions["participant_id"], sessions["condition"])
    }


def simulate_mrs_study(
    participants: pd.DataFrame,
    settings: dict,
    rng: np.random.Generator,
    site_offsets: np.ndarray | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """(spectra, files): the generative truth per spectrum and the files as path -> text.

    Every draw is made for all spectra at once, in a fixed order of parts (each from its own
    child stream of rng); only the spectra that miss their intended QC outcome are drawn again.
    """
    thresholds = thresholds_of(settings)
    timing = block_timing(settings)
    n_blocks = len(timing)
    # The latent truth takes rng itself, as power replicates do; the other parts take children
    # (spawning does not advance rng), so the embedded study keeps the Glx/tNAA truth it had.
    spectra, scales = latent_spectra(participants, settings, rng, site_offsets=site_offsets)
    choice_rng, session_rng, spectrum_rng, quality_rng, misc_rng = rng.spawn(5)
    undetermined = _undetermined_spectra(
        choice_rng, spectra, int(settings["mrs"]["n_undetermined_crlb"])
    )
    spectra["undetermined_metabolite"] = np.array(("",) + UNDETERMINED_CANDIDATES, dtype=object)[
        undetermined
    ]
    participant_scale = np.array([scales[pid] for pid in spectra["participant_id"][::n_blocks]])
    session_scale, session = _sessions(session_rng, participant_scale, thresholds, n_blocks)
    position = (spectra["block"].to_numpy() - 1) / max(1, n_blocks - 1)
    conc = _concentrations(
        spectrum_rng,
        np.repeat(session_scale, n_blocks),
        spectra["true_ratio"].to_numpy(),
        undetermined,
    )
    snr, fwhm, sds = _quality_meeting_qc(quality_rng, spectra, session, position, conc, thresholds)
    tables = _table_files(misc_rng, spectra, conc, sds, snr, fwhm)
    files = {**tables, **_block_sidecars(spectra, timing)}
    glx, tnaa = ROWS.index("Glu+Gln"), ROWS.index("NAA+NAAG")
    spectra["path"] = list(tables)
    spectra["snr"] = snr
    spectra["fwhm_ppm"] = fwhm
    spectra["glx"] = conc[:, glx]
    spectra["tnaa"] = conc[:, tnaa]
    spectra["glx_crlb"] = sds[:, glx].astype(float)
    spectra["tnaa_crlb"] = sds[:, tnaa].astype(float)
    spectra["drift_ppm"] = session["drift"]
    spectra["fails_qc"] = spectra["failure"] != ""
    spectra["printed_ratio"] = spectra["glx"] / spectra["tnaa"]
    return spectra, dict(sorted(files.items()))


def simulate_mrs(
    participants: pd.DataFrame, settings: dict, rng: np.random.Generator, site_offsets=None
) -> dict[str, str]:
    """Every fMRS file of the synthetic study: relative path -> text (tables and block sidecars)."""
    return simulate_mrs_study(participants, settings, rng, site_offsets)[1]
