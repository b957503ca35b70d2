"""Clinical rating-scale sheets: read and validate, score, and tidy into two long tables.

Raw format, one UTF-8 TSV per scale (data_dir/clinical/<sheet>): one row per participant x
condition x time point; columns participant_id, condition, timepoint, hours_from_infusion
(hours from the start of the ketamine infusion), then the item columns <prefix>_01 .. <prefix>_NN
of the scale (see scales.SCALES). An unrated item is an empty cell. A UTF-8 byte-order mark and
CRLF line endings are accepted; other columns are ignored.

Every structural fault is an InputError naming the file, the line (header = line 1) and the
column. Missing values stay NaN; they are scored by each scale's own rule (scales.py).

`source_file` is the sheet's file name only, so outputs do not depend on where data_dir lives.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..common.errors import InputError
from ..common.tables import delimiter_of, order_conditions, read_utf8_text
from .participants import check_column_names
from .scales import Scale, check_items, get_scale, max_missing_from_config, score_outcomes

KEY_COLUMNS = ["participant_id", "condition", "timepoint", "hours_from_infusion"]
CLINICAL_ITEMS_COLUMNS = [
    "participant_id",
    "condition",
    "timepoint",
    "hours_from_infusion",
    "scale",
    "item",
    "score",
    "source_file",
]
CLINICAL_SCORES_COLUMNS = [
    "participant_id",
    "condition",
    "timepoint",
    "hours_from_infusion",
    "scale",
    "outcome",
    "value",
    "n_items",
    "n_items_missing",
    "scoring_note",
    "source_file",
]


def _read_lines(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line number, fields) of each non-blank line, numbered as in the file."""
    if not path.exists():
        raise InputError(path, None, None, "a clinical sheet at this path", "no such file")
    text = read_utf8_text(path, "a clinical sheet at this path")
    # Split on LF only (after CRLF -> LF), so line numbers match what an editor shows.
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines[0].strip():
        raise InputError(path, "line 1", None, "a tab-separated header row", "an empty line")
    header = lines[0].split("\t")
    separator = delimiter_of(header[0]) if len(header) == 1 else None
    if separator:
        raise InputError(
            path, "line 1", None, "tab-separated columns", f"columns separated by {separator}"
        )
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = next(csv.reader([line], delimiter="\t", quoting=csv.QUOTE_NONE))
        if len(fields) != len(header):
            raise InputError(
                path, f"line {number}", None, f"{len(header)} tab-separated fields", len(fields)
            )
        rows.append((number, [field.strip() for field in fields]))
    return [name.strip() for name in header], rows


def _conditions_of(participants: pd.DataFrame) -> list[str]:
    seen: list[str] = []
    for order in participants["order"]:
        for condition in order_conditions(str(order)):
            if condition not in seen:
                seen.append(condition)
    return seen


