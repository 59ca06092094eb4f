"""The config schema: its file (package data, ``alvae/config.schema.yaml``; the workflow's
``workflow/schemas/config.schema.yaml`` links to it), the method names of
:mod:`alvae.vocabulary` filled in, and the defaults it declares, the only place a
default is written. Torch-free: the library's typed configs are built from here."""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from pathlib import Path

import yaml

from . import vocabulary

SCHEMA_PATH = Path(str(resources.files("alvae") / "config.schema.yaml"))


@functools.lru_cache(maxsize=1)
def _loaded() -> dict:
    with open(SCHEMA_PATH) as fh:
        return with_vocabulary(yaml.safe_load(fh))


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
                if t.takes_representation and not t.trains_module]
    props["tsne"]["properties"]["strategies"]["items"] = {
        "enum": distance + [f"{b}_{k}" for b in distance for k in vocabulary.KINDS]}
    vae_props = props["vae"]["properties"]
    for kind in vocabulary.KINDS:  # a kind's own options (vae.<kind>), checked by its module
        vae_props.setdefault(kind, {"type": "object",
                                    "description": f"options of the {kind} representation "
                                                   f"(alvae.representations.{kind})"})
    props["vae"]["additionalProperties"] = False
    for name, t in vocabulary.STRATEGIES.items():
        if t.latent_space:
            space = props[t.options]["properties"]["space"]
            props[t.options]["properties"]["space"] = {
                "enum": vocabulary.space_names(), "default": space["default"]}
    return schema


def defaults(section: str, sub: str | None = None) -> dict:
    """The defaults the schema declares for a top-level section (``task_model``, ``lloss``,
    ``typiclust``, ...), or for ``section.sub`` (``vae``, ``cvae``)."""
    node = _loaded()["properties"][section]
    if sub is not None:
        node = node["properties"][sub]
    return {k: json.loads(json.dumps(v["default"])) for k, v in node.get("properties", {}).items()
            if isinstance(v, dict) and "default" in v}


def with_defaults(section: str, given: dict | None, sub: str | None = None) -> dict:
    """``given`` (a validated config section, or a partial one in library use) over the
    schema's defaults of that section."""
    return {**defaults(section, sub), **(given or {})}
