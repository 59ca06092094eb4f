"""Issue 9: results that survive a kill, a rerun and hostile input (library level)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from alvae.al.loop import RunSpec, load_state, run_loop, save_state
from alvae.checks import validate_config
from alvae.config import ConfigError, read_yaml
from alvae.data.checks import check_dataset
from alvae.data.loaders import (
    DataError,
    draw_subset,
    load_digits_dataset,
    load_idx_dataset,
    load_npz_dataset,
    read_npz,
)
from alvae.io import DiskFullError, atomic_path
from conftest import REPO

TASK_MODEL = {"weights": None, "input_size": None, "lr": 0.001, "momentum": 0.9, "batch_size": 32,
              "epochs_initial": 1, "epochs_per_round": 0, "eval_batch_size": 512,
              "grayscale": "repeat", "train_until": None}
LLOSS = {"margin": 1.0, "weight": 1.0, "hidden": 16, "detach_after": 0.6}


def _tiny_config(**top):
    cfg = {"out_dir": "results/x", "datasets": {"d": {"source": "digits", "subset_size": 300}},
           "al": {"initial_labels": 30, "labels_per_round": 30, "final_labels": 90, "seeds": [0]},
           "strategies": ["random"]}
    cfg.update(top)
    return cfg


# ------------------------------------------------------------------ 1. run key
def test_resume_with_a_changed_test_split_equals_a_clean_run(tmp_path):
    """A state saved under one test split is refused under another (the old run key
    covered only the pool indices, so rows 0..k kept the old test set's metrics)."""
    ds = load_digits_dataset()
    old, new = draw_subset(ds, 100, 0, test_size=60), draw_subset(ds, 100, 0, test_size=40)
    np.testing.assert_array_equal(old.pool_indices, new.pool_indices)  # same pool
    al = {"initial_labels": 20, "labels_per_round": 20, "final_labels": 40}
    state = tmp_path / "state"
    run_loop(old, RunSpec("random", 0, al, TASK_MODEL, LLOSS), state_dir=state, log=lambda m: None)
    assert (state / "state.pt").is_file()  # as a killed job leaves it (here after its last round)
    lines = []
    resumed, _ = run_loop(new, RunSpec("random", 0, al, TASK_MODEL, LLOSS), state_dir=state, log=lines.append)
    clean, _ = run_loop(new, RunSpec("random", 0, al, TASK_MODEL, LLOSS), log=lambda m: None)
    strip = lambda rows: [{k: v for k, v in r.items() if not k.endswith("_time_s")} for r in rows]  # noqa: E731
    assert strip(resumed) == strip(clean)
    assert any("changed: test" in m and "starting from round 0" in m for m in lines), lines


def test_resume_key_covers_test_content_not_only_size(tmp_path):
    ds = load_digits_dataset()
    sub = draw_subset(ds, 100, 0, test_size=40)
    flipped = draw_subset(ds, 100, 0, test_size=40)
    flipped.test_images = flipped.test_images[:, :, ::-1, :].copy()  # same size, other content
    al = {"initial_labels": 20, "labels_per_round": 20, "final_labels": 40}
    run_loop(sub, RunSpec("random", 0, al, TASK_MODEL, LLOSS), state_dir=tmp_path, log=lambda m: None)
    lines = []
    run_loop(flipped, RunSpec("random", 0, al, TASK_MODEL, LLOSS), state_dir=tmp_path, log=lines.append)
    assert any("refusing the stale state" in m and "test" in m for m in lines)
    assert any("round 0 | labels 20" in m for m in lines)


# ------------------------------------------------------- 2. nothing outside out_dir
@pytest.mark.parametrize("out_dir, message", [
    ("", r"out_dir"),
    ("/", r"out_dir: '/' is the filesystem root"),
    ("//", r"out_dir: '//' is the filesystem root"),
])
def test_out_dir_must_be_a_folder_below_root(out_dir, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(_tiny_config(out_dir=out_dir))


@pytest.mark.parametrize("name", ["../up", "a/b", "..", "sp ace"])
def test_dataset_names_are_identifiers(name):
    cfg = _tiny_config()
    cfg["datasets"] = {name: {"source": "digits", "subset_size": 300}}
    with pytest.raises(ConfigError, match=r"datasets"):
        validate_config(cfg)


def test_dataset_names_with_dash_and_underscore_pass():
    cfg = _tiny_config()
    cfg["datasets"] = {"my-data_2": {"source": "digits", "subset_size": 300}}
    validate_config(cfg)


def test_out_dir_pointing_to_a_file_is_one_line(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ConfigError) as err:
        validate_config(_tiny_config(out_dir=str(f / "run")))
    assert f"out_dir: {f} exists and is not a folder" in str(err.value)
    assert len(str(err.value).splitlines()) == 2


# ------------------------------------------------------------ 4. integers only
@pytest.mark.parametrize("mutate, key", [
    (lambda c: c["al"].update(labels_per_round=40.0), "al.labels_per_round"),
    (lambda c: c["al"].update(seeds=[0, 1.0]), "al.seeds.1"),
    (lambda c: c["datasets"]["d"].update(subset_size=300.0), "datasets.d.subset_size"),
    (lambda c: c.update(task_model={"batch_size": 32.0}), "task_model.batch_size"),
    (lambda c: c.update(representation={"epochs": 2.0}), "representation.epochs"),
    (lambda c: c.update(gpu={"jobs_per_gpu": True}), "gpu.jobs_per_gpu"),
    (lambda c: c.update(task_model={"lr": True}), "task_model.lr"),
])
def test_integer_keys_take_integers_only(mutate, key):
    cfg = _tiny_config()
    mutate(cfg)
    with pytest.raises(ConfigError, match=rf"{key}: .* is not of type"):
        validate_config(cfg)


def test_number_keys_are_floats_whatever_the_spelling():
    a = validate_config(_tiny_config(task_model={"lr": 1, "weight_decay": 0}))
    b = validate_config(_tiny_config(task_model={"lr": 1.0, "weight_decay": 0.0}))
    assert repr(a["task_model"]["lr"]) == repr(b["task_model"]["lr"]) == "1.0"
    assert repr(a["task_model"]["weight_decay"]) == "0.0"
    assert a["al"]["labels_per_round"] == 30 and type(a["al"]["labels_per_round"]) is int


# ---------------------------------------------------------- 9. short messages
def test_unknown_top_level_key_is_one_short_line():
    with pytest.raises(ConfigError) as err:
        validate_config(_tiny_config(strategyz=["random"]))
    text = str(err.value)
    assert "strategyz" in text and len(text.splitlines()) == 2


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("out_dir: x\ndatasets:\n  d: {source: digits, subset_size: 600\nal: [\n")
    with pytest.raises(ConfigError, match=rf"^{bad}:4:3: YAML syntax error"):
        read_yaml(bad)


def test_config_checker_command_names_the_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("al:\n  seeds: [0\n")
    proc = subprocess.run([sys.executable, "-m", "alvae.checks", str(bad)], capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(REPO / "src")))
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith(f"ERROR: {bad}:3:1: YAML syntax error")
    assert "Traceback" not in proc.stderr


# --------------------------------------------------------------- 5. data errors
def _npz(path, **arrays):
    np.savez_compressed(path, **arrays)
    return path


def _arrays(n_train=60, side=8, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return {"train_images": rng.integers(0, 256, (n_train, side, side), dtype=np.uint8),
            "train_labels": np.arange(n_train) % classes,
            "test_images": rng.integers(0, 256, (20, side, side), dtype=np.uint8),
            "test_labels": np.arange(20) % classes}


def test_corrupt_compressed_npz_names_the_file(tmp_path):
    import struct
    import zipfile

    path = _npz(tmp_path / "data.npz", **_arrays(n_train=400))
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        off = zf.infolist()[0].header_offset
    name_len, extra_len = struct.unpack("<HH", raw[off + 26:off + 30])
    start = off + 30 + name_len + extra_len  # the first member's deflate stream
    raw[start:start + 8] = b"\xff" * 8  # an invalid block type: zlib.error before the fix
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=rf"^{path}: not a readable .npz file"):
        read_npz(path)


def test_single_class_is_refused(tmp_path):
    a = _arrays(classes=1)
    a["class_names"] = np.array(["a", "b"])
    ds = load_npz_dataset(_npz(tmp_path / "one.npz", **a))
    with pytest.raises(DataError, match=rf"{tmp_path / 'one.npz'}: the training split holds a single class"):
        check_dataset(ds)


def test_labels_implying_unseen_classes_are_refused(tmp_path):
    a = _arrays()
    a["train_labels"][0] = 99
    path = _npz(tmp_path / "gap.npz", **a)
    with pytest.raises(DataError, match=rf"{path}: labels run up to 99, which implies 100 classes, "
                                        r"but only 4 occur"):
        load_npz_dataset(path)


def test_images_too_small_are_refused_with_the_minimum(tmp_path):
    path = _npz(tmp_path / "tiny.npz", **_arrays(side=2))
    with pytest.raises(DataError, match=rf"{path}: images are 2×2 pixels; the models need at least 8×8"):
        check_dataset(load_npz_dataset(path))


def test_partial_idx_names_the_missing_files(idx_dir):
    (idx_dir / "t10k-labels-idx1-ubyte.gz").unlink()
    (idx_dir / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError) as err:
        load_idx_dataset("mnist", idx_dir)
    msg = str(err.value)
    assert "missing: train-labels-idx1-ubyte, t10k-labels-idx1-ubyte" in msg
    assert "t10k-images" not in msg.split("missing:")[1]


def test_test_split_sharing_images_warns_and_all_shared_stops(tmp_path):
    a = _arrays()
    a["test_images"][:5] = a["train_images"][10:15]
    warnings = check_dataset(load_npz_dataset(_npz(tmp_path / "some.npz", **a)))
    assert len(warnings) == 1 and "5 of 20 test images also occur in the training split" in warnings[0]
    a["test_images"] = a["train_images"][:20].copy()
    path = _npz(tmp_path / "all.npz", **a)
    with pytest.raises(DataError, match=rf"{path}: every test image \(20\) also occurs in the training"):
        check_dataset(load_npz_dataset(path))


def test_clean_dataset_passes_without_warnings():
    assert check_dataset(load_digits_dataset()) == []


# --------------------------------------------------------------- 6. full disk
def test_full_disk_says_so_and_names_the_path(tmp_path):
    target = tmp_path / "state" / "state.pt"

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(DiskFullError, match=rf"no space left on device: cannot write {target}"):
        with atomic_path(target) as tmp:
            full(tmp)


def test_torch_stream_error_on_a_full_disk_says_so(tmp_path, monkeypatch):
    import alvae.io

    monkeypatch.setattr(alvae.io, "free_bytes", lambda folder: 0)
    monkeypatch.setattr(torch, "save", lambda *a, **k: (_ for _ in ()).throw(
        RuntimeError("basic_ios::clear: iostream error")))
    with pytest.raises(DiskFullError, match=rf"no space left on device: cannot write {tmp_path / 's' / 'state.pt'}"):
        save_state(tmp_path / "s", {"round": 1})


def test_a_failed_write_leaves_the_previous_state_whole(tmp_path, monkeypatch):
    save_state(tmp_path, {"config_hash": "h", "round": 1, "labeled": np.arange(3)})
    real_save = torch.save

    def half_then_fail(obj, f, *a, **k):
        real_save(obj, f, *a, **k)
        with open(f, "r+b") as fh:
            fh.truncate(10)  # half written
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", half_then_fail)
    with pytest.raises(DiskFullError):
        save_state(tmp_path, {"config_hash": "h", "round": 2, "labeled": np.arange(6)})
    monkeypatch.setattr(torch, "save", real_save)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.pt"]  # no temporary left
    state = load_state(tmp_path, "h", lambda m: None)
    assert state["round"] == 1


def test_other_write_errors_are_not_called_a_full_disk(tmp_path):
    with pytest.raises(RuntimeError, match="^boom$"):
        with atomic_path(tmp_path / "x"):
            raise RuntimeError("boom")


# ------------------------------------------------------------ 7. permissions
def test_atomic_files_get_the_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "a.txt") as tmp:
            tmp.write_text("x")
        os.umask(0o002)
        with atomic_path(tmp_path / "b.txt") as tmp:
            tmp.write_text("x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.txt").stat().st_mode & 0o777 == 0o664


