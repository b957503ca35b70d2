"""Column order of the tidy tables every parser and the simulator agree on."""

# One row per participant x condition x block x metabolite.
MRS_COLUMNS = [
    "participant_id",
    "condition",
    "block",
    "onset_min",
    "offset_min",
    "metabolite",  # canonical name: Glu, Gln, Glx, NAA, NAAG, tNAA, Cr, PCr, tCr, ...
    "tool_metabolite",  # the name the fitting tool used, e.g. Glu+Gln
    "concentration",  # tool units (institutional units for LCModel without water scaling)
    "crlb_percent",  # %SD (Cramer-Rao lower bound); NaN where the tool marks it undetermined
    "crlb_undetermined",  # True where the tool gave no usable %SD (LCModel 999%)
    "ratio_to_tcr",  # concentration / tCr as reported by the tool (or computed)
    "fwhm_ppm",
    "snr",
    "snr_definition",  # SNR differs between tools: keep the tool's definition beside it
    "source_tool",
    "source_file",
]

# Tool names of combined metabolites and their canonical names. LCModel (CHCOMB) and FSL-MRS
# (--combine) join the parts with '+'; Osprey already writes Glx, tNAA, tCr, tCho (canonical).
CANONICAL_METABOLITES = {
    "Glu+Gln": "Glx",
    "Gln+Glu": "Glx",
    "NAA+NAAG": "tNAA",
    "NAAG+NAA": "tNAA",
    "Cr+PCr": "tCr",
    "PCr+Cr": "tCr",
    "Cre+PCr": "tCr",  # LCModel's older basis sets spell creatine 'Cre'
    "GPC+PCh": "tCho",
    "PCh+GPC": "tCho",
    "GPC+PCho": "tCho",  # basis sets that spell phosphocholine PCho (FSL-MRS --combine keeps the names)
    "PCho+GPC": "tCho",
    "Ins": "Ins",
    "mI": "Ins",
}
