"""What every report page of this package shares: the HTML frame, the data label, the caption
(the same .rst Snakemake shows behind its (i) button, rendered onto the page) and the download of
the file the page shows. Same inputs, same bytes: nothing on a page depends on time or chance."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from types import SimpleNamespace

from docutils.core import publish_parts
from jinja2 import Environment, StrictUndefined

FRAME = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; font-size: 13px; margin: 8px 12px; }}
.label {{ background: #fff3cd; border: 1px solid #e0c36c; padding: 4px 8px; }}
.caption {{ max-width: 60em; color: #333; }}
.caption p {{ margin: 4px 0; }}
dl.same {{ display: grid; grid-template-columns: max-content auto; gap: 2px 12px; margin: 6px 0; }}
dl.same dt {{ color: #555; }}
dl.same dd {{ margin: 0; }}
/* A wide table scrolls inside its box; the page itself keeps the reader's width. */
.scroll {{ overflow-x: auto; max-width: 100%; border: 1px solid #ddd; }}
/* each column as wide as its content (long text wraps at td.text's max-width), never squeezed */
table {{ border-collapse: collapse; width: max-content; }}
th, td {{ border: 1px solid #ccc; padding: 2px 6px; vertical-align: top; }}
th {{ background: #f2f2f2; text-align: left; white-space: nowrap; }}
td.number {{ text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }}
td.text {{ text-align: left; min-width: 4em; max-width: 32em; }}
tr > :first-child {{ position: sticky; left: 0; background: #fafafa; }}
.config h4 {{ margin: 16px 0 4px; font-size: 15px; border-bottom: 1px solid #ccc; }}
.config dl {{ display: grid; grid-template-columns: max-content auto; gap: 2px 12px; margin: 0; }}
.config dt {{ color: #444; }}
.config dd {{ margin: 0; }}
.config ol {{ margin: 0; padding-left: 1.5em; }}
</style></head>
<body>
<h3>{title}</h3>
{label}<div class="caption">{caption}</div>
<p><a download="{name}" href="data:{mime};base64,{data}">Download {name}</a>{summary}</p>
{body}
</body>
</html>
"""


def label_html(labels: dict) -> str:
    """The data label of the study's labels (common.provenance.study_labels), or nothing."""
    if labels.get("calibrated"):
        return (
            '<p class="label"><strong>SYNTHETIC DATA, CALIBRATED</strong>: computed from a '
            "simulated dataset whose effect sizes were searched until the published statistics "
            "came out of this pipeline.</p>\n"
        )
    if labels.get("synthetic"):
        return (
            '<p class="label"><strong>SYNTHETIC DATA</strong>: computed from a simulated '
            "dataset.</p>\n"
        )
    return ""


def render_caption(path: str | Path, labels: dict) -> str:
    """The caption file (reStructuredText with Jinja, as Snakemake reads it) as HTML. It sees
    only the labels (`snakemake.config["_study_labels"]`): a caption that reads another setting
    stops the page with an error rather than rendering without it."""
    template = Environment(undefined=StrictUndefined).from_string(
        Path(path).read_text(encoding="utf-8")
    )
    text = template.render(snakemake=SimpleNamespace(config={"_study_labels": labels}))
    # no document title from a lone heading, no warnings written into the page
    settings = {"doctitle_xform": False, "report_level": 5, "halt_level": 3}
    return publish_parts(text, writer="html", settings_overrides=settings)["body"].strip()


def page(
    title: str, labels: dict, caption: str, path: str | Path, mime: str, summary: str, body: str
) -> str:
    """One page: title, label, caption, the download of the file at path, then body."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return FRAME.format(
        title=html.escape(title),
        label=label_html(labels),
        caption=caption,
        name=html.escape(Path(path).name),
        mime=mime,
        data=data,
        summary=summary,
        body=body,
    )
