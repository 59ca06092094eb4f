"""The tuning stage through Snakemake: a real tiny tuned run (recipe.yaml, trials.csv,
the history figure, the Classifier page, AL jobs that train with the recipe), what a
changed tune setting reruns, and bad tune values stopped before any job."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import REPO
from test_workflow import build_report, dry_run_with, smk

pytestmark = pytest.mark.workflow
TUNED = REPO / "tests/configs/tiny_tuned.yaml"


def _config(tmp: Path) -> dict:
    cfg = yaml.safe_load(TUNED.read_text())
    cfg["out_dir"] = str(tmp / "out")
    cfg["gpu"] = {"lock_dir": str(tmp / "locks")}
    return cfg


@pytest.fixture(scope="module")
def tuned_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tuned")
    cfg = _config(tmp)
    path = tmp / "tuned.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk("--cores", "2", "--resources", "gpu=2", "--configfile", str(path))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return path, Path(cfg["out_dir"]), cfg


def _dry_run_with(tuned_run, tmp_path, mutate):
    return dry_run_with(tuned_run[0], tmp_path, mutate, sort_keys=False)


def test_tuned_run_writes_the_recipe_and_trains_with_it(tuned_run):
    _, out, cfg = tuned_run
    tune = out / "tune" / "digits" / "shared"
    recipe = yaml.safe_load((tune / "recipe.yaml").read_text())
    trials = pd.read_csv(tune / "trials.csv")
    assert len(trials) == 3 and bool(trials["fixed"].iloc[0])
    assert trials["param_batch_size"].iloc[0] == 32 and trials["param_epochs_initial"].iloc[0] == 1
    assert set(recipe["task_model"]) == {"lr", "batch_size", "epochs_initial"}
    assert recipe["cv_score"] >= recipe["fixed_cv_score"] and recipe["al_seed"] == 0
    assert (tune / "history.png").stat().st_size > 10_000
    assert (tune / "study.db").stat().st_size > 0  # kept, so that a killed job resumes
    log = (out / "logs" / "tune" / "digits" / "shared.log").read_text()
    ceiling_log = (out / "logs" / "ceiling" / "digits" / "seed0.log").read_text()
    assert f"recipe: tuned ({tune / 'recipe.yaml'})" in ceiling_log
    assert "40 labeled points (AL seed 0), 2-fold CV in accuracy" in log
    assert "trial 0 (1/3, fixed recipe) params" in log and "| cv accuracy" in log
    # every AL job trained round 0 with the recipe's epochs (the fixed recipe has 1)
    runs = pd.read_csv(out / "results" / "runs.csv")
    r0 = runs[runs["round"] == 0]
    assert (r0["epochs"] == recipe["task_model"]["epochs_initial"]).all()
    al_log = (out / "logs" / "al_run" / "digits" / "entropy" / "seed1.log").read_text()
    assert "recipe: tuned" in al_log
    # the fixed recipe's round 0 per seed, and the Classifier page
    fixed = pd.read_csv(out / "tune" / "digits" / "fixed" / "seed1.csv")
    assert list(fixed["round"]) == [0] and int(fixed["epochs"].iloc[0]) == 1
    page = (out / "report" / "classifier.rst").read_text()
    assert "Recipe: **tuned**" in page and "Study **shared**" in page
    assert "Round 0 on the test split, fixed vs tuned recipe" in page
    for seed in (0, 1):
        t = r0[(r0["strategy"] == "random") & (r0["seed"] == seed)]["test_acc"].iloc[0]
        assert f'"{seed}", "' in page and f"{t:.4g}" in page
    assert "train accuracy" in page


def test_the_tune_job_reads_the_pool_file_alone(tuned_run):
    path, out, _ = tuned_run
    proc = smk("-n", "--cores", "1", "--configfile", str(path), "--forcerun", "tune",
               "--until", "tune")
    text = proc.stdout + proc.stderr
    block = text.split("rule tune:", 1)[1].split("\n\n", 1)[0]
    inputs = block.split("input:", 1)[1].splitlines()[0]
    assert inputs.strip() == f"{out}/data/digits/subset.npz", block


def test_report_has_the_classifier_section(tuned_run):
    path, out, _ = tuned_run
    text = build_report(path, out / "report.html")
    for name in ("classifier.rst", "recipe.yaml", "trials.csv", "history.png", "Classifier"):
        assert name in text, f"{name} missing from the report"


def test_second_tuned_run_does_nothing(tuned_run):
    path, _, _ = tuned_run
    proc = smk("-n", "--cores", "2", "--configfile", str(path))
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_more_trials_rerun_tuning_and_the_al_runs(tuned_run, tmp_path):
    counts = _dry_run_with(tuned_run, tmp_path, lambda c: c["tune"].update(trials=4))
    assert counts["tune"] == 1 and counts["al_run"] == 4
    assert counts["ceiling"] == 2  # the ceilings train with the AL runs' recipe (issue 22)
    assert "fixed_round0" not in counts and "subset" not in counts
    # a key round 0 does not use: the AL runs rerun, the study does not
    counts = _dry_run_with(tuned_run, tmp_path, lambda c: c["task_model"].update(
        epochs_per_round=2))
    assert "tune" not in counts and counts["al_run"] == 4


def _reorder(cfg):
    cfg["tune"] = dict(reversed(list(cfg["tune"].items())))
    cfg["tune"]["space"] = dict(reversed(list(cfg["tune"]["space"].items())))
    cfg["tune"]["space"]["lr"] = {"log": True, "high": 0.1, "low": 0.005}


def _defaults_written_out(cfg):
    cfg["tune"].update(scope="dataset", metric="auto", pruner="median", storage="sqlite",
                       prune_after=2, workers=1, compare_fixed=True)
    cfg["tune"]["space"].update(momentum=None, min_steps=None)
    cfg["tune"]["space"]["epochs_initial"]["log"] = False


@pytest.mark.parametrize("mutate", [_reorder, _defaults_written_out])
def test_reordered_tune_keys_rerun_nothing(tuned_run, tmp_path, mutate):
    assert _dry_run_with(tuned_run, tmp_path, mutate) == {}


def test_storage_reruns_nothing_but_scope_seed_tunes_per_seed(tuned_run, tmp_path):
    # where the study is kept does not change what it finds: only the record of the settings
    counts = _dry_run_with(tuned_run, tmp_path, lambda c: c["tune"].update(storage="journal"))
    assert counts == {"report_text": 1, "all": 1}
    counts = _dry_run_with(tuned_run, tmp_path, lambda c: c["tune"].update(scope="seed"))
    assert counts["tune"] == 2 and counts["al_run"] == 4
    counts = _dry_run_with(tuned_run, tmp_path,
                           lambda c: c["tune"].update(storage="journal", workers=3))
    assert counts == {"tune_worker": 2, "report_text": 1, "all": 1}  # workers of the study


@pytest.mark.parametrize("mutate,expect", [
    (lambda c: c["tune"]["space"].update(stem=["imagenet", "big"]), "tune.space.stem"),
    (lambda c: c["tune"].update(folds=1), "tune.folds"),
    (lambda c: c["tune"].update(folds=30), "tune.folds (30) needs at least 60 initial labels"),
    (lambda c: c["tune"]["space"].update(lr={"low": 0.1, "high": 0.01}), "tune.space.lr"),
    (lambda c: c["tune"]["space"].update(weight_decay={"low": 1e-5, "high": 1e-2, "log": True}),
     "tune.space.weight_decay"),
    (lambda c: c["tune"].update(trails=5), "trails"),
    (lambda c: c["tune"].update(workers=2), "tune.workers"),
    (lambda c: c["task_model"].update(recipe="auto"), "task_model.recipe"),
    (lambda c: c["tune"].update(space={k: None for k in ("lr", "weight_decay", "batch_size",
                                                          "epochs_initial", "augment", "stem",
                                                          "lr_schedule")}),
     "nothing to tune"),
])
def test_bad_tune_values_stop_before_any_job(tmp_path, mutate, expect):
    cfg = _config(tmp_path)
    mutate(cfg)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk("-n", "--cores", "1", "--configfile", str(path))
    err = proc.stdout + proc.stderr
    assert proc.returncode != 0 and expect in err, err[-2000:]
    assert "Traceback" not in err and "rule " not in err
