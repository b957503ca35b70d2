"""One metabolite vocabulary for every tool and basis set.

Each tool spells metabolites as its basis set does: LCModel 'Ins', FSL-MRS 'mIns'/'Ins',
Osprey 'mI', jMRUI/Tarquin 'Glth'; combinations are joined with '+' (LCModel CHCOMB, FSL-MRS
--combine) or, in Osprey's LCModel mode, with '_' (MATLAB table variable names cannot hold '+').
The canonical names are the LCModel names the embedded study uses, so its tables keep their
names; the full list is in docs/data_formats.md (test_vocabulary checks the two agree).
"""

from __future__ import annotations

# canonical name -> every spelling met in the common basis sets (LCModel, FSL-MRS, Osprey,
# Tarquin, jMRUI, INSPECTOR), compared case-sensitively as the tools write them.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "Ala": ("Ala",),
    "Asc": ("Asc", "AscH"),
    "Asp": ("Asp",),
    "Cr": ("Cr", "Cre", "Creatine"),
    "PCr": ("PCr",),
    "GABA": ("GABA", "Gaba"),
    "Glc": ("Glc",),
    "Gln": ("Gln",),
    "Glu": ("Glu",),
    "Gly": ("Gly",),
    "GPC": ("GPC",),
    "PCh": ("PCh", "PCho"),
    "GSH": ("GSH", "Glth"),
    "Ins": ("Ins", "mI", "mIns", "myo-Ins", "MyoI"),
    "Scyllo": ("Scyllo", "sIns", "sI", "Scy", "ScyIns"),
    "Lac": ("Lac",),
    "NAA": ("NAA",),
    "NAAG": ("NAAG",),
    "PE": ("PE", "PEth"),
    "Ser": ("Ser",),
    "Tau": ("Tau",),
    # LCModel's negative creatine CH2 term (basis entry '-CrCH2', Osprey: 'CrCH2'): a correction
    # of the creatine model, not a metabolite; kept under one name so it is never mistaken.
    "CrCH2": ("CrCH2", "-CrCH2"),
    # Sums reported under their own names (Osprey appends them; tidy tables may carry them).
    "Glx": ("Glx",),
    "tNAA": ("tNAA",),
    "tCr": ("tCr",),
    "tCho": ("tCho",),
}

# Combinations: canonical name -> its parts (canonical). A tool name of parts joined by '+'
# or '_' in any order (Glu+Gln, Gln+Glu, Glu_Gln, PCho+GPC, Cre+PCr, ...) is the combination.
COMBINED: dict[str, tuple[str, ...]] = {
    "Glx": ("Glu", "Gln"),
    "tNAA": ("NAA", "NAAG"),
    "tCr": ("Cr", "PCr"),
    "tCho": ("GPC", "PCh"),
}

_BY_SPELLING = {spelling: name for name, spellings in SYNONYMS.items() for spelling in spellings}
_BY_PARTS = {frozenset(parts): name for name, parts in COMBINED.items()}


def canonical_name(tool_name: str) -> str:
    """Canonical metabolite name (Glu+Gln -> Glx, Glth -> GSH, ...); unknown names keep theirs."""
    if tool_name in _BY_SPELLING:
        return _BY_SPELLING[tool_name]
    for separator in ("+", "_"):
        if separator in tool_name:
            parts = [_BY_SPELLING.get(part) for part in tool_name.split(separator)]
            if None not in parts and len(set(parts)) == len(parts):
                return _BY_PARTS.get(frozenset(parts), tool_name)
    return tool_name


def parts_of(name: str) -> tuple[str, ...]:
    """The canonical parts of a canonical combined name (Glx -> Glu, Gln); () for others."""
    return COMBINED.get(name, ())
