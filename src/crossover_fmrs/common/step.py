"""The glue between a workflow step and the package: inputs, outputs, log, errors.

A script under scripts/ runs either from Snakemake (`script:` directive, which injects the
`snakemake` object) or from a command line with the same named inputs and outputs:

    python scripts/ingest_mrs.py --input participants=data/x/participants.tsv \
        --output mrs=results/tidy/mrs_long.tsv --params '{"conditions": ["placebo", "naltrexone"]}'
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .provenance import SIDECAR, write_sidecars


@dataclass
class StepIO:
    input: dict[str, Any] = field(default_factory=dict)
    output: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    log: str | None = None
    # <results_dir>/study.json, whose provenance the tables' sidecars carry
    study: str | None = None

    def split_study(self) -> StepIO:
        """The study record (input `study`) set apart: the step reads its tables, run_step the
        record."""
        self.study = self.input.pop("study", None)
        return self


def _named(io_list) -> dict[str, Any]:
    """Named entries of a Snakemake Namedlist; lists of files stay lists."""
    return {name: value for name, value in io_list.items()}


def _parse_pairs(pairs: list[str], flag: str) -> dict[str, Any]:
    named: dict[str, Any] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"{flag} expects name=path, got {pair!r}")
        named.setdefault(name, []).append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in named.items()}


# Params that fingerprint what a job runs on, for Snakemake's rerun decisions only
# (rules/common.smk code_version, raw_mrs_batch_fingerprint): not settings of the step.
RERUN_ONLY_PARAMS = ("code", "raw_files")


def step_io(snakemake=None, argv: list[str] | None = None) -> StepIO:
    """Inputs, outputs and params from the Snakemake object, or else from the command line."""
    if snakemake is not None:
        params = {
            name: value
            for name, value in _named(snakemake.params).items()
            if name not in RERUN_ONLY_PARAMS
        }
        return StepIO(
            input=_named(snakemake.input),
            output=_named(snakemake.output),
            params=params,
            log=snakemake.log[0] if snakemake.log else None,
        ).split_study()
    parser = argparse.ArgumentParser(description=sys.modules["__main__"].__doc__)
    parser.add_argument(
        "--input", action="append", metavar="NAME=PATH", help="repeat a name for a list"
    )
    parser.add_argument("--output", action="append", metavar="NAME=PATH")
    parser.add_argument("--params", default="{}", help="JSON object of parameters")
    parser.add_argument("--log", default=None)
    args = parser.parse_args(argv)
    return StepIO(
        input=_parse_pairs(args.input, "--input"),
        output=_parse_pairs(args.output, "--output"),
        params=json.loads(args.params),
        log=args.log,
    ).split_study()


def run_step(main: Callable[[StepIO], None], snakemake=None) -> None:
    """Run a step: stderr to the log (line-buffered), one-line error and exit 1 on bad input.

    After the step, the JSON sidecar of each table (outputs named <name>_sidecar; see
    common/provenance.py). Outputs that a failed step may have begun are removed, sidecars among
    them, so no partial output survives.
    """
    io = step_io(snakemake)
    if io.log:
        Path(io.log).parent.mkdir(parents=True, exist_ok=True)
        sys.stderr = open(io.log, "w", buffering=1, encoding="utf-8")
    try:
        main(io)
        if any(name.endswith(SIDECAR) for name in io.output):
            if io.study is None:
                raise ValueError("outputs name sidecars but no input names the study record")
            write_sidecars(io.output, io.study, io.params)
    except InputError as err:
        _remove_outputs(io)
        message = f"error: {_from_working_dir(err)}"
        print(message, file=sys.stderr)
        if sys.stderr is not sys.__stderr__:
            # On the console the line follows Snakemake's progress text: start it on its own line.
            print("\n" + message, file=sys.__stderr__)
        sys.exit(1)
    except Exception:
        _remove_outputs(io)
        traceback.print_exc()
        sys.exit(1)


def _from_working_dir(err: InputError) -> InputError:
    """The error with its file named relative to the working directory (where snakemake runs),
    as every message names files; paths outside it stay absolute."""
    path = Path(err.file)
    if not path.is_absolute():
        return err
    try:
        name = path.relative_to(Path.cwd()).as_posix() + ("/" if err.file.endswith("/") else "")
    except ValueError:
        return err
    return InputError(name, err.where, err.column, err.expected, err.got)


def _remove_outputs(io: StepIO) -> None:
    for value in io.output.values():
        for path in value if isinstance(value, list) else [value]:
            target = Path(path)
            if target.is_dir():
                shutil.rmtree(target)
            elif target.is_file():
                target.unlink()
