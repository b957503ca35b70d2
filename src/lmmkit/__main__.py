"""Command line: fit one model to a TSV file and print its type III table and variance components.

    python -m lmmkit --data FILE.tsv --formula "y ~ a * b + (1 | id)" \
        [--ddf Satterthwaite|Kenward-Roger] [--factors block,period]
        [--levels condition:placebo,naltrexone]

Output (TSV, numbers %.10g): `term F df_num df_den p`, a blank line, then `name variance sd`
(for random slopes also 'group cor(a,b)' rows whose variance column is the covariance and sd
column the correlation, as lme4's as.data.frame(VarCorr)). Bad input: one line
`error: ...` on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

from .errors import LmmInputError
from .fit import fit_lmm
from .inference import DDF_METHODS


def _format(value) -> str:
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{float(value):.10g}"


def _table(frame: pd.DataFrame) -> str:
    lines = ["\t".join(frame.columns)]
    for row in frame.itertuples(index=False):
        lines.append("\t".join(v if isinstance(v, str) else _format(v) for v in row))
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lmmkit", description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="tab-separated file with a header row")
    parser.add_argument(
        "--formula", required=True, help='e.g. "ratio ~ condition * block + (1 | participant_id)"'
    )
    parser.add_argument("--ddf", default="Satterthwaite", help=" or ".join(DDF_METHODS))
    parser.add_argument(
        "--factors", default="", help="numeric columns to treat as factors, comma-separated"
    )
    parser.add_argument(
        "--levels",
        action="append",
        default=[],
        help="level order, e.g. condition:placebo,naltrexone",
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
        try:
            data = pd.read_csv(
                args.data, sep="\t", dtype={name: str for name in [*factors, *levels]}
            )
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
            raise LmmInputError(
                args.data, None, None, "a readable tab-separated file with a header", str(err)
            ) from None
        for name in factors:  # read as text above, so a factor
            if name not in data.columns:
                raise LmmInputError(
                    args.data,
                    "--factors",
                    name,
                    "a column of the data",
                    sorted(map(str, data.columns)),
                )
        result = fit_lmm(data, args.formula, levels=levels or None, source=args.data, ddf=args.ddf)
    except LmmInputError as err:
        print(f"error: {' '.join(str(err).split())}", file=sys.stderr)
        return 1
    anova = result.anova[["term", "F", "df_num", "df_den", "p"]]
    print(_table(anova))
    print()
    print(_table(result.variance_components[["name", "variance", "sd"]]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