# ------------------------------------------------------- 8. logs after a kill
LOG_SCRIPT = r"""
import os, signal, sys
from alvae.logs import job_logger
log = job_logger(sys.argv[1])
log("round 1 | labels 60")
if sys.argv[2] == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
log("done")
"""


def test_a_rerun_keeps_the_killed_attempts_log_lines(tmp_path):
    path = tmp_path / "logs" / "job.log"
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    run = lambda mode: subprocess.run([sys.executable, "-c", LOG_SCRIPT, str(path), mode],  # noqa: E731
                                      env=env, capture_output=True, text=True)
    assert run("kill").returncode == -9
    path.unlink()  # what Snakemake does to a job's log file before it reruns the job
    assert run("ok").returncode == 0
    text = path.read_text()
    assert text.count("===== attempt") == 2
    first, second = text.split("===== attempt 2")
    assert "===== attempt 1" in first and "round 1 | labels 60" in first and "done" not in first
    assert "round 1 | labels 60" in second and "done" in second


# ------------------------------------------------------------ 11. clean tree
ARTIFACT_SUFFIXES = (".whl", ".npz", ".npy", ".pt", ".pth", ".ckpt", ".tar.gz", ".zip", ".egg",
                     ".so", ".pyc", ".h5", ".pkl")
