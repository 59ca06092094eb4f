"""The whole check of a config: the schema (:func:`alvae.config.validate_schema`), then
the checks across keys, each stage's own (its ``checks`` module's ``config_problems``; a
representation kind or a strategy checks its own options in its own file, reached
through the stage's registry). Every failure raises :class:`ConfigError` naming the key
to fix.

The workflow calls :func:`config_or_exit` before it plans; library users call
:func:`load_config`. ``python -m alvae.checks FILE`` checks a config file with the same short messages.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Mapping

from .al import checks as al_checks
from .analysis import checks as analysis_checks
from .config import read_yaml, validate_schema
from .data.config_checks import dataset_problems
from .errors import ConfigError
from .representations import checks as representation_checks
from .strategies import checks as strategy_checks
from .training import checks as training_checks
from .training import tune_checks

#: every stage's checks across keys, in the order their lines are reported
STAGE_CHECKS = (
    dataset_problems,
    training_checks.config_problems,
    tune_checks.config_problems,
    al_checks.config_problems,
    representation_checks.config_problems,
    strategy_checks.config_problems,
    analysis_checks.config_problems,
)

DATASET_NAME = re.compile(r"^[A-Za-z0-9_-]+$")

__all__ = ["ConfigError", "check_config", "config_or_exit", "load_config", "validate_config"]


def check_config(config: dict) -> None:
    """Cross-field checks the schema cannot express, on a config the schema has checked
    and filled. Raises :class:`ConfigError` with one line per problem."""
    problems = _path_problems(config)
    for check in STAGE_CHECKS:
        problems += check(config)
    if problems:
        raise ConfigError("invalid configuration:\n" + "\n".join(f"  {p}" for p in problems))


def validate_config(config: dict) -> dict:
    """Validate ``config`` in place against the schema, fill defaults, check it."""
    check_config(validate_schema(config))
    return config


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> dict:
    """Read a YAML config, apply top-level ``overrides``, validate and fill defaults."""
    config = read_yaml(path)
    config.update(overrides or {})
    return validate_config(config)


def config_or_exit(config: dict | None = None, path: str | Path | None = None) -> dict:
    """For the Snakefile: validate ``config`` in place (or only parse the file ``path``),
    or print the short reason and exit (status 1) before Snakemake plans any job."""
    try:
        return validate_config(config) if path is None else read_yaml(path)
    except ConfigError as exc:
        print(f"ERROR: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None


def main(paths: list[str]) -> None:
    """Check each config file: ``FILE: valid``, or the short reason and exit status 1."""
    for path in paths:
        config_or_exit(config_or_exit(path=path))
        print(f"{path}: valid")


def _path_problems(config: dict) -> list[str]:
    """Every output lies under ``out_dir``: no empty or root ``out_dir``, no dataset name
    that could climb out of it, and ``out_dir`` must be (or become) a folder."""
    problems = []
    out = config.get("out_dir")
    if not isinstance(out, str) or not out.strip():
        problems.append("out_dir: must be a non-empty folder path (got an empty value)")
    elif out.strip().rstrip("/") == "" or os.path.realpath(out) == "/":
        problems.append(f"out_dir: {out!r} is the filesystem root; name a folder for the results")
    else:
        for parent in [Path(out), *Path(out).parents]:
            if parent.exists():
                if not parent.is_dir():
                    problems.append(f"out_dir: {parent} exists and is not a folder; "
                                    f"move it away or choose another out_dir")
                break
    for name in config["datasets"]:
        if not DATASET_NAME.match(str(name)):
            problems.append(f"datasets.{name}: a dataset name may hold only letters, digits, "
                            f"'_' and '-' (it becomes a folder name)")
    return problems


if __name__ == "__main__":  # python -m alvae.checks FILE: check a config file, short messages
    main(sys.argv[1:])
