"""The data stage's checks of a config, before any job: each dataset entry against its
source (flag, file, folder or manifest, split sizes known without loading) and against
the AL budget and the task model's input size."""

from __future__ import annotations

from typing import Any, Mapping

from .imagesources import image_side, spec_problems

# Size of the official training split of each named source (None: only known once loaded).
TRAIN_SPLIT_SIZES = {
    "digits": 1500,
    "mnist": 60000,
    "fashion_mnist": 60000,
    "cifar10": 50000,
    "cifar100": 50000,
    "svhn": 73257,  # train_32x32.mat (the `extra` split is not read)
}
# folder and csv sources: counted by alvae.data.imagesources.spec_problems, which names the folder.
# MedMNIST flags at 28 px: training-split sizes from medmnist's INFO are read at run time;
# ChestMNIST is listed so that the thesis config is checked before anything downloads.
MEDMNIST_TRAIN_SIZES = {"chestmnist": 78468}
# Test-split sizes known without loading (digits: the fixed split of alvae.data.loaders).
TEST_SPLIT_SIZES = {"digits": 297, "mnist": 10000, "fashion_mnist": 10000}


def known_train_size(ds: Mapping[str, Any]) -> int | None:
    """Training-split size of a dataset entry when it is known without loading it."""
    if ds["source"] == "medmnist":
        flag = ds.get("flag")  # MedMNIST+ keeps the 28-px splits at every size
        try:
            from medmnist import INFO  # noqa: PLC0415

            return int(INFO[flag]["n_samples"]["train"])
        except Exception:
            return MEDMNIST_TRAIN_SIZES.get(flag)
    return TRAIN_SPLIT_SIZES.get(ds["source"])


def known_test_size(ds: Mapping[str, Any]) -> int | None:
    """Test-split size of a dataset entry when it is known without loading it."""
    if ds["source"] == "medmnist":
        try:
            from medmnist import INFO  # noqa: PLC0415

            return int(INFO[ds.get("flag")]["n_samples"]["test"])
        except Exception:
            return None
    return TEST_SPLIT_SIZES.get(ds["source"])


def dataset_problems(config: dict) -> list[str]:
    """Every ``datasets.<name>`` entry: its source's keys, files and split sizes, and its
    subset against al.initial_labels, al.final_labels and task_model.input_size."""
    al = config["al"]
    problems = []
    for name, ds in config["datasets"].items():
        key = f"datasets.{name}"
        if ds["source"] == "medmnist" and not ds.get("flag"):
            problems.append(f"{key}.flag: a MedMNIST flag such as 'chestmnist' is required")
        if ds["source"] == "npz" and not ds.get("path"):
            problems.append(f"{key}.path: the .npz file is required for source npz")
        side, input_size = image_side(ds), config["task_model"].get("input_size")
        if side and input_size and input_size < side:
            problems.append(
                f"task_model.input_size ({input_size}) is smaller than the {side}-px images of "
                f"{key}: the task model would see them shrunk to {input_size} px; set "
                f"task_model.input_size: null (or {side})")
        source_problems = spec_problems(key, ds)  # folders, manifests, MedMNIST+ sizes
        problems += source_problems
        n_train = None if source_problems else known_train_size(ds)
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
    for name, ds in config["datasets"].items():
        n_test = known_test_size(ds)
        if ds.get("test_size") is not None and n_test is not None and ds["test_size"] > n_test:
            problems.append(f"datasets.{name}.test_size ({ds['test_size']}) is larger than the "
                            f"test split of {ds['source']} ({n_test}); use null for all of it")
    return problems