IDX_NAMES = ("idx1-ubyte", "idx3-ubyte")


def test_no_build_artifacts_or_data_in_the_tree():
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.split("\0")
    files = [f for f in files if f]
    bad = [f for f in files if f.endswith(ARTIFACT_SUFFIXES) or any(n in f for n in IDX_NAMES)]
    big = [f for f in files if (REPO / f).is_file() and (REPO / f).stat().st_size > 1 << 20]
    assert not bad and not big, (bad, big)


# ------------------------------------------------- 10. make test sets up the system
def _fake_bin(tmp_path, uid: int, installed: bool):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    status = "install ok installed" if installed else ""
    (fake / "dpkg-query").write_text(f"#!/bin/sh\nprintf '{status}'\n")
    (fake / "apt-get").write_text("#!/bin/sh\necho apt-get must not run >&2\nexit 3\n")
    for f in fake.iterdir():
        f.chmod(0o755)
    return dict(os.environ, PATH=f"{fake}:{os.environ['PATH']}")


def test_sysdeps_as_a_user_stops_with_the_command_to_run(tmp_path):
    env = _fake_bin(tmp_path, 1000, installed=False)
    proc = subprocess.run(["bash", ".ci/setup-system.sh", ".venv"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "dataset-fashion-mnist" in proc.stderr and "sudo make sysdeps" in proc.stderr
    assert "apt-get must not run" not in proc.stderr


def test_sysdeps_does_nothing_when_installed(tmp_path):
    env = _fake_bin(tmp_path, 0, installed=True)
    proc = subprocess.run(["bash", ".ci/setup-system.sh", ".venv"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""


def test_make_test_and_ci_share_the_system_setup():
    dry = subprocess.run(["make", "-n", "test"], cwd=REPO, capture_output=True, text=True).stdout
    assert "bash .ci/setup-system.sh" in dry and dry.index("setup-system.sh") < dry.index("pytest")
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci and "apt-get" not in ci  # one place: .ci/setup-system.sh