def _number(text: str) -> float:
    """A finite number, NaN for an empty cell; ValueError otherwise (also for 'nan', 'inf')."""
    if text == "":
        return np.nan
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def read_clinical_sheet(
    path: str | Path,
    scale_name: str,
    participants: pd.DataFrame,
    timepoints: Sequence[str],
    conditions: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Validated sheet of one scale, sorted by participant, condition and time point (given orders).

    Columns: participant_id, condition, timepoint, hours_from_infusion (float, NaN if empty), the
    item columns (float, NaN if unrated), line (line in the file), source_file (file name).
    `conditions` defaults to those named in participants' `order` (pass config study.conditions
    to fix their order).
    """
    path = Path(path)
    scale = get_scale(scale_name)
    conditions = list(conditions) if conditions is not None else _conditions_of(participants)
    timepoints = list(timepoints)
    header, rows = _read_lines(path)
    _check_sheet_columns(header, rows, path, scale)
    known = set(participants["participant_id"].astype(str))
    position = {name: i for i, name in enumerate(header)}
    records = []
    where = []
    first_line: dict[tuple[str, str, str], int] = {}
    for number, fields in rows:
        key = _visit_key(fields, position, number, path, scale, known, conditions, timepoints)
        pid, condition, timepoint = key
        if key in first_line:
            raise InputError(
                path,
                f"line {number} ({pid})",
                None,
                f"one row per participant x condition x timepoint "
                f"({condition}, {timepoint} also on line {first_line[key]})",
                "a duplicate row",
            )
        first_line[key] = number
        record = {"participant_id": pid, "condition": condition, "timepoint": timepoint}
        at = f"line {number} ({pid}, {condition}, {timepoint})"
        record.update(_visit_ratings(fields, position, at, path, scale))
        record["line"] = number
        records.append(record)
        where.append(at)
    frame = pd.DataFrame.from_records(records, columns=KEY_COLUMNS + scale.item_columns + ["line"])
    numeric = ["hours_from_infusion"] + scale.item_columns
    frame[numeric] = frame[numeric].astype(float)
    check_items(scale, frame[scale.item_columns], path, where)
    frame["line"] = frame["line"].astype(int)
    frame["source_file"] = path.name
    for column in ("participant_id", "condition", "timepoint", "source_file"):
        frame[column] = frame[column].astype(str)
    return _sorted(
        frame,
        {"condition": conditions, "timepoint": timepoints},
        ["participant_id", "condition", "timepoint"],
    )


def _check_sheet_columns(header: list[str], rows: list, path: Path, scale: Scale) -> None:
    """A sheet with rows and the columns of its scale: each name once, every key and item column,
    no item the scale does not have (a sheet of another scale or version is refused, not scored)."""
    check_column_names(header, path)
    if not rows:
        raise InputError(
            path,
            "line 2",
            None,
            f"one row per participant x condition x timepoint ({scale.name} is "
            "configured in clinical.scales: remove it there if it was not collected)",
            "no rows",
        )
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise InputError(
            path, "line 1", duplicated[0], "each column name once", "a repeated column"
        )
    for column in KEY_COLUMNS + scale.item_columns:
        if column not in header:
            layout = (
                f"{', '.join(KEY_COLUMNS)}, {scale.item_columns[0]} .. {scale.item_columns[-1]}"
            )
            raise InputError(
                path,
                "line 1",
                column,
                f"a column of this name ({scale.name} sheet: {layout})",
                "no such column",
            )
    extra_items = [
        name
        for name in header
        if name.startswith(scale.prefix + "_") and name not in scale.item_columns
    ]
    if extra_items:
        raise InputError(
            path,
            "line 1",
            extra_items[0],
            f"only items {scale.item_columns[0]} .. {scale.item_columns[-1]} of {scale.name}",
            "an item column that the scale does not have",
        )


def _visit_key(
    fields: list[str],
    position: dict[str, int],
    number: int,
    path: Path,
    scale: Scale,
    known: set[str],
    conditions: list[str],
    timepoints: list[str],
) -> tuple[str, str, str]:
    """(participant, condition, time point) of one row: a participant of participants.tsv, a
    configured condition and a time point of the scale."""
    pid, condition, timepoint = (
        fields[position[c]] for c in ("participant_id", "condition", "timepoint")
    )
    if pid not in known:
        raise InputError(
            path,
            f"line {number}",
            "participant_id",
            "a participant listed in participants.tsv",
            pid,
        )
    at = f"line {number} ({pid})"
    if condition not in conditions:
        raise InputError(path, at, "condition", "one of " + ", ".join(conditions), condition)
    if timepoint not in timepoints:
        raise InputError(
            path, at, "timepoint", f"one of {', '.join(timepoints)} for {scale.name}", timepoint
        )
    return pid, condition, timepoint


def _visit_ratings(
    fields: list[str], position: dict[str, int], at: str, path: Path, scale: Scale
) -> dict[str, float]:
    """hours_from_infusion and the item ratings of one row as numbers, NaN for an empty cell
    (unrated); the range of each item is checked on the whole sheet (scales.check_items)."""
    text = fields[position["hours_from_infusion"]]
    try:
        values = {"hours_from_infusion": _number(text)}
    except ValueError:
        raise InputError(
            path, at, "hours_from_infusion", "a number of hours or an empty cell", text
        ) from None
    for column in scale.item_columns:
        text = fields[position[column]]
        try:
            values[column] = _number(text)
        except ValueError:
            raise InputError(
                path,
                at,
                column,
                f"a number {scale.item_min:g}-{scale.item_max:g} or an empty cell (unrated)",
                text,
            ) from None
    return values


def _sorted(
    frame: pd.DataFrame, orders: Mapping[str, Sequence[str]], by: list[str]
) -> pd.DataFrame:
    """Stable sort with columns in `orders` ranked by their given order, others as they are."""
    ranks = {}
    for column in by:
        values = frame[column]
        if column in orders:
            rank = {name: i for i, name in enumerate(orders[column])}
            if isinstance(values.dtype, pd.CategoricalDtype):  # rank the categories, not each row
                ranked = np.array([rank.get(c, np.nan) for c in values.cat.categories] + [np.nan])
                ranks[f"_rank_{column}"] = ranked[values.cat.codes.to_numpy()]
            else:
                ranks[f"_rank_{column}"] = values.map(rank).to_numpy()
        elif (
            isinstance(values.dtype, pd.CategoricalDtype)
            and values.cat.categories.is_monotonic_increasing
        ):
            ranks[f"_rank_{column}"] = values.cat.codes.to_numpy()  # sorted categories: codes rank
        else:
            ranks[f"_rank_{column}"] = values.to_numpy()
    keyed = frame.assign(**ranks)
    keyed = keyed.sort_values(list(ranks), kind="stable")
    return keyed.drop(columns=list(ranks)).reset_index(drop=True)


def scale_specs(scales_config: Sequence[Mapping]) -> dict[str, dict]:
    """config clinical.scales (a list of {name, sheet, timepoints}) as {name: {sheet,
    timepoints}}."""
    return {
        entry["name"]: {"sheet": entry["sheet"], "timepoints": list(entry["timepoints"])}
        for entry in scales_config
    }


def read_clinical_sheets(
    clinical_dir: str | Path,
    clinical_config: Mapping,
    participants: pd.DataFrame,
    conditions: Sequence[str],
) -> dict[str, pd.DataFrame]:
    """Every scale configured under `clinical.scales`, read from clinical_dir/<sheet>. A condition
    of study.conditions that no sheet has a row of is refused here, not left to fail a model."""
    clinical_dir = Path(clinical_dir)
    sheets = {
        name: read_clinical_sheet(
            clinical_dir / spec["sheet"], name, participants, spec["timepoints"], conditions
        )
        for name, spec in clinical_config["scales"].items()
    }
    rated = {c for sheet in sheets.values() for c in sheet["condition"]}
    absent = [c for c in conditions if c not in rated]
    if sheets and absent:
        first = next(iter(clinical_config["scales"].values()))["sheet"]
        raise InputError(
            clinical_dir / first,
            None,
            "condition",
            f"rows of every condition in study.conditions {list(conditions)}",
            f"no row of {absent[0]} in any of the {len(sheets)} sheets of clinical.scales",
        )
    return sheets


def _item_ratings(
    name: str, sheet: pd.DataFrame, categories: Mapping, scale_order: list[str]
) -> pd.DataFrame:
    """One row per item rating of a sheet (item = its number in the scale), labels as the shared
    categories."""
    scale = get_scale(name)
    numbers = {column: k for k, column in enumerate(scale.item_columns, start=1)}
    long = (
        sheet[KEY_COLUMNS + scale.item_columns + ["source_file"]]
        .astype(categories)
        .rename(columns=numbers)
        .melt(
            id_vars=KEY_COLUMNS + ["source_file"],
            value_vars=list(numbers.values()),
            var_name="item",
            value_name="score",
        )
    )
    long["scale"] = pd.Categorical([name] * len(long), categories=scale_order)
    return long


def _scored_outcomes(name: str, sheet: pd.DataFrame, limits: Mapping[str, int]) -> pd.DataFrame:
    """The outcomes of a sheet's visits by the scale's own scoring rule, each beside the keys of
    its visit; _outcome_rank keeps the scale's order of outcomes for sorting."""
    scale = get_scale(name)
    keys = sheet[KEY_COLUMNS + ["source_file"]].reset_index(drop=True)
    where = [f"line {line}" for line in sheet["line"]]
    scored = score_outcomes(
        name,
        sheet[scale.item_columns].reset_index(drop=True),
        limits,
        sheet["source_file"].iloc[0] if len(sheet) else name,
        where,
    )
    scored = keys.iloc[scored["row"]].reset_index(drop=True).join(scored.drop(columns="row"))
    scored["scale"] = name
    scored["_outcome_rank"] = scored["outcome"].map({o: i for i, o in enumerate(scale.scores)})
    return scored


