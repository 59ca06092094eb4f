"""The config schema: its file (package data, ``alvae/config.schema.yaml``; the workflow's
``workflow/schemas/config.schema.yaml`` links to it), the method names of
:mod:`alvae.vocabulary` filled in, and the defaults it declares, the only place a
default is written. Torch-free: the library's typed configs are built from here."""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from . import vocabulary

SCHEMA_PATH = Path(str(resources.files("alvae") / "config.schema.yaml"))


@functools.lru_cache(maxsize=1)
def _loaded() -> dict:
    with open(SCHEMA_PATH) as fh:
        return with_sources(with_vocabulary(yaml.safe_load(fh)))


def load() -> dict:
    """The config schema, with the method names of alvae.vocabulary filled in (the file
    allows any well-spelled name; the lists live in one place, the vocabulary)."""
    return copy.deepcopy(_loaded())


def with_vocabulary(schema: dict) -> dict:
    """``schema`` with the enums of strategy names, t-SNE strategies and strategy spaces
    taken from :mod:`alvae.vocabulary`."""
    props = schema["properties"]
    label = props["strategies"]["items"]
    props["strategies"]["items"] = {"anyOf": [
        {"enum": vocabulary.strategy_names()},
        {"pattern": vocabulary.strategy_label_pattern(), "description": label["description"]}]}
    distance = [b for b, t in vocabulary.STRATEGIES.items()
                if t.takes_representation and not t.trains_loss_module]
    props["tsne"]["properties"]["strategies"]["items"] = {
        "enum": distance + [f"{b}_{k}" for b in distance for k in vocabulary.KINDS]}
    rep_props = props["representation"]["properties"]
    for kind in vocabulary.KINDS:  # a kind's own options (representation.<kind>) are in the schema file;
        # a kind without any gets a block that refuses every key (a typo is not ignored)
        rep_props.setdefault(kind, {"type": "object", "additionalProperties": False,
                                    "properties": {},
                                    "description": f"the {kind} representation has no options "
                                                   f"of its own (the representation keys above apply)"})
    props["representation"]["additionalProperties"] = False
    space = props["al"]["properties"]["initial_space"]
    props["al"]["properties"]["initial_space"] = {
        "enum": [None, *(k for k, t in vocabulary.KINDS.items() if not t.uses_labels)],
        "default": space["default"], "description": space.get("description", "")}  # not config
    feats = props["task_model"]["properties"]["features"]
    props["task_model"]["properties"]["features"] = {
        "enum": [None, *vocabulary.KINDS], "default": feats["default"],
        "description": feats.get("description", "")}  # not config
    for name, t in vocabulary.STRATEGIES.items():
        if t.latent_space:
            space = props[t.options]["properties"]["space"]
            props[t.options]["properties"]["space"] = {
                "enum": vocabulary.space_names(), "default": space["default"],
                "description": space.get("description", "")}  # not config
    return schema


def with_sources(schema: dict) -> dict:
    """``schema`` with the names of :data:`alvae.vocabulary.SOURCES` as the values
    ``datasets.<name>.source`` takes (the file allows any string; the registry is the list)."""
    node = schema["properties"]["datasets"]["additionalProperties"]["properties"]["source"]
    node.pop("type", None)  # (one line for a value that is not a name, as for any enum)
    node["enum"] = list(vocabulary.SOURCES)
    return schema


@dataclass(frozen=True)
class Moved:
    """A key read under its new name (the same setting): ``to`` is its new path."""

    to: tuple[str, ...]


def renamed_keys() -> dict[tuple[str, ...], str | Moved]:
    """The keys that changed name, from the schema's ``x-renamed`` entries (each beside the
    keys that replace it): old path -> a line saying what to write (the meaning changed
    too: refused), or :class:`Moved` (the same setting: read as the new key, with a
    notice; :func:`alvae.config.move_renamed`)."""
    return dict(_renamed_items())


@functools.lru_cache(maxsize=1)
def _renamed_items() -> tuple:
    table = []

    def walk(node: dict, path: tuple[str, ...]) -> None:
        for old, now in (node.get("x-renamed") or {}).items():  # not config (the schema)
            table.append(((*path, old), Moved((*path, now["read_as"])) if isinstance(now, dict)
                          else now))
        for key, sub in (node.get("properties") or {}).items():  # not config (the schema)
            if isinstance(sub, dict):
                walk(sub, (*path, key))

    walk(_loaded(), ())
    return tuple(table)


def defaults(section: str, sub: str | None = None) -> dict:
    """The defaults the schema declares for a top-level section (``task_model``, ``lloss``,
    ``typiclust``, ...), or for ``section.sub`` (``representation`` and a kind's name)."""
    node = _loaded()["properties"][section]
    if sub is not None:
        node = node["properties"][sub]
    return _defaults_of(node)


def dataset_defaults() -> dict:
    """The defaults the schema declares for one ``datasets.<name>`` entry."""
    return _defaults_of(_loaded()["properties"]["datasets"]["additionalProperties"])


