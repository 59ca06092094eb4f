"""The data stage's checks of a config, before any job: each dataset entry against its
source (what the source itself checks and knows without loading: options, files, folders
or manifests, split sizes, image side, :mod:`alvae.data.sources`) and against the AL
budget and the task model's input size."""

from __future__ import annotations

from .sources import image_side, known_test_size, source_problems


def dataset_problems(config: dict) -> list[str]:
    """Every ``datasets.<name>`` entry: its source's keys, files and split sizes, and its
    subset against al.initial_labels, al.final_labels and task_model.input_size."""
    al = config["al"]
    problems = []
    for name, ds in config["datasets"].items():
        key = f"datasets.{name}"
        side, input_size = image_side(ds), config["task_model"].get("input_size")
        if side and input_size and input_size < side:
            problems.append(
                f"task_model.input_size ({input_size}) is smaller than the {side}-px images of "
                f"{key}: the task model would see them shrunk to {input_size} px; set "
                f"task_model.input_size: null (or {side})")
        # the source's own checks (a required option, folders, manifests, MedMNIST flags and
        # sizes), then subset_size against its known training split
        problems += source_problems(key, ds)
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
    for name, ds in config["datasets"].items():
        n_test = known_test_size(ds)
        if ds.get("test_size") is not None and n_test is not None and ds["test_size"] > n_test:
            problems.append(f"datasets.{name}.test_size ({ds['test_size']}) is larger than the "
                            f"test split of {ds['source']} ({n_test}); use null for all of it")
    return problems
