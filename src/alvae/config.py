"""Configuration: schema validation with defaults, cross-field checks, hashing.

The workflow validates ``config`` with the same schema (Snakemake's ``validate``)
and then calls :func:`check_config`; library users call :func:`load_config`.
Every failure raises :class:`ConfigError` naming the key to fix.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Mapping

import yaml

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"

# Size of the official training split of each named source (None: only known once loaded).
TRAIN_SPLIT_SIZES = {
    "digits": 1500,
    "mnist": 60000,
    "fashion_mnist": 60000,
}
# MedMNIST flags at 28 px: training-split sizes from medmnist's INFO are read at run time;
# ChestMNIST is listed so that the thesis config is checked before anything downloads.
MEDMNIST_TRAIN_SIZES = {"chestmnist": 78468}


class ConfigError(ValueError):
    """A configuration value that cannot work; the message names the key."""


def _schema() -> dict:
    with open(SCHEMA_PATH) as fh:
        return yaml.safe_load(fh)


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

    return jsonschema.validators.extend(base, {"properties": set_defaults})


def _key_path(error) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "(top level)"


def validate_config(config: dict) -> dict:
    """Validate ``config`` in place against the schema, fill defaults, check it."""
    validator = _validator_with_defaults()(_schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for err in errors:
            msg = err.message
            if err.validator == "additionalProperties":
                msg = f"unknown key: {msg}"
            elif err.validator == "anyOf" and err.context:  # say what each option wanted
                msg = "; or ".join(e.message for e in err.context)
            lines.append(f"  {_key_path(err)}: {msg}")
        raise ConfigError("invalid configuration:\n" + "\n".join(lines))
    check_config(config)
    return config


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> dict:
    """Read a YAML config, apply top-level ``overrides``, validate and fill defaults."""
    with open(path) as fh:
        config = yaml.safe_load(fh) or {}
    config.update(overrides or {})
    return validate_config(config)


def known_train_size(ds: Mapping[str, Any]) -> int | None:
    """Training-split size of a dataset entry when it is known without loading it."""
    if ds["source"] == "medmnist":
        flag = ds.get("flag")
        if ds.get("size", 28) != 28:
            return None
        try:
            from medmnist import INFO  # noqa: PLC0415

            return int(INFO[flag]["n_samples"]["train"])
        except Exception:
            return MEDMNIST_TRAIN_SIZES.get(flag)
    return TRAIN_SPLIT_SIZES.get(ds["source"])


def check_config(config: dict) -> None:
    """Cross-field checks the schema cannot express. Raises :class:`ConfigError`."""
    al = config["al"]
    problems = []
    if al["final_labels"] < al["initial_labels"]:
        problems.append(
            f"al.final_labels ({al['final_labels']}) is smaller than al.initial_labels "
            f"({al['initial_labels']})"
        )
    for name, ds in config["datasets"].items():
        key = f"datasets.{name}"
        if ds["source"] == "medmnist" and not ds.get("flag"):
            problems.append(f"{key}.flag: a MedMNIST flag such as 'chestmnist' is required")
        if ds["source"] == "npz" and not ds.get("path"):
            problems.append(f"{key}.path: the .npz file is required for source npz")
        n_train = known_train_size(ds)
        if n_train is not None and ds["subset_size"] > n_train:
            problems.append(
                f"{key}.subset_size ({ds['subset_size']}) is larger than the training split "
                f"of {ds['source']}{'/' + ds['flag'] if ds.get('flag') else ''} ({n_train})"
            )
        if al["initial_labels"] >= ds["subset_size"]:
            problems.append(
                f"al.initial_labels ({al['initial_labels']}) must be smaller than "
                f"{key}.subset_size ({ds['subset_size']})"
            )
        if al["final_labels"] > ds["subset_size"]:
            problems.append(
                f"al.final_labels ({al['final_labels']}) is larger than {key}.subset_size "
                f"({ds['subset_size']})"
            )
    tsne = config["tsne"]
    for name in tsne["datasets"]:
        if name not in config["datasets"]:
            problems.append(f"tsne.datasets: {name!r} is not a configured dataset")
            continue
        size = config["datasets"][name]["subset_size"]
        if tsne["initial_labels"] + tsne["candidates"] > size:
            problems.append(
                f"tsne.initial_labels + tsne.candidates ({tsne['initial_labels']} + "
                f"{tsne['candidates']}) exceed datasets.{name}.subset_size ({size})"
            )
    if tsne["pick"] > tsne["candidates"]:
        problems.append(f"tsne.pick ({tsne['pick']}) exceeds tsne.candidates ({tsne['candidates']})")
    pairs = config["stats"]["pairs"]
    if pairs != "auto":
        for a, b in pairs:
            for s in (a, b):
                if s not in config["strategies"]:
                    problems.append(f"stats.pairs: {s!r} is not in strategies")
    if problems:
        raise ConfigError("invalid configuration:\n" + "\n".join(f"  {p}" for p in problems))


def config_hash(params: Mapping[str, Any]) -> str:
    """Stable short hash of a JSON-able mapping (the settings a job depends on)."""
    blob = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def array_digest(array) -> str:
    """Short content hash of an array (identifies a pool or a latents file)."""
    import numpy as np

    data = np.ascontiguousarray(array)
    return hashlib.sha256(str(data.dtype).encode() + str(data.shape).encode() + data.tobytes()).hexdigest()[:16]
