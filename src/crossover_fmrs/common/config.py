"""The config's schema (schemas/config.schema.yaml): the one place of every setting's default.

Snakemake fills these defaults when the Snakefile validates config.yaml; the simulator's command
line and the tests that build settings by hand fill them through here, from the same file."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "schemas" / "config.schema.yaml"


@cache
def config_schema() -> dict:
    return yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))


def with_defaults(values, schema: dict):
    """values with the schema's defaults filled in for absent keys (objects, recursively)."""
    if schema.get("type") != "object" or not isinstance(values, dict):
        return values
    out = dict(values)
    for key, node in schema.get("properties", {}).items():
        if key not in out and "default" in node:
            out[key] = node["default"]
        if key in out:
            out[key] = with_defaults(out[key], node)
    return out


def section_with_defaults(section: str, values: dict) -> dict:
    """One section of the config (e.g. "simulation") with the schema's defaults filled in."""
    return with_defaults(values, config_schema()["properties"][section])
