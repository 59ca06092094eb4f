"""Checking a config (or one section of it) against the schema: one short line per bad
key, integers kept integers, the schema's defaults filled in, numbers made floats where
the schema says ``number``. Below :mod:`alvae.config` and :mod:`alvae.checks` (which
adds the cross-field checks) so that a stage can check its own section without
importing the whole config layer (:func:`checked_section`)."""

from __future__ import annotations

import copy
import json
from typing import Mapping

from . import schema
from .errors import ConfigError


def _schema() -> dict:
    return schema.load()


def _validator_with_defaults():
    import jsonschema

    base = jsonschema.Draft202012Validator
    validate_props = base.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = json.loads(json.dumps(sub["default"]))
        yield from validate_props(validator, properties, instance, schema)

    # JSON Schema counts 40.0 as an integer; a Python job would then get a float where it
    # slices or counts. Integers are ints here (and booleans are not numbers).
    checker = base.TYPE_CHECKER.redefine(
        "integer", lambda _, v: isinstance(v, int) and not isinstance(v, bool))
    return jsonschema.validators.extend(base, {"properties": set_defaults}, type_checker=checker)


def _coerce_numbers(instance, schema: dict) -> None:
    """Turn ints into floats where the schema says ``number`` (``lr: 1`` and ``lr: 1.0`` are
    the same setting, so that Snakemake sees the same params and reruns nothing)."""
    if isinstance(instance, dict):
        props = schema.get("properties", {})  # not config (a node of the schema)
        extra = schema.get("additionalProperties")
        for key, value in instance.items():
            sub = props.get(key, extra if isinstance(extra, dict) else None)
            if not isinstance(sub, dict):
                continue
            types = sub.get("type")
            types = [types] if isinstance(types, str) else (types or [])
            if "number" in types and "integer" not in types and type(value) is int:
                instance[key] = float(value)
            else:
                _coerce_numbers(value, sub)


def _describe(schema: dict) -> str:
    """A short description of a (simple) sub-schema: 'a number >= 0', "one of 'auto', ..."."""
    if "enum" in schema:
        values = [repr(v) if v is not None else "null" for v in schema["enum"]]
        return values[0] if len(values) == 1 else "one of " + ", ".join(values)
    if "pattern" in schema:
        return schema.get("description") or f"a string matching {schema['pattern']}"
    types = schema.get("type")
    types = [types] if isinstance(types, str) else list(types or [])
    words = {"number": "a number", "integer": "an integer", "string": "a string", "null": "null",
             "boolean": "true or false", "array": "a list", "object": "a mapping"}
    text = " or ".join(words.get(t, t) for t in types) or "a value"
    bounds = [(k, op) for k, op in (("minimum", ">="), ("exclusiveMinimum", ">"),
                                    ("maximum", "<="), ("exclusiveMaximum", "<")) if k in schema]
    if bounds:
        text += " " + " and ".join(f"{op} {schema[k]}" for k, op in bounds)
    if "multipleOf" in schema:
        text += f"{' and' if bounds else ''} a multiple of {schema['multipleOf']}"
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        items = schema["items"]
        plural = {"string": "strings", "number": "numbers", "integer": "integers"}.get(items.get("type"))
        least = f"at least {schema['minItems']} " if schema.get("minItems", 0) > 1 else ""  # not config
        text = f"a list of {least}{plural}" if plural else f"a list, each {_describe(items)}"
    return text


def _allowed(schema: dict) -> str:
    options = schema.get("oneOf") or schema.get("anyOf") or []
    return ", or ".join(_describe(o) for o in options) or "a value the schema allows"


# keys renamed, with the name to use now (so that an old config gets a clear line)
def _schema_problems(schema: dict, instance, prefix: tuple = ()) -> list[str]:
    """One line per value of ``instance`` that ``schema`` refuses, naming its key (below
    ``prefix``, the path of ``schema`` in the whole config); fills the defaults in."""
    validator = _validator_with_defaults()(schema)
    lines = []
    for err in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        msg = err.message
        if err.validator == "additionalProperties":
            msg = f"unknown key: {msg}"
        elif err.validator in ("anyOf", "oneOf"):  # say what is allowed, in words
            msg = f"{err.instance!r} is not allowed; expected {_allowed(err.schema)}"
        elif len(msg) > 200:  # oneOf/anyOf quote the whole sub-schema: keep the line short
            msg = f"{err.instance!r} is not valid here (see the schema's description)"
        path = [*prefix, *(str(p) for p in err.absolute_path)]
        lines.append(f"{'.'.join(path) or '(top level)'}: {msg}")
    return lines


def checked_section(path: tuple, given: Mapping | None) -> dict:
    """A config section as a library caller gives it (``("representation", <kind>)``, say), checked
    against its part of the schema as the workflow checks it, with the schema's defaults
    filled in. Raises :class:`ConfigError` naming each bad key."""
    node = _schema()
    for key in path:
        node = node["properties"][key]
    section = copy.deepcopy(dict(given or {}))
    lines = _schema_problems(node, section, tuple(path))
    if lines:
        raise ConfigError("; ".join(lines))
    _coerce_numbers(section, node)
    return section
