"""Bad input through Snakemake (issue 17): each case stops before any job with one line
that names the key and says what is allowed, or runs and says so on the console."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import REPO, medmnist_arrays

pytestmark = pytest.mark.workflow


def smk(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def tiny() -> dict:
    return yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())


def error_lines(proc) -> list[str]:
    return [line for line in (proc.stdout + proc.stderr).splitlines()
            if line.strip() and not line.startswith("Using workflow specific profile")]


@pytest.mark.parametrize("mutate, expect", [
    (lambda c: c.update(alpha=-1), "alpha: -1 is not allowed; expected a number >= 0, or one of 'auto', 'auto_norm'"),
    (lambda c: c.update(alpha="big"), "alpha: 'big' is not allowed; expected a number >= 0, or one of 'auto', 'auto_norm'"),
    (lambda c: c.update(alpha="AUTO"), "alpha: 'AUTO' is not allowed; expected"),
    (lambda c: c.update(strategies=["random", "coreset_vae@0.5", "coreset_vae@0.50"]),
     "strategies: 'coreset_vae@0.5' and 'coreset_vae@0.50' are the same run"),
    (lambda c: c.update(strategies=["random", "coreset_vae", "coreset_vae+once"]),
     "strategies: 'coreset_vae' and 'coreset_vae+once' are the same run"),
    (lambda c: c.update(strategies=["random", "coreset_gmvae"], representation={"gmvae": {"components": 1000}}),
     "representation.gmvae.components (1000) must be smaller than datasets.digits.subset_size (600)"),
    (lambda c: c.update(strategies=["random", "typiclust"], typiclust={"min_cluster_size": 100000}),
     "typiclust.min_cluster_size (100000) must be smaller than datasets.digits.subset_size (600)"),
    (lambda c: c["datasets"]["digits"].update(test_size=10000),
     "datasets.digits.test_size (10000) is larger than the test split of digits (297)"),
    (lambda c: c["al"].update(initial_labels=1), "al.initial_labels (1) must be at least 3"),
    (lambda c: c["tsne"].update(initial_labels=2), "tsne.initial_labels (2) must be at least 3"),
    # issue 30: the minimum sizes, against the pool, the hold-out, the folds and the test split
    (lambda c: (c["datasets"]["digits"].update(subset_size=12),
                c["al"].update(initial_labels=2, labels_per_round=2, final_labels=4)),
     "al.initial_labels (2) must be at least 3: round 0 trains on them, and batch normalisation"),
    (lambda c: c["al"].update(initial_labels=3) or c["task_model"].update(val_fraction=0.3),
     "al.initial_labels (3) leaves 2 labeled point(s) to train on after task_model.val_fraction (0.3)"),
    (lambda c: (c["al"].update(initial_labels=5), c["task_model"].update(recipe="tuned"),
                c.update(tune={"folds": 2})),
     "tune.folds (2) leaves 2 of al.initial_labels (5) to train on in a fold"),
    (lambda c: c["datasets"]["digits"].update(test_size=1),
     "datasets.digits.test_size: 1 is less than the minimum of 2"),
    # issue 30: every kind's options are in the schema, with their minimums
    (lambda c: c["representation"].update(simclr={"batch_size": 1}),
     "representation.simclr.batch_size: 1 is less than the minimum of 2"),
    (lambda c: c["representation"].update(simclr={"batch_size": 0}),
     "representation.simclr.batch_size: 0 is less than the minimum of 2"),
    (lambda c: c["representation"].update(simclr={"widht": 16}),
     "representation.simclr: unknown key: Additional properties are not allowed ('widht' was unexpected)"),
    (lambda c: c["representation"].update(vae={"latent_dim": 4}),
     "representation.vae: unknown key: Additional properties are not allowed ('latent_dim' was unexpected)"),
    # issue 30: a value with a step says the step
    (lambda c: c.update(vaal={"image_size": 24}),
     "vaal.image_size: 24 is not allowed; expected an integer >= 16 and a multiple of 16, or 'auto'"),
])
def test_bad_value_stops_before_any_job_saying_what_is_allowed(tmp_path, mutate, expect):
    cfg = tiny()
    cfg["out_dir"] = str(tmp_path / "out")
    mutate(cfg)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk("-n", "--cores", "1", "--configfile", str(path))
    assert proc.returncode != 0
    err = error_lines(proc)
    assert any(expect in line for line in err) and len(err) <= 3, err
    assert not (tmp_path / "out" / "logs").exists()


def test_a_duplicate_block_in_the_configfile_is_an_error(tmp_path):
    text = (REPO / "tests/configs/tiny.yaml").read_text() + "\nal:\n  initial_labels: 10\n"
    path = tmp_path / "dup.yaml"
    path.write_text(text)
    proc = smk("-n", "--cores", "1", "--configfile", str(path))
    assert proc.returncode != 0
    err = error_lines(proc)
    assert any("duplicate key 'al'" in line and f"{path}:" in line for line in err), err
    checker = subprocess.run([sys.executable, "-m", "alvae.checks", str(path)], cwd=REPO,
                             capture_output=True, text=True)
    assert checker.returncode != 0 and "duplicate key 'al'" in checker.stderr


def _npz_config(tmp_path: Path, arrays: dict, **al) -> Path:
    data = tmp_path / "mine.npz"
    np.savez(data, **arrays)
    cfg = {"out_dir": str(tmp_path / "out"), "strategies": ["random"],
           "datasets": {"mine": {"source": "npz", "path": str(data), "subset_size": 40}},
           "al": {"initial_labels": 10, "labels_per_round": 10, "final_labels": 20, "seeds": [0], **al},
           "task_model": {"weights": None, "input_size": None, "batch_size": 8,
                          "epochs_initial": 1, "epochs_per_round": 1},
           "tsne": {"datasets": []}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_object_dtype_labels_are_named_not_called_corrupt(tmp_path):
    arrays = medmnist_arrays(3)
    arrays["train_labels"] = np.array([[1, 0, 0]] * 60, dtype=object)
    cfg = _npz_config(tmp_path, arrays)
    proc = smk(str(tmp_path / "out/data/mine/subset.npz"), "--cores", "1", "--configfile", str(cfg))
    assert proc.returncode != 0
    log = (tmp_path / "out/logs/subset/mine.log").read_text()
    assert "array 'train_labels' holds Python objects (dtype object)" in log
    assert "corrupt" not in log and "Traceback" not in log


def test_an_evaluation_split_sharing_training_images_is_said_on_the_console(tmp_path):
    arrays = medmnist_arrays(3)
    arrays["test_images"][:10] = arrays["train_images"][:10]
    cfg = _npz_config(tmp_path, arrays)
    out = tmp_path / "out"
    proc = smk(str(out / "data/mine/eval.npz"), "--cores", "1", "--configfile", str(cfg))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "10 of 30 test images also occur in the training split" in proc.stdout + proc.stderr
    with np.load(out / "data/mine/eval.npz") as ev:
        assert int(ev["shared_test"]) == 10 and int(ev["shared_val"]) == 0


def test_a_diverging_recipe_on_a_tiny_labeled_set_stops_with_one_line(tmp_path):
    """A pool of 12 with 3 initial labels and a large lr: the running variance of a batch
    norm overflows (and later the loss turns NaN). The job says so in one line, at the
    first epoch it happens (no traceback from a metric on NaN predictions)."""
    cfg = tiny()
    cfg.update(out_dir=str(tmp_path / "out"), strategies=["random"], tsne={"datasets": []})
    cfg["datasets"]["digits"]["subset_size"] = 12
    cfg["al"].update(initial_labels=3, labels_per_round=2, final_labels=5, seeds=[0])
    cfg["task_model"].update(lr=50.0, epochs_initial=30)
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    # --keep-going: the ceiling job (the same recipe on all 12 labels) diverges too, and
    # whichever of the two Snakemake starts first must not keep the other from running
    proc = smk("--cores", "1", "--resources", "gpu=1", "--keep-going", "--configfile", str(path))
    assert proc.returncode != 0
    log = (tmp_path / "out/logs/al_run/digits/random/seed0.log").read_text()
    # which buffer overflows first, and at which epoch, depends on the CPU's kernels (an
    # AMD EPYC: layer1.0.bn1 at epoch 7; an Intel Xeon with AMX: layer2.1.bn1): one line
    # names it, the epoch, the labels, the batch and the lr
    assert re.search(r"ERROR: \[digits/random/seed0\] round 0 labels 3 training diverged: the "
                     r"model holds NaN or infinite values \(net\.[\w.]+\) at epoch \d+ \(3 "
                     r"labeled points, batch 32, lr 50\.0\)", log), log[-2000:]
    assert "lower task_model.lr" in log
    assert "Traceback" not in log and "Input contains NaN" not in log
    ceiling = (tmp_path / "out/logs/ceiling/digits/seed0.log").read_text()
    assert "training diverged: " in ceiling and "Traceback" not in ceiling, ceiling[-2000:]


def test_a_finite_loss_with_an_overflowing_model_stops_with_one_line(tmp_path):
    """issue 30: 3 labels and lr 50 for 2 epochs: the train loss stays finite, but the
    last steps leave the model's batch-norm statistics or outputs infinite, and round 0's
    evaluation stopped with `ValueError: Input contains NaN` (a traceback from
    training/metrics.py). The job now ends with one line saying the training diverged."""
    cfg = tiny()
    cfg.update(out_dir=str(tmp_path / "out"), strategies=["random"], tsne={"datasets": []},
               ceiling={"enabled": False})
    cfg["datasets"]["digits"]["subset_size"] = 12
    cfg["al"].update(initial_labels=3, labels_per_round=2, final_labels=5, seeds=[0])
    cfg["task_model"].update(lr=50.0, epochs_initial=2)
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    metrics = tmp_path / "out/runs/digits/random/seed0/metrics.csv"
    proc = smk(str(metrics), "--cores", "1", "--resources", "gpu=1", "--configfile", str(path))
    assert proc.returncode != 0 and not metrics.exists()
    log = (tmp_path / "out/logs/al_run/digits/random/seed0.log").read_text()
    errors = [line for line in log.splitlines() if "ERROR" in line]
    assert len(errors) == 1, log[-3000:]
    assert errors[0] == (
        "ERROR: [digits/random/seed0] round 0 labels 3 training diverged: the model's predictions "
        "on the 297 evaluation images are NaN or infinite (batch 32, lr 50.0); lower "
        "task_model.lr, or start from more labels (al.initial_labels)"), log[-3000:]
    assert "Traceback" not in log and "Input contains NaN" not in log


# ----------------------------------------------------------------- issue 30
def _files_under(folder: Path, skip: Path) -> set:
    return {p for p in folder.rglob("*") if skip not in p.parents and p != skip}


def test_an_out_dir_that_cannot_be_written_is_one_line_naming_out_dir(tmp_path):
    """Planning writes under out_dir (the digest store of the source files): an out_dir
    that cannot be created stopped with a FileNotFoundError traceback."""
    cfg = tiny()
    cfg["out_dir"] = "/proc/alvae_out"  # /proc takes no new folder, not even from root
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk("-n", "--cores", "1", "--configfile", str(path))
    assert proc.returncode != 0
    err = error_lines(proc)
    assert err == ["ERROR: out_dir: cannot create or write the folder /proc/alvae_out (No such "
                   "file or directory); set out_dir to a folder you can write to"], err


def _manifest(folder: Path, labels: list) -> Path:
    """A CSV manifest of 8x8 PNG images with these labels (a column `label`)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    rows = ["path,label"]
    for i, label in enumerate(labels):
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(folder / f"{i}.png")
        rows.append(f"{i}.png,{label}")
    manifest = folder / "labels.csv"
    manifest.write_text("\n".join(rows) + "\n")
    return manifest


