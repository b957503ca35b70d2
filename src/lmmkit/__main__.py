"""Command line: fit one model to a tab-separated file, print its type III table and diagnostics.

    python -m lmmkit FORMULA DATA.tsv [--ddf satterthwaite|kenward-roger] [--na-values V ...]
        [--out TABLE.tsv] [--factors a,b] [--levels condition:placebo,drug]

Missing values are read as R's read.delim reads them: an empty cell or `NA`; any other text
(`None`, `n/a`, `null`, ...) is a value, so in a text column a level, unless --na-values names
it. Columns whose every value is a number are numeric, the others factors (--factors makes a
numeric column a factor).

Output: the ANOVA table as TSV (term sum_sq mean_sq num_df den_df F p, numbers %.10g), a blank
line, the diagnostics (rows used and dropped, converged by lme4's scaled-gradient check,
singular and why, fixed-effect columns dropped), a blank line, the variance components (lme4's
as.data.frame(VarCorr)). --out writes the table alone. Bad input: one line `error: ...` on
stderr and exit status 1. A reader that closes early (`| head -1`) ends it quietly, exit status
141 (128 + SIGPIPE) as for a command killed by SIGPIPE.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

import numpy as np
import pandas as pd

from .api import ANOVA_TABLE_COLUMNS, LmerFit, lmer
from .checks import GRAD_TOL
from .errors import LmmInputError

# What R's read.delim reads as missing by default: an empty field and the string NA.
R_NA_VALUES = ("", "NA")
# Exit status when stdout's reader has gone: the shell's status of a process killed by SIGPIPE.
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE


def _format(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "NA"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{float(value):.10g}"


def _tsv(frame: pd.DataFrame) -> str:
    lines = ["\t".join(frame.columns)]
    for row in frame.itertuples(index=False):
        lines.append("\t".join(_format(v) for v in row))
    return "\n".join(lines) + "\n"


def read_data(path: str, na_values: list[str], as_text: list[str]) -> pd.DataFrame:
    """The TSV as R's read.delim reads it: missing = empty or NA (plus na_values)."""
    try:
        return pd.read_csv(
            path,
            sep="\t",
            keep_default_na=False,
            na_values=[*R_NA_VALUES, *na_values],
            dtype={name: str for name in as_text} or None,
        )
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise LmmInputError(
            path, None, None, "a readable tab-separated file with a header", str(err)
        ) from None


def diagnostics(fit: LmerFit) -> list[str]:
    """The fit's diagnostics, one per line: rows, convergence, singularity, dropped columns."""
    total = fit.nobs + fit.n_dropped
    lines = [f"rows used\t{fit.nobs} of {total}"]
    lines.append(
        f"rows dropped\t{fit.n_dropped}"
        + (" (a missing value in a variable of the model)" if fit.n_dropped else "")
    )
    groups = ", ".join(f"{name} {n}" for name, n in fit.ngrps.items())
    lines.append(f"groups\t{groups}")
    if fit.singular:
        lines.append("converged\tyes (singular fit: lme4 checks no gradient)")
    elif fit.converged:
        lines.append(
            f"converged\tyes (lme4's check: max|scaled gradient| {fit.max_grad:.2g}"
            f" <= {GRAD_TOL:g}, Hessian positive definite)"
        )
    else:
        failures = [m for m in fit.messages if not m.startswith("boundary")]
        lines.append(f"converged\tno: {'; '.join(failures)}")
    if fit.singular:
        lines.append(f"singular\tyes: {'; '.join(fit.singular_reasons)}")
    else:
        lines.append("singular\tno")
    dropped = fit.dropped_columns
    lines.append(
        "fixed-effect columns dropped (rank deficiency)\t"
        + (", ".join(dropped) if dropped else "none")
    )
    return lines


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lmmkit",
        description="Fit a linear mixed model by REML (lme4's formulation) and print its type III "
        "F tests (lmerTest's Satterthwaite or Kenward-Roger df) and diagnostics.",
    )
    parser.add_argument("formula", help='e.g. "y ~ condition * time + (1 | participant)"')
    parser.add_argument("data", help="tab-separated file with a header row")
    parser.add_argument(
        "--ddf",
        default="satterthwaite",
        type=str.lower,
        choices=["satterthwaite", "kenward-roger"],
        help="denominator df (default satterthwaite)",
    )
    parser.add_argument(
        "--na-values",
        nargs="+",
        default=[],
        metavar="V",
        help="more strings to read as missing (always: an empty cell and NA)",
    )
    parser.add_argument("--out", help="write the ANOVA table to this TSV file")
    parser.add_argument(
        "--factors", default="", help="numeric columns to treat as factors, comma-separated"
    )
    parser.add_argument(
        "--levels",
        action="append",
        default=[],
        help="level order, first the reference, e.g. condition:placebo,drug (repeatable)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        levels = {}
        for spec in args.levels:
            column, _, values = spec.partition(":")
            if not column or not values:
                raise LmmInputError("--levels", None, None, "column:level1,level2,...", spec)
            levels[column] = values.split(",")
        factors = [name for name in args.factors.split(",") if name]
        data = read_data(args.data, args.na_values, [*factors, *levels])
        for name in factors:
            if name not in data.columns:
                raise LmmInputError(
                    args.data, "--factors", name, "a column of the data", sorted(data.columns)
                )
        fit = lmer(args.formula, data, levels=levels or None, data_name=args.data)
        table = fit.anova(type=3, ddf=args.ddf)
        if args.out:
            try:
                with open(args.out, "w", encoding="utf-8", newline="") as handle:
                    handle.write(_tsv(table[ANOVA_TABLE_COLUMNS]))
            except OSError as err:
                raise LmmInputError(args.out, "--out", None, "a writable file", str(err)) from None
    except LmmInputError as err:
        print(f"error: {' '.join(str(err).split())}", file=sys.stderr)
        return 1
    text = "\n".join([_tsv(table), *diagnostics(fit), "", _tsv(fit.varcorr)])
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped early (e.g. `| head -1`): no traceback, as a C tool killed by
        # SIGPIPE; stdout goes to devnull so the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return 0


if __name__ == "__main__":
    sys.exit(main())
