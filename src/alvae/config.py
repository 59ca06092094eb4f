"""Configuration files: reading the YAML (a duplicate key refused), the renamed keys, and
the schema (:mod:`alvae.validation`: defaults filled in, one line per bad key).

The checks across keys are each stage's own; :mod:`alvae.checks` runs the schema and
then all of them (``validate_config``, ``load_config``, ``config_or_exit``).
``python -m alvae.checks FILE`` checks a config file.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import ConfigError
from .schema import SCHEMA_PATH  # noqa: F401  (the file, for users of alvae.config)
from .validation import _coerce_numbers, _schema, _schema_problems

RENAMED = {("stats", "alpha"): "stats.significance (the level of the tests; `alpha` is the "
                                "scale of the latents)",
           ("vae", "cvae", "alpha"): "vae.cvae.class_weight (M2's classification weight)",
           ("task_model", "min_train_acc"): "task_model.train_until: {train_acc: ..., max_epochs: "
                                            "...} (the stopping rule of every round)",
           ("task_model", "max_extra_epochs"): "task_model.train_until.max_epochs (the most "
                                               "epochs a round trains in all)",
           ("task_model", "amp"): "task_model.precision: auto, fp32 or bf16 (amp: true was auto, "
                                  "amp: false is fp32)"}


def _renamed_problems(config: dict) -> list[str]:
    problems = []
    for path, now in RENAMED.items():
        node = config
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and path[-1] in node:
            problems.append(f"  {'.'.join(path)}: renamed; write {now}")
    return problems


def validate_schema(config: dict) -> dict:
    """Validate ``config`` in place against the schema and fill defaults (no checks across
    keys: :func:`alvae.checks.validate_config` adds them)."""
    renamed = _renamed_problems(config)
    if renamed:
        raise ConfigError("invalid configuration:\n" + "\n".join(renamed))
    lines = _schema_problems(_schema(), config)
    if lines:
        raise ConfigError("invalid configuration:\n" + "\n".join(f"  {line}" for line in lines))
    _coerce_numbers(config, _schema())
    return config


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key written twice in one mapping (plain YAML keeps
    the last one silently, so a second ``al:`` block would replace the first)."""


def _mapping_without_duplicates(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key] + 1}); keep one",
                key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def read_yaml(path: str | Path) -> dict:
    """Parse a YAML config file; a syntax error or a duplicate key names the file, line
    and column."""
    try:
        with open(path) as fh:
            data = yaml.load(fh, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        kind = "YAML error" if reason.startswith("duplicate key") else "YAML syntax error"
        raise ConfigError(f"{where}: {kind}: {reason}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config file holds keys at the top level, not a {type(data).__name__}")
    return data


if __name__ == "__main__":  # the checker moved with the checks across keys
    import sys

    sys.exit("python -m alvae.config no longer checks a file (it reads and validates the "
             "schema only): run python -m alvae.checks FILE")
