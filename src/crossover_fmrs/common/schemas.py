"""The tables the stages hand to each other, each as one pandera schema: its columns, their kinds,
where a value may be missing (NaN, never filled), the allowed values and the key that names a row.

- Schemas: `participants_schema`, `mrs_long_schema`, `clinical_scores_schema`, `spectra_schema`,
  `qc_flags_schema`, `flow_schema`, `stats_schema` (the tests of results/stats/*_lmm.tsv,
  *_rm_anova.tsv, sex_*.tsv, crossover_checks.tsv), `models_schema`, `attenuation_schema`,
  `site_effects_schema`, `power_schema`. Allowed values that come from config (conditions, scales
  and their time points) are arguments; None leaves that check to the step that has the setting.
- `read_checked(path, schema)`: a table as `read_table` reads it (a TSV's text layout first
  checked by `check_tsv_layout`), validated, its columns converted to the schema's kinds;
  `validate(frame, schema, source)` for a frame in memory. Either raises one InputError naming
  the file, the line (or row) and its participant, the column and what was expected; a step
  (common.step.run_step) prints it as one line and exits 1.

Columns a step needs are required; provenance columns (source files, notes) are checked when
present. Columns the schema does not name pass untouched (participants.tsv keeps its baseline
characteristics). Every check is vectorised (pandas operations over whole columns), so validation
is linear in the rows.
"""

from __future__ import annotations

from itertools import permutations
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from .errors import InputError
from .tables import check_tsv_layout, read_table

PARTICIPANT_PATTERN = r"sub-[A-Za-z0-9]+"
SEX_CODES = ("M", "F")
PHASES = ("baseline", "infusion")
BOOLEANS = {"true": True, "false": False}


# ---------------------------------------------------------------------------------------------
# Column kinds: each column's description says what a value is, in the words of an error message.


def _parse_bool(series: pd.Series) -> pd.Series:
    """True/False in any case to booleans; other text stays as it is, for the isin check to name.
    Our own: pandas' astype(bool), which pandera's coercion uses, makes any non-empty text True."""
    if pd.api.types.is_bool_dtype(series):
        return series
    parsed = series.astype("str").str.strip().str.lower().map(BOOLEANS)
    bad = parsed.isna() & series.notna()
    if bad.any() or parsed.isna().any():
        return parsed.astype(object).where(~bad, series)
    return parsed.astype(bool)


def _keep_fractions(series: pd.Series) -> pd.Series:
    """A number with a fraction kept as its text, so that the whole-number coercion names it.
    Our own: pandas' astype(int64), which pandera's coercion uses, drops a fraction silently."""
    if not pd.api.types.is_float_dtype(series):
        return series
    fraction = series.notna() & (series != np.round(series))
    if not fraction.any():
        return series
    return series.astype(object).where(~fraction, series.astype("str"))


def text(*checks: pa.Check, nullable: bool = False, required: bool = True) -> pa.Column:
    return pa.Column(
        str, list(checks), nullable=nullable, required=required, coerce=True, description="text"
    )


def number(
    *checks: pa.Check, nullable: bool = True, required: bool = True, what: str = "a number"
) -> pa.Column:
    return pa.Column(
        "float64", list(checks), nullable=nullable, required=required, coerce=True, description=what
    )


def whole(*checks: pa.Check, required: bool = True) -> pa.Column:
    return pa.Column(
        "int64",
        list(checks),
        required=required,
        coerce=True,
        parsers=pa.Parser(_keep_fractions),
        description="a whole number",
    )


def flag(nullable: bool = False, required: bool = True) -> pa.Column:
    """True or False: bool, or object with NaN where a value may be missing."""
    return pa.Column(
        None if nullable else bool,
        pa.Check.isin([True, False], error="True or False"),
        nullable=nullable,
        required=required,
        parsers=pa.Parser(_parse_bool),
        description="True or False",
    )


def one_of(values, what: str = "") -> pa.Check:
    values = list(values)
    return pa.Check.isin(values, error=f"one of {', '.join(map(str, values))}{what}")


def _conditions(conditions) -> list[pa.Check]:
    return [] if conditions is None else [one_of(conditions, " (the configured conditions)")]


def _table(columns: dict, keys: list[str], name: str, checks=(), unique_text=None):
    """A schema whose rows are named by `keys` (one row per key)."""
    return pa.DataFrameSchema(
        columns,
        checks=list(checks),
        unique=keys if len(keys) > 1 else None,
        report_duplicates="exclude_first",
        name=name,
        metadata={"keys": keys, "unique": unique_text or f"one row per {' x '.join(keys)}"},
    )


