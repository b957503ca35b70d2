"""One of the pipeline's tables as a self-contained HTML page for the report: readable in the
report itself (a plain HTML table, every cell as written in the TSV), with the TSV as a download
and, for simulated data, the label that says so."""

from __future__ import annotations

import base64
import html

from ..common.tables import read_tsv_text

PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; font-size: 13px; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }}
th {{ background: #f2f2f2; }}
</style></head>
<body>
<h3>{title}</h3>
{label}<p><a download="{name}" href="data:text/tab-separated-values;base64,{tsv}">\
Download {name}</a>
({rows} rows, {columns} columns)</p>
<table>
<thead><tr>{header}</tr></thead>
<tbody>
{body}
</tbody>
</table>
</body>
</html>
"""
SYNTHETIC_LABEL = (
    "<p><strong>SYNTHETIC DATA</strong>: computed from the simulated embedded dataset.</p>\n"
)


def table_page(path, title: str, synthetic: bool) -> str:
    """The HTML page of the TSV at `path`."""
    rows = read_tsv_text(path)
    header, body = rows[0], rows[1:]
    cells = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(value)}</td>" for value in row) + "</tr>"
        for row in body
    )
    with open(path, "rb") as stream:
        encoded = base64.b64encode(stream.read()).decode("ascii")
    return PAGE.format(
        title=html.escape(title),
        label=SYNTHETIC_LABEL if synthetic else "",
        name=html.escape(str(path).rsplit("/", 1)[-1]),
        tsv=encoded,
        rows=len(body),
        columns=len(header),
        header="".join(f"<th>{html.escape(name)}</th>" for name in header),
        body=cells,
    )
