"""participants.tsv: read and validate against the data dictionary (participants.json)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from ..common.errors import InputError
from ..common.schemas import participants_schema, validate
from ..common.tables import MISSING, SITE, read_tsv_text, read_utf8_text


def check_column_names(header: list[str], path: Path) -> None:
    """InputError for a column without a name: a trailing tab on every line (a spreadsheet export)
    would otherwise add a column 'Unnamed' to every table built from the file."""
    for position, name in enumerate(header, start=1):
        if not name.strip():
            trailing = (
                " (a trailing tab at the end of each line?)" if position == len(header) else ""
            )
            raise InputError(
                path,
                "line 1",
                None,
                f"a name for every column{trailing}",
                f"column {position} without a name",
            )


def described_but_absent(frame: pd.DataFrame, path: Path) -> list[str]:
    """Columns participants.json describes that participants.tsv lacks: each is a warning, since
    Table 1 then has no row for it (a dropped optional column must not vanish in silence)."""
    dictionary = path.with_suffix(".json")
    if not dictionary.is_file():
        return []
    try:
        described = json.loads(read_utf8_text(dictionary, "a JSON data dictionary"))
    except json.JSONDecodeError:
        return []  # check_dictionary reports it
    return [column for column in described if isinstance(described, dict) and column not in frame]


def column_record(path: str | Path) -> pd.DataFrame:
    """One row per column of participants.tsv or of its data dictionary: whether the dictionary
    describes it, whether the table has it, and what follows where they disagree."""
    path = Path(path)
    header = read_tsv_text(path)[0]
    dictionary = path.with_suffix(".json")
    described: list[str] = []
    if dictionary.is_file():
        try:
            loaded = json.loads(read_utf8_text(dictionary, "a JSON data dictionary"))
            described = list(loaded) if isinstance(loaded, dict) else []
        except json.JSONDecodeError:
            described = []  # check_dictionary reports it
    rows = []
    for column in list(dict.fromkeys(header + described)):
        present, in_dictionary = column in header, column in described
        note = ""
        if in_dictionary and not present:
            note = (
                f"described in {dictionary.name} but absent from {path.name}: "
                "Table 1 has no row for it"
            )
        elif present and dictionary.is_file() and not in_dictionary:
            note = f"not described in {dictionary.name}"
        rows.append(
            {"column": column, "in_table": present, "in_dictionary": in_dictionary, "note": note}
        )
    return pd.DataFrame(rows, columns=["column", "in_table", "in_dictionary", "note"])


def check_dictionary(frame: pd.DataFrame, path: Path) -> None:
    """Codes outside the `Levels` of the BIDS data dictionary (participants.json beside the table),
    when there is one, are an error: a sex or order code nobody defined is a typo, not a
    category."""
    dictionary = path.with_suffix(".json")
    if not dictionary.is_file():
        return
    try:
        described = json.loads(read_utf8_text(dictionary, "a JSON data dictionary"))
    except json.JSONDecodeError as err:
        raise InputError(dictionary, f"line {err.lineno}", None, "valid JSON", err.msg) from None
    for column, spec in described.items():
        levels = spec.get("Levels") if isinstance(spec, dict) else None
        if not levels or column not in frame:
            continue
        for number, (pid, value) in enumerate(zip(frame["participant_id"], frame[column]), start=2):
            if not pd.isna(value) and str(value) not in levels:
                raise InputError(
                    path,
                    f"line {number} ({pid})",
                    column,
                    f"one of {', '.join(levels)} (the Levels in {dictionary.name})",
                    value,
                )


def check_sites(frame: pd.DataFrame, path: Path, site_column: str) -> pd.DataFrame:
    """The site column of a pooled study, validated and named `site` (the name every later
    table and model uses): a site for every participant. Site names only label rows and
    plots, never name files, so any text is a valid site."""
    if site_column != SITE and SITE in frame:
        raise InputError(
            path,
            "line 1",
            SITE,
            f"no column '{SITE}' besides the site column '{site_column}' (study.site_column)",
            "both",
        )
    for number, (pid, site) in enumerate(zip(frame["participant_id"], frame[site_column]), start=2):
        if pd.isna(site) or not str(site).strip() or str(site) in MISSING:
            raise InputError(
                path,
                f"line {number} ({pid})",
                site_column,
                "the participant's site (study.site_column; every participant has one)",
                "an empty cell"
                if pd.isna(site) or not str(site).strip()
                else f"{site!r} (missing)",
            )
    return frame.rename(columns={site_column: SITE})


def read_participants(
    path: str | Path, conditions: list[str], site_column: str | None = None
) -> pd.DataFrame:
    """Validated participants table, sorted by participant_id, IDs kept as strings. With
    site_column, that column (when the table has it) is checked and renamed `site`."""
    path = Path(path)
    rows = read_tsv_text(path)
    header, body = rows[0], rows[1:]
    check_column_names(header, path)
    # the pipeline's columns (participants_schema); others (baseline characteristics) kept as
    # they are
    frame = pd.DataFrame(body, columns=header, dtype="string")
    frame = validate(frame, participants_schema(conditions), path, lines=True)
    check_dictionary(frame, path)
    for column in described_but_absent(frame, path):
        print(
            f"warning: {path.with_suffix('.json').name} describes column '{column}', "
            f"which {path.name} lacks: "
            "Table 1 (baseline_characteristics.tsv) has no row for it",
            file=sys.stderr,
        )
    if site_column is not None and site_column in frame:
        frame = check_sites(frame, path, site_column)
    return frame.sort_values("participant_id", kind="stable").reset_index(drop=True)