SPECTRUM_KEYS = ["participant_id", "condition", "block"]


def _spectrum_key_columns(conditions) -> dict:
    return {
        "participant_id": text(),
        "condition": text(*_conditions(conditions)),
        "block": whole(pa.Check.ge(1, error="a block number 1, 2, ...")),
    }


# ---------------------------------------------------------------------------------------------
# The tables


def participants_schema(conditions=None) -> pa.DataFrameSchema:
    """results/tidy/participants.tsv, and the study's participants.tsv it is read from."""
    order_checks = []
    if conditions is not None:
        order_checks.append(
            pa.Check.isin(
                ["-".join(order) for order in permutations(conditions)],
                error="the configured conditions joined by '-' in the order given, e.g. "
                + "-".join(conditions),
            )
        )
    columns = {
        "participant_id": pa.Column(
            str,
            pa.Check.str_matches(rf"^{PARTICIPANT_PATTERN}$", error="an ID like sub-01"),
            unique=True,
            report_duplicates="exclude_first",
            coerce=True,
        ),
        "sex": text(one_of(SEX_CODES)),
        "age": number(
            pa.Check.in_range(
                0,
                120,
                include_min=False,
                include_max=False,
                error="an age in years between 0 and 120",
            ),
            nullable=False,
            what="a number of years",
        ),
        "order": text(*order_checks),
        "site": text(required=False),
    }
    return _table(columns, ["participant_id"], "participants", unique_text="each participant once")


def mrs_long_schema(conditions=None) -> pa.DataFrameSchema:
    """results/tidy/mrs_long.tsv (and its batches): one row per spectrum x metabolite."""
    columns = {
        **_spectrum_key_columns(conditions),
        "onset_min": number(nullable=False),
        "offset_min": number(nullable=False),
        "metabolite": text(),
        "tool_metabolite": text(),
        "concentration": number(),
        "crlb_percent": number(),
        "crlb_undetermined": flag(),
        "ratio_to_tcr": number(),
        "fwhm_ppm": number(),
        "snr": number(),
        "snr_definition": text(nullable=True, required=False),
        "source_tool": text(required=False),
        "source_file": text(required=False),
    }
    return _table(columns, [*SPECTRUM_KEYS, "metabolite"], "mrs_long")


def clinical_scores_schema(conditions=None, scales: dict | None = None) -> pa.DataFrameSchema:
    """results/tidy/clinical_scores.tsv: one row per participant x condition x time point x
    outcome; `scales` ({scale: {"timepoints": [...]}}, config clinical.scales) names the scales
    and the time points of each."""
    checks = []
    if scales is not None:
        allowed = pd.MultiIndex.from_tuples(
            [(scale, t) for scale, spec in scales.items() for t in spec["timepoints"]]
        )
        listed = "; ".join(f"{s}: {', '.join(spec['timepoints'])}" for s, spec in scales.items())
        checks.append(
            pa.Check(
                lambda frame: (
                    pd.Series(
                        pd.MultiIndex.from_frame(frame[["scale", "timepoint"]]).isin(allowed),
                        index=frame.index,
                    )
                    | frame["timepoint"].isna()
                ),  # named by the timepoint column's own check
                error=f"a time point of its scale ({listed})",
                title="timepoint",  # the column an error names
                ignore_na=False,  # else a row with any missing value would pass
            )
        )
    columns = {
        "participant_id": text(),
        "condition": text(*_conditions(conditions)),
        "timepoint": text(),
        "hours_from_infusion": number(),
        "scale": text(*([] if scales is None else [one_of(scales, " (the configured scales)")])),
        "outcome": text(),
        "value": number(),
        "n_items": whole(required=False),
        "n_items_missing": whole(required=False),
        "scoring_note": text(required=False),
        "source_file": text(required=False),
    }
    keys = ["participant_id", "condition", "outcome", "timepoint"]
    return _table(columns, keys, "clinical_scores", checks)


def spectra_schema(conditions=None) -> pa.DataFrameSchema:
    """results/qc/mrs_spectra.tsv and .parquet (and their batches): one row per spectrum, with its
    ratio (NaN where it cannot be formed), quality measures and QC decision."""
    columns = {
        **_spectrum_key_columns(conditions),
        "onset_min": number(nullable=False),
        "offset_min": number(nullable=False),
        "numerator": text(),
        "denominator": text(),
        "numerator_concentration": number(required=False),
        "denominator_concentration": number(required=False),
        "ratio": number(),
        "reason": text(nullable=True, required=False),
        "source_file": text(required=False),
        "fwhm_ppm": number(),
        "snr": number(),
        "numerator_crlb_percent": number(),
        "numerator_undetermined": flag(nullable=True, required=False),
        "denominator_crlb_percent": number(),
        "denominator_undetermined": flag(nullable=True, required=False),
        "undetermined": flag(required=False),
        "phase": text(one_of(PHASES)),
        "flags": text(nullable=True),
        "excluded_by": text(nullable=True),
        "not_evaluated": text(nullable=True, required=False),
        "included": flag(),
        "quality_not_evaluated": flag(required=False),
    }
    return _table(columns, SPECTRUM_KEYS, "mrs_spectra")


