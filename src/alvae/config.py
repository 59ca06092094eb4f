"""Configuration files: reading the YAML (a duplicate key refused), the renamed keys (the
schema's ``x-renamed`` entries: read under the new name, or refused), and the schema (:mod:`alvae.validation`: defaults filled in, one line per bad key).

The checks across keys are each stage's own; :mod:`alvae.checks` runs the schema and
then all of them (``validate_config``, ``load_config``, ``config_or_exit``).
``python -m alvae.checks FILE`` checks a config file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from .errors import ConfigError
from .schema import (
    SCHEMA_PATH,  # noqa: F401  (the file, for users of alvae.config)
    Moved,
    renamed_keys,
)
from .validation import _coerce_numbers, _schema, _schema_problems


def _parent(config: dict, path: tuple[str, ...]) -> dict | None:
    node = config
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def move_renamed(config: dict, notice=None) -> list[str]:
    """Read each :class:`Moved` key of ``config`` as its new name, in place (the old and the
    new name both given is refused). Returns the notices, one line each, and passes each to
    ``notice`` (default: print it on stderr)."""
    notices = []
    for path, now in renamed_keys().items():
        old = _parent(config, path)
        if not isinstance(now, Moved) or old is None or path[-1] not in old:
            continue
        old_name, new_name = ".".join(path), ".".join(now.to)
        new = _parent(config, now.to)
        if new is None:
            raise ConfigError(f"invalid configuration:\n  {old_name}: renamed {new_name}, whose "
                              f"parent is missing; write {new_name}")
        if now.to[-1] in new:
            raise ConfigError(f"invalid configuration:\n  {old_name} and {new_name} both given: "
                              f"{old_name} is the old name of {new_name}; keep {new_name} only")
        new[now.to[-1]] = old.pop(path[-1])
        notices.append(f"note: {old_name}: is now called {new_name}: (read as {new_name}:; "
                       f"rename it in the config file)")
    for line in notices:
        if notice is None:
            print(line, file=sys.stderr, flush=True)
        else:
            notice(line)
    return notices


def _renamed_problems(config: dict) -> list[str]:
    problems = []
    for path, now in renamed_keys().items():
        node = _parent(config, path)
        if not isinstance(now, Moved) and node is not None and path[-1] in node:
            problems.append(f"  {'.'.join(path)}: renamed; write {now}")
    return problems


def validate_schema(config: dict) -> dict:
    """Validate ``config`` in place against the schema and fill defaults (no checks across
    keys: :func:`alvae.checks.validate_config` adds them)."""
    move_renamed(config)
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