def tidy_clinical(
    sheets: Mapping[str, pd.DataFrame], clinical_config: Mapping, conditions: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(clinical_items, clinical_scores) from sheets read by read_clinical_sheet.

    Sorted by participant, condition (given order), scale (config order), time point (config
    order of the scale), then item number or outcome in the scale's order.
    """
    limits = max_missing_from_config(clinical_config)
    scale_order = list(clinical_config["scales"])
    # The item table has one row per item rating (tens of items per visit): its repeated labels
    # are categories shared by every sheet, so a large study's table stays small in memory.
    labels = ["participant_id", "condition", "timepoint", "source_file"]
    categories = {
        column: pd.CategoricalDtype(
            sorted(set().union(*(sheet[column].dropna().unique() for sheet in sheets.values())))
        )
        for column in labels
    }
    item_parts = [
        _item_ratings(name, sheet, categories, scale_order) for name, sheet in sheets.items()
    ]
    score_parts = [_scored_outcomes(name, sheet, limits) for name, sheet in sheets.items()]
    timepoint_ranks = pd.DataFrame(
        [
            (name, t, i)
            for name in scale_order
            for i, t in enumerate(clinical_config["scales"][name]["timepoints"])
        ],
        columns=["scale", "timepoint", "_timepoint_rank"],
    ).astype({"scale": str, "timepoint": str})

    def order(frame: pd.DataFrame, last: str) -> pd.DataFrame:
        # a left merge keeps the frame's row order; a time point the config lacks sorts last
        ranked = (
            frame[["scale", "timepoint"]]
            .astype(str)
            .merge(timepoint_ranks, on=["scale", "timepoint"], how="left")["_timepoint_rank"]
        )
        frame = frame.assign(
            _timepoint_rank=ranked.fillna(len(timepoint_ranks)).astype(int).to_numpy()
        )
        frame = _sorted(
            frame,
            {"condition": list(conditions), "scale": scale_order},
            ["participant_id", "condition", "scale", "_timepoint_rank", last],
        )
        return frame.drop(columns=[c for c in frame.columns if c.startswith("_")])

    if item_parts:
        items = order(pd.concat(item_parts, ignore_index=True), "item")
        scores = order(pd.concat(score_parts, ignore_index=True), "_outcome_rank")
    else:
        items = pd.DataFrame(columns=CLINICAL_ITEMS_COLUMNS)
        scores = pd.DataFrame(columns=CLINICAL_SCORES_COLUMNS)
    items = items[CLINICAL_ITEMS_COLUMNS].astype(
        {"item": int, "score": float, "hours_from_infusion": float}
    )
    scores = scores[CLINICAL_SCORES_COLUMNS].astype(
        {"value": float, "n_items": int, "n_items_missing": int, "hours_from_infusion": float}
    )
    return items.reset_index(drop=True), scores.reset_index(drop=True)