def qc_flags_schema(conditions=None) -> pa.DataFrameSchema:
    """results/qc/mrs_qc_flags.tsv: the QC decision of every spectrum x criterion."""
    columns = {
        **_spectrum_key_columns(conditions),
        "criterion": text(),
        "value": number(),
        "threshold": number(nullable=False),
        "rule": text(nullable=True),
        "available": flag(),
        "flagged": flag(),
    }
    return _table(columns, [*SPECTRUM_KEYS, "criterion"], "mrs_qc_flags")


def flow_schema() -> pa.DataFrameSchema:
    """results/stats/participant_flow.tsv: the stages of the participant flow (one row a box)."""
    columns = {
        "step": whole(),
        "tier": whole(),
        "arm": text(),
        "stage": text(),
        "condition": text(),
        "n_participants": whole(),
        "n_observations": number(),
        "unit": text(nullable=True),
        "note": text(nullable=True),
    }
    return pa.DataFrameSchema(columns, name="participant_flow")


def _result_columns() -> dict:
    return {"analysis": text(), "outcome": text(), "subset": text(), "model": text()}


def stats_schema() -> pa.DataFrameSchema:
    """The F tests of results/stats (mixed models and rm-ANOVA): one row per term of a model;
    a statistic a model could not give is NaN."""
    columns = {
        **_result_columns(),
        "term": text(),
        **{name: number() for name in ("estimate", "se", "F", "df_num", "df_den", "p")},
        "effect_size": number(),
        "effect_size_kind": text(nullable=True),
        "n_participants": whole(),
        "n_observations": whole(),
        "df_method": text(nullable=True),
    }
    return _table(columns, ["analysis", "outcome", "subset", "model", "term"], "stats")


def models_schema() -> pa.DataFrameSchema:
    """The variance components and fit diagnostics of results/stats/*_models.tsv."""
    columns = {
        **_result_columns(),
        "component": text(),
        "variance": number(),
        "sd": number(),
        "converged": flag(),
        "singular": flag(),
        "reml_criterion": number(),
        "optimizer_message": text(nullable=True),
        "n_participants": whole(),
        "n_observations": whole(),
        "n_dropped_missing": whole(),
    }
    return _table(columns, ["analysis", "outcome", "subset", "model", "component"], "models")


def attenuation_schema() -> pa.DataFrameSchema:
    """results/stats/attenuation.tsv: the reductions and their difference with bootstrap CIs."""
    columns = {
        "analysis": text(),
        "outcome": text(),
        "subset": text(),
        "condition": text(),
        "term": text(),
        **{name: number() for name in ("estimate", "ci_low", "ci_high", "ci_level")},
        "n_resamples": whole(),
        "n_pairs": whole(),
        "n_excluded": whole(),
        "warning": text(nullable=True),
    }
    return _table(columns, ["analysis", "outcome", "subset", "condition", "term"], "attenuation")


def site_effects_schema() -> pa.DataFrameSchema:
    """results/stats/site_effects.tsv: each site's condition effect and the pooled estimates."""
    columns = {
        "level": text(),
        "site": text(),
        "n_participants": whole(),
        "estimate": number(),
        "se": number(),
        "ci_low": number(),
        "ci_high": number(),
        **{
            name: number(required=False)
            for name in (
                "n_observations",
                "df",
                "p",
                "site_variance",
                "tau2",
                "i2_percent",
                "q",
                "q_df",
                "q_p",
            )
        },
        "method": text(nullable=True, required=False),
        "note": text(nullable=True, required=False),
    }
    return _table(columns, ["level", "site"], "site_effects")


def power_schema() -> pa.DataFrameSchema:
    """results/power/power.tsv: the estimated power of each test at each cell of the grid."""
    columns = {
        "test": text(),
        "effect": number(nullable=False),
        "session_sd": number(nullable=False),
        "n_participants": whole(),
        "replicates": whole(),
        "rejections": whole(required=False),
        "power": number(),
        "ci_low": number(),
        "ci_high": number(),
        "alpha": number(required=False),
        "median_p": number(required=False),
    }
    return _table(columns, ["test", "effect", "session_sd", "n_participants"], "power")


