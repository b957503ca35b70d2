"""The run's configuration (run/config.yaml) as a report page a reader can read: one section per
top-level setting, keys beside their values, lists of plain values on one line; the YAML itself
a download on the page."""

from __future__ import annotations

import html
from pathlib import Path

import yaml

from .pages import page


def _scalar(value) -> str:
    # as YAML writes it, so that a reader can copy it into a config
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _value(value) -> str:
    if isinstance(value, dict):
        return _mapping(value)
    if isinstance(value, list):
        if all(not isinstance(item, dict | list) for item in value):
            return ", ".join(f"<code>{html.escape(_scalar(item))}</code>" for item in value) or (
                "<code>[]</code>"
            )
        return "<ol>" + "".join(f"<li>{_value(item)}</li>" for item in value) + "</ol>"
    return f"<code>{html.escape(_scalar(value))}</code>"


def _mapping(mapping: dict) -> str:
    if not mapping:
        return "<code>{}</code>"
    return (
        "<dl>"
        + "".join(
            f"<dt>{html.escape(str(key))}</dt><dd>{_value(value)}</dd>"
            for key, value in mapping.items()
        )
        + "</dl>"
    )


def config_page(path, title: str, labels: dict, caption: str) -> str:
    """The page of the YAML at `path`: its top-level plain settings first, then one section per
    top-level group, in the file's order."""
    config = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    plain = {key: value for key, value in config.items() if not isinstance(value, dict)}
    sections = [(key, value) for key, value in config.items() if isinstance(value, dict)]
    body = '<div class="config">\n'
    if plain:
        body += f"<h4>general</h4>\n{_mapping(plain)}\n"
    for key, value in sections:
        body += f"<h4>{html.escape(str(key))}</h4>\n{_mapping(value)}\n"
    body += "</div>"
    summary = f" ({len(config)} top-level settings)"
    return page(title, labels, caption, path, "application/yaml", summary, body)