@pytest.mark.parametrize("missing", ["nan", "NaN", "NA", "null", ""])
def test_a_missing_label_in_a_manifest_is_refused_naming_the_rows(tmp_path, missing):
    """A label written `nan` became an 11th class named nan; every spelling of a missing
    value (and an empty cell) now stops the planning with one line naming the rows."""
    labels = ["cat", "dog"] * 10
    labels[3] = labels[11] = missing
    manifest = _manifest(tmp_path, labels)
    cfg = {"out_dir": str(tmp_path / "out"), "strategies": ["random"],
           "datasets": {"pets": {"source": "csv", "path": str(manifest), "test_size": 4,
                                 "subset_size": 10}},
           "al": {"initial_labels": 4, "labels_per_round": 2, "final_labels": 6, "seeds": [0]},
           "tsne": {"datasets": []}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk("-n", "--cores", "1", "--configfile", str(path))
    assert proc.returncode != 0
    err = error_lines(proc)
    found = "empty" if missing == "" else repr(missing)
    assert err[-1] == (f"  datasets.pets: {manifest} lines 5, 13: no label in column 'label' (a "
                       f"missing value: {found}); give every row a label, or remove those rows"), err
    assert len(err) == 2 and not (tmp_path / "out" / "logs").exists()


def test_planning_a_download_leaves_no_lock_file_in_the_data_folder(tmp_path):
    """With download: true and the files missing, planning (a dry run) left a 0-byte
    .alvae-download.lock in the data folder; it writes nothing outside out_dir now."""
    root = tmp_path / "mnist"
    cfg = {"out_dir": str(tmp_path / "out"), "strategies": ["random"],
           "datasets": {"m": {"source": "mnist", "root": str(root), "download": True,
                              "subset_size": 100}},
           "al": {"initial_labels": 10, "labels_per_round": 10, "final_labels": 20, "seeds": [0]},
           "tsne": {"datasets": []}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    before = _files_under(tmp_path, tmp_path / "out")
    proc = smk("-n", "--cores", "1", "--configfile", str(path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "rule subset:" in proc.stdout and "rule al_run:" in proc.stdout
    assert not root.exists()  # no lock file, no folder
    assert _files_under(tmp_path, tmp_path / "out") == before


def test_a_yaml_syntax_error_in_the_configfile(tmp_path):
    """Snakemake parses --configfile before the Snakefile runs, and says only that the
    file is not valid YAML (no file, no line): no code of the workflow runs to catch it.
    What can be done: the message is short (no traceback), and `python -m alvae.checks
    FILE` (docs/reliability.md) names the file, the line and the column."""
    path = tmp_path / "broken.yaml"
    path.write_text("out_dir: x\ndatasets:\n  digits: {source: digits, subset_size: 600\n"
                    "al:\n  initial_labels: 40\n")
    proc = smk("-n", "--cores", "1", "--configfile", str(path))
    assert proc.returncode != 0
    err = error_lines(proc)
    assert len(err) <= 3 and "Traceback" not in proc.stderr, err
    assert any("not valid JSON or YAML" in line for line in err), err
    checker = subprocess.run([sys.executable, "-m", "alvae.checks", str(path)], cwd=REPO,
                             capture_output=True, text=True)
    assert checker.returncode != 0
    assert checker.stderr.strip().splitlines() == [
        f"ERROR: {path}:4:3: YAML syntax error: expected ',' or '}}', but got ':'"], checker.stderr
    assert "python -m alvae.checks" in (REPO / "docs" / "reliability.md").read_text()


def test_simclr_options_reach_the_training_job(tmp_path):
    """representation.simclr's keys (defaults in the schema) reach the train_representation job: its own epochs
    override representation.epochs; the job trains that many epochs."""
    cfg = tiny()
    cfg.update(out_dir=str(tmp_path / "out"), strategies=["random", "coreset_simclr"],
               tsne={"datasets": []})
    cfg["datasets"]["digits"]["subset_size"] = 60
    cfg["al"].update(initial_labels=10, labels_per_round=10, final_labels=20, seeds=[0])
    cfg["representation"].update(epochs=1, simclr={"epochs": 2, "width": 4, "batch_size": 30})
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    losses = tmp_path / "out/representation/digits/simclr/shared/losses.csv"
    proc = smk(str(losses), "--cores", "1", "--configfile", str(path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = losses.read_text().strip().splitlines()
    assert len(rows) == 3 and rows[0].startswith("epoch"), rows  # header and 2 epochs
    log = (tmp_path / "out/logs/train_representation/digits/simclr/shared.log").read_text()
    assert "simclr epoch 2/2" in log
