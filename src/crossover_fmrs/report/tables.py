"""One of the pipeline's tables as a self-contained HTML page for the report: the caption above,
the numbers rounded for reading (report.format decides how), the key columns first, units in the
headers, wide tables scrolling in their own box; the TSV, at full precision, a download on the
page.

Hand-built HTML (html.escape) rather than great-tables: the rounding rules are ours either way
(report.format), and a plain table gives the same bytes for the same TSV with no extra package."""

from __future__ import annotations

import html

from ..common.tables import read_tsv_text
from . import format as fmt
from .pages import page


def _units(columns: list[str], rows: list[list[str]], outcome: str, ratio_label: str) -> list[str]:
    """The unit of each row's estimate ("" for tables without an outcome)."""
    outcomes = [row[columns.index("outcome")] for row in rows] if "outcome" in columns else None
    terms = [row[columns.index("term")] for row in rows] if "term" in columns else None
    return [
        fmt.unit_of(outcomes[i] if outcomes else outcome, terms[i] if terms else "", ratio_label)
        for i in range(len(rows))
    ]


def _constant(cells: list[str]) -> bool:
    return len(cells) > 1 and len(set(cells)) == 1


def table_page(
    path, title: str, labels: dict, caption: str, ratio_label: str, outcome: str = ""
) -> str:
    """The HTML page of the TSV at `path`; `caption` is HTML (pages.render_caption), `outcome`
    the outcome of a table without an outcome column (its unit)."""
    rows = read_tsv_text(path)
    columns, body = list(rows[0]), [list(row) for row in rows[1:]]
    units = _units(columns, body, outcome, ratio_label)
    # one unit for the table goes into the headers; several, into a unit column
    unit = None if len(set(units)) > 1 else (units[0] if units else "")
    if unit is None and "unit" not in columns:
        columns.append("unit")
        for row, row_unit in zip(body, units):
            row.append(row_unit)
    cells = {column: [row[i] for row in body] for i, column in enumerate(columns)}
    numeric = {column: fmt.is_numeric(column, cells[column]) for column in columns}
    # Text that is the same in every row (the model, the df method) is said once, above, and
    # columns without a value are named there.
    empty = [c for c in columns if all(fmt.is_missing(cell) for cell in cells[c])]
    same = [
        c
        for c in columns
        if c in fmt.DESCRIPTIVE_COLUMNS and c not in empty and _constant(cells[c])
    ]
    shown = [c for c in fmt.column_order(columns) if c not in same and c not in empty]

    same_html = "".join(
        f"<dt>{html.escape(fmt.header(c, ''))}</dt><dd>{html.escape(cells[c][0])}</dd>"
        for c in same
    )
    if empty:
        names = ", ".join(fmt.header(c, "") for c in empty)
        same_html += f"<dt>no values</dt><dd>{html.escape(names)}</dd>"
    header = "".join(f"<th>{html.escape(fmt.header(c, unit))}</th>" for c in shown)
    lines = []
    for i in range(len(body)):
        line = "".join(
            f'<td class="{"number" if numeric[c] else "text"}">'
            f"{html.escape(fmt.format_cell(c, cells[c][i], numeric[c]))}</td>"
            for c in shown
        )
        lines.append(f"<tr>{line}</tr>")
    table = (
        (f'<dl class="same">{same_html}</dl>\n' if same_html else "")
        + '<div class="scroll"><table>\n'
        + f"<thead><tr>{header}</tr></thead>\n<tbody>\n"
        + "\n".join(lines)
        + "\n</tbody>\n</table></div>"
    )
    summary = (
        f" (full precision; {len(body)} rows, {len(rows[0])} columns; numbers on this page rounded)"
    )
    return page(title, labels, caption, path, "text/tab-separated-values", summary, table)