def range_defaults() -> dict:
    """The defaults the schema declares for a range ``{low, high, log}`` of ``tune.space``."""
    options = _loaded()["$defs"]["tune_dimension"]["anyOf"]
    return _defaults_of(next(o for o in options if o.get("type") == "object"))


def _defaults_of(node: dict) -> dict:
    props = node.get("properties", {})  # not config (a node of the schema)
    return {k: json.loads(json.dumps(v["default"])) for k, v in props.items()
            if isinstance(v, dict) and "default" in v}


def with_defaults(section: str, given: dict | None, sub: str | None = None) -> dict:
    """``given`` (a validated config section, or a partial one in library use) over the
    schema's defaults of that section."""
    return {**defaults(section, sub), **(given or {})}


# ---------------------------------------------------------------- the reference
REFERENCE_HEAD = """# Configuration reference

Generated from the schema (`src/alvae/config.schema.yaml`, with the method names of
`src/alvae/vocabulary.py`) by `python -m alvae.schema > docs/configuration.md`; a test
keeps this file in step with it. The schema is the only place a default is written.

`config.yaml` is the thesis experiment, `presets/` the other studies (`demo.yaml`,
`fashion.yaml`, `fashion_cpu.yaml`, `features.yaml`, `strong.yaml`, `future.yaml`,
`representations.yaml`, `baselines.yaml`, `alpha_sweep.yaml`), `tests/configs/tiny.yaml` the smallest run the tests use. A
`--configfile` replaces `config.yaml` rather than being merged into it. Everything is
validated before any job runs; each bad key is one line that names it and says what is
allowed ([reliability.md](reliability.md#bad-input)).

| key | default | allowed | meaning |
|---|---|---|---|
"""


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _allowed(node: dict) -> str:
    if "enum" in node:
        return ", ".join("null" if v is None else f"`{v}`" for v in node["enum"])
    for key in ("oneOf", "anyOf"):
        if key in node:
            return " or ".join(_allowed(o) for o in node[key])
    if "$ref" in node:
        return "a list of choices or a range `{low, high, log}`, or null"
    if node.get("type") == "array" and isinstance(node.get("items"), dict) and (
            {"enum", "anyOf", "oneOf"} & set(node["items"])):
        return "a list of " + _allowed(node["items"])
    if "pattern" in node:
        return f"a string like `{node['pattern']}`"
    types = node.get("type", "")  # not config
    types = [types] if isinstance(types, str) else list(types)
    text = " or ".join(t for t in types if t)
    bounds = [f"{op} {node[k]}" for k, op in (("minimum", ">="), ("exclusiveMinimum", ">"),
                                              ("maximum", "<="), ("exclusiveMaximum", "<"))
              if k in node]
    if "multipleOf" in node:
        bounds.append(f"a multiple of {node['multipleOf']}")
    return (text + (" " + ", ".join(bounds) if bounds else "")) or "see meaning"


def _rows(node: dict, path: str):
    for key, sub in node.get("properties", {}).items():  # not config
        if not isinstance(sub, dict):
            continue
        here = f"{path}.{key}" if path else key
        extra = sub.get("additionalProperties")
        if sub.get("type") == "object" and ("properties" in sub or isinstance(extra, dict)) \
                and key != "equivalence_margin":
            if sub.get("description"):
                yield here, "", "a mapping", sub["description"]
            yield from _rows(sub, here)
            continue
        if "default" in sub:
            default = "null" if sub["default"] is None else f"`{json.dumps(sub['default'])}`"
        else:
            default = "required" if key in node.get("required", ()) else ""  # not config
        yield here, default, _allowed(sub), sub.get("description", "")  # not config
    extra = node.get("additionalProperties")
    if isinstance(extra, dict) and "properties" in extra:
        yield from _rows(extra, f"{path}.<name>")


def reference_markdown() -> str:
    """docs/configuration.md: every key of the schema with its default, what it allows
    and its meaning."""
    rows = [f"| `{k}` | {_cell(d)} | {_cell(a)} | {_cell(m)} |" for k, d, a, m in _rows(_loaded(), "")]
    return REFERENCE_HEAD + "\n".join(rows) + "\n" + _renamed_markdown()


def _renamed_markdown() -> str:
    """The table of renamed keys (:func:`renamed_keys`)."""
    rows = [f"| `{'.'.join(old)}` | read as `{'.'.join(now.to)}`, with a notice |"
            if isinstance(now, Moved) else f"| `{'.'.join(old)}` | refused: write {_cell(now)} |"
            for old, now in renamed_keys().items()]
    return ("\n## Renamed keys\n\nA key that kept its meaning is read under its new name, with a "
            "one-line notice; a key whose meaning changed is refused with what to write "
            "(`x-renamed` in the schema, `alvae.config`).\n\n| old key | now |\n|---|---|\n"
            + "\n".join(rows) + "\n")


if __name__ == "__main__":  # python -m alvae.schema > docs/configuration.md
    print(reference_markdown(), end="")