# ---------------------------------------------------------------------------------------------
# Validation


def read_checked(path: str | Path, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """The table at path (TSV, or Parquet by its suffix) validated against schema; the path
    travels with the frame in `frame.attrs["source"]`."""
    path = str(path)
    if not Path(path).is_file():
        raise InputError(path, None, None, "an existing file", "no such file")
    tsv = not path.endswith(".parquet")
    if tsv:
        check_tsv_layout(path)
    return validate(read_table(path), schema, path, lines=tsv)


def validate(
    frame: pd.DataFrame, schema: pa.DataFrameSchema, source=None, lines: bool = False
) -> pd.DataFrame:
    """frame validated against schema, its columns converted to the schema's kinds (in place);
    else one InputError for the first fault (rows counted as the lines of a TSV with `lines`)."""
    source = str(source or frame.attrs.get("source", "<table>"))
    try:
        valid = schema.validate(frame, lazy=True, inplace=True)
    except SchemaErrors as err:
        raise _input_error(err.failure_cases, frame, schema, source, lines) from None
    except SchemaError as err:  # raised alone by some checks even when lazy
        raise _input_error(err.failure_cases, frame, schema, source, lines) from None
    valid.attrs["source"] = source
    return valid


def _input_error(cases, frame, schema, source: str, lines: bool) -> InputError:
    """The first fault of pandera's failure cases as one line: a missing column first, then the
    fault in the earliest row (columns in the schema's order), then faults of a whole column."""
    if not isinstance(cases, pd.DataFrame):  # a fault of the whole table, as text
        return InputError(source, None, None, f"a table of the layout {schema.name}", str(cases))
    wide = (cases["schema_context"] == "DataFrameSchema") & cases["check_number"].notna()
    # a check of several columns names the column it is about (its title)
    cases.loc[wide, "column"] = [
        schema.checks[int(n)].title for n in cases.loc[wide, "check_number"]
    ]
    order = {name: i for i, name in enumerate(schema.columns)}
    cases = cases.assign(
        _present=cases["check"].astype(str) != "column_in_dataframe",
        _row=[np.inf if pd.isna(i) else frame.index.get_loc(i) for i in cases["index"]],
        _column=cases["column"].map(order).fillna(len(order)),
        _wide=wide,
    ).sort_values(["_present", "_row", "_column"], kind="stable")
    case = cases.iloc[0]
    check, column, got = str(case["check"]), case["column"], case["failure_case"]
    if check == "column_in_dataframe":
        where = "line 1" if lines else "header"
        return InputError(source, where, got, "a column of this name in the header", list(frame))
    row = None if np.isinf(case["_row"]) else int(case["_row"])
    where = _place(frame, row, lines)
    if check in ("multiple_fields_uniqueness", "field_uniqueness"):
        keys = schema.metadata["keys"]
        return _duplicate(frame, row, keys, source, where, schema.metadata["unique"], lines)
    if case["_wide"] or column not in schema.columns:
        value = frame[column].iloc[row] if row is not None and column in frame else got
        return InputError(source, where, column, check, value)
    kind = schema.columns[column].description
    if check == "not_nullable" or (check.startswith(("coerce_dtype", "dtype")) and pd.isna(got)):
        return InputError(source, where, column, f"{kind} (not missing)", "NA")
    if check.startswith(("coerce_dtype", "dtype")):
        return InputError(source, where, column, kind, got)
    return InputError(source, where, column, check, got)


def _place(frame: pd.DataFrame, row: int | None, lines: bool) -> str | None:
    """'line 5 (sub-02)': the row as its line in a TSV (header line 1) or its number, with the
    participant where the table has one."""
    if row is None:
        return None
    where = f"line {row + 2}" if lines else f"row {row + 1}"
    if "participant_id" in frame.columns:
        pid = frame["participant_id"].iloc[row]
        if isinstance(pid, str):
            where += f" ({pid})"
    return where


def _duplicate(frame, row: int, keys, source: str, where, expected: str, lines: bool):
    """A second row of a key, naming the line of the first."""
    values = frame.iloc[row][keys]
    same = np.ones(len(frame), dtype=bool)
    for key in keys:
        same &= (frame[key] == values[key]).to_numpy()
    first = int(np.flatnonzero(same)[0])
    also = f"line {first + 2}" if lines else f"row {first + 1}"
    got = ", ".join(str(values[key]) for key in keys)
    return InputError(source, where, ", ".join(keys), f"{expected} (also on {also})", got)
