"""lmmkit: linear mixed models fitted by REML in lme4's sparse formulation, with Satterthwaite
(lmerTest) and Kenward-Roger (pbkrtest) F tests.

Random intercepts, correlated and uncorrelated random slopes, nested and crossed groupings.
Cost and memory grow linearly with the observations for designs nested in one factor (see
reml.py). Formulas are coded as R's model.matrix codes them (see design.py).
"""

from .api import LmerFit, LmerSummary, lmer
from .errors import LmmInputError
from .fit import check_design, fit_lmm
from .formula import Formula, RandomTerm, parse_formula
from .inference import ANOVA_COLUMNS, DDF_METHODS, FIXED_COLUMNS, LmmResult

__all__ = [
    "ANOVA_COLUMNS",
    "DDF_METHODS",
    "FIXED_COLUMNS",
    "LmerFit",
    "LmerSummary",
    "LmmInputError",
    "Formula",
    "LmmResult",
    "RandomTerm",
    "check_design",
    "fit_lmm",
    "lmer",
    "parse_formula",
]
