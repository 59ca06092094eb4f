"""The tuning stage's library (alvae.training.tune): what the search reads, the fixed recipe as
trial 0, resuming a killed study, storages, folds, pruning and the recipe file."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from alvae.config import ConfigError
from alvae.data.loaders import draw_subset, load_digits_dataset
from alvae.seeds import initial_labeled
from alvae.training.tune import (
    apply_recipe,
    chosen_recipe,
    counted_trials,
    cv_folds,
    distributions,
    history_figure,
    labeled_set,
    read_recipe,
    run_study,
    storage_for,
    tune_recipe,
    write_recipe,
)

QUIET = lambda msg: None  # noqa: E731
N_INITIAL, SEED = 40, 0
FIXED = {"weights": None, "input_size": None, "grayscale": "repeat", "lr": 0.001, "momentum": 0.9,
         "weight_decay": 0.0, "batch_size": 16, "epochs_initial": 1, "epochs_per_round": 1,
         "eval_batch_size": 512, "precision": "auto", "train_until": None,
         "stem": "imagenet", "augment": False, "crop_padding": 4, "hflip": False,
         "lr_schedule": "none", "min_steps": 0, "val_fraction": 0.0, "deterministic": True}
# tiny on purpose (seconds per trial on 2 shared cores); prune_startup 1 so that pruning acts
TUNE = {"trials": 5, "folds": 2, "metric": "auto", "pruner": "median", "prune_after": 0,
        "prune_startup": 1, "startup_trials": 2,
        "space": {"lr": {"low": 0.01, "high": 0.2, "log": True}, "batch_size": [8, 16],
                  "epochs_initial": {"low": 1, "high": 2}, "augment": [False, True],
                  "stem": None}}


@pytest.fixture(scope="module")
def digits():
    return draw_subset(load_digits_dataset(), 300, seed=0)


@pytest.fixture(scope="module")
def reference(digits, tmp_path_factory):
    """One study run through (SQLite): (recipe, trials table, study)."""
    path = tmp_path_factory.mktemp("tune") / "study.db"
    return tune_recipe(digits, SEED, N_INITIAL, FIXED, TUNE, storage_for(path), log=QUIET)


def _same_trials(a: pd.DataFrame, b: pd.DataFrame) -> None:
    drop = ["trial", "seconds"]
    pd.testing.assert_frame_equal(a.drop(columns=drop).reset_index(drop=True),
                                  b.drop(columns=drop).reset_index(drop=True))


def test_labeled_set_is_the_loops_round_zero(digits):
    data = labeled_set(digits, N_INITIAL, SEED)
    idx = initial_labeled(len(digits), N_INITIAL, SEED)
    np.testing.assert_array_equal(data.indices, idx)
    np.testing.assert_array_equal(data.labels, digits.pool_labels[idx])
    np.testing.assert_array_equal(data.images, digits.pool_images[idx])


def test_search_reads_no_label_it_must_not(digits, reference, tmp_path):
    """Permute the test split's labels and the unlabeled pool points' labels: the
    chosen recipe and every trial are identical."""
    rng = np.random.default_rng(5)
    labeled = initial_labeled(len(digits), N_INITIAL, SEED)
    unlabeled = np.setdiff1d(np.arange(len(digits)), labeled)
    pool_labels = digits.pool_labels.copy()
    pool_labels[unlabeled] = rng.permutation(pool_labels[unlabeled])
    assert (pool_labels[unlabeled] != digits.pool_labels[unlabeled]).mean() > 0.5
    test_labels = rng.permutation(digits.test_labels)
    assert (test_labels != digits.test_labels).mean() > 0.5
    other = dataclasses.replace(digits, pool_labels=pool_labels, test_labels=test_labels)
    recipe, table, _ = tune_recipe(other, SEED, N_INITIAL, FIXED, TUNE,
                                   storage_for(tmp_path / "study.db"), log=QUIET)
    ref_recipe, ref_table, _ = reference
    assert recipe == ref_recipe
    _same_trials(table, ref_table)
    # and the search did read the labeled points' labels: changing one changes the study
    flipped = digits.pool_labels.copy()
    flipped[labeled[:10]] = (flipped[labeled[:10]] + 1) % 10
    other = dataclasses.replace(digits, pool_labels=flipped)
    data = labeled_set(other, N_INITIAL, SEED)
    assert not np.array_equal(data.labels, labeled_set(digits, N_INITIAL, SEED).labels)


def test_fixed_recipe_is_trial_zero_and_never_beaten_on_cv(reference):
    recipe, table, study = reference
    first = table.iloc[0]
    assert first["fixed"] and first["state"] == "complete" and table["fixed"].sum() == 1
    assert first["param_lr"] == FIXED["lr"] and first["param_batch_size"] == FIXED["batch_size"]
    assert first["param_epochs_initial"] == FIXED["epochs_initial"]
    assert not first["param_augment"]
    assert recipe["fixed_cv_score"] == pytest.approx(first["cv_score"])
    assert recipe["cv_score"] >= recipe["fixed_cv_score"]
    assert recipe["cv_score"] == pytest.approx(table["cv_score"].max())
    assert len(table) == TUNE["trials"]
    # every trial scored on both folds; the first fold reported each epoch to the pruner
    done = table[table["state"] == "complete"]
    assert done[["fold_1", "fold_2"]].notna().all().all()
    assert (done["cv_score"] == done[["fold_1", "fold_2"]].mean(axis=1)).all()
    assert (table["last_epoch_reported"] >= 1).all()
    assert set(recipe["task_model"]) == {"lr", "batch_size", "epochs_initial", "augment"}


def test_pruning_stops_a_trial_after_its_first_epochs(reference):
    _, table, _ = reference
    pruned = table[table["state"] == "pruned"]
    assert len(pruned) >= 1, table[["state", "cv_score", "last_reported_score"]]
    assert pruned["cv_score"].isna().all() and pruned["fold_2"].isna().all()


def test_space_holds_the_fixed_recipe():
    space = {"lr": {"low": 0.01, "high": 0.1, "log": True}, "batch_size": [32, 64],
             "stem": None, "epochs_initial": {"low": 5, "high": 9}}
    d = distributions(space, dict(FIXED, epochs_initial=12))
    assert d["lr"].low == pytest.approx(0.001) and d["lr"].high == 0.1 and d["lr"].log
    assert list(d["batch_size"].choices) == [32, 64, 16]
    assert (d["epochs_initial"].low, d["epochs_initial"].high) == (5, 12)
    assert "stem" not in d
    with pytest.raises(ConfigError, match="tune.space.weight_decay"):
        distributions({"weight_decay": {"low": 1e-5, "high": 1e-2, "log": True}}, FIXED)


def test_killed_study_resumes_to_the_same_trials(digits, reference, tmp_path):
    """Kill the job in the middle of trial 2 (an exception out of the trial, the way
    a SIGKILL leaves it: RUNNING in the storage), then run again: the dead trial is
    failed and retried, and the study ends with the same trials and best trial."""

    class Killed(BaseException):
        pass

    def dying_log(msg):
        if msg.startswith("trial 2 fold 1/2 epoch 1"):
            raise Killed

    path = tmp_path / "study.db"
    data = labeled_set(digits, N_INITIAL, SEED)
    with pytest.raises(Killed):
        run_study(data, FIXED, TUNE, storage_for(path), log=dying_log)
    logs = []
    recipe, table, study = tune_recipe(digits, SEED, N_INITIAL, FIXED, TUNE, storage_for(path),
                                       log=logs.append)
    assert any("trial 2 was left running by a killed job" in m for m in logs)
    states = {t.number: t.state.name for t in study.trials}
    assert states[2] == "FAIL" and len(study.trials) == TUNE["trials"] + 1
    ref_recipe, ref_table, _ = reference
    _same_trials(table, ref_table)
    assert {k: v for k, v in recipe.items() if k != "trial"} == \
        {k: v for k, v in ref_recipe.items() if k != "trial"}


def test_fewer_trials_read_the_first_ones_and_run_nothing(digits, reference, tmp_path):
    _, ref_table, study = reference
    fewer = dict(TUNE, trials=3)
    recipe = chosen_recipe(study, 3, FIXED)
    first3 = ref_table.iloc[:3]
    assert recipe["cv_score"] == pytest.approx(first3["cv_score"].max())
    assert recipe["trials"] == 3 and len(counted_trials(study, 3)) == 3
    # the same storage with tune.trials: 3 runs no trial
    logs = []
    run_study(labeled_set(digits, N_INITIAL, SEED), FIXED, fewer, study._storage, log=logs.append)
    assert not any(m.startswith("trial ") for m in logs), logs


def test_journal_storage_gives_the_same_trials(digits, reference, tmp_path):
    two = dict(TUNE, trials=2)
    _, table, _ = tune_recipe(digits, SEED, N_INITIAL, FIXED, two,
                              storage_for(tmp_path / "study.journal", "journal"), log=QUIET)
    assert (tmp_path / "study.journal").stat().st_size > 0
    _same_trials(table, reference[1].iloc[:2])


def test_cv_folds_are_stratified_disjoint_and_seeded():
    labels = np.repeat(np.arange(4), 10)
    folds = cv_folds(labels, "multi-class", 3, seed=1)
    assert len(folds) == 3
    vals = np.concatenate([v for _, v in folds])
    assert sorted(vals) == list(range(40))
    for train, val in folds:
        assert not set(train) & set(val) and len(train) + len(val) == 40
        assert np.bincount(labels[val], minlength=4).min() >= 3  # every class in every fold
    again = cv_folds(labels, "multi-class", 3, seed=1)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))
    assert not np.array_equal(folds[0][1], cv_folds(labels, "multi-class", 3, seed=2)[0][1])
    ml = cv_folds(np.zeros((10, 3)), "multi-label", 2, seed=0)
    assert sorted(np.concatenate([v for _, v in ml])) == list(range(10))
    with pytest.raises(ValueError, match="tune.folds"):
        cv_folds(labels[:5], "multi-class", 3, seed=0)


def test_cv_folds_stay_stratified_when_one_class_is_rare():
    """Issue 27: one class with fewer members than folds (at 100 labels of 10 balanced
    classes and 5 folds, 22% of draws: multinomial simulation) used to drop stratification
    for every class. The other classes are still
    spread evenly; the rare class lands in as many folds as it has members."""
    labels = np.concatenate([np.repeat(np.arange(9), 11), [9, 9]])  # class 9: 2 members
    folds = cv_folds(labels, "multi-class", 5, seed=3)
    assert sorted(np.concatenate([v for _, v in folds])) == list(range(len(labels)))
    per_fold = np.array([np.bincount(labels[v], minlength=10) for _, v in folds])
    assert (per_fold[:, :9].max(axis=0) - per_fold[:, :9].min(axis=0) <= 1).all()
    assert per_fold[:, 9].sum() == 2 and per_fold[:, 9].max() == 1
    # no class with 5 members: scikit-learn cannot stratify, plain k-fold
    few = np.repeat(np.arange(5), 4)
    plain = cv_folds(few, "multi-class", 5, seed=3)
    assert sorted(np.concatenate([v for _, v in plain])) == list(range(20))


def test_recipe_file_round_trip_and_history(reference, tmp_path):
    recipe, table, _ = reference
    write_recipe(tmp_path / "recipe.yaml", recipe)
    back = read_recipe(tmp_path / "recipe.yaml")
    assert back == recipe
    tm = apply_recipe(FIXED, back)
    assert all(tm[k] == v for k, v in recipe["task_model"].items())
    assert tm["momentum"] == FIXED["momentum"]
    (tmp_path / "bad.yaml").write_text("task_model: {arch: resnet50}\n")
    with pytest.raises(ConfigError, match="bad.yaml.*arch"):
        read_recipe(tmp_path / "bad.yaml")
    png = history_figure(table, "accuracy", "digits", tmp_path / "history.png")
    assert (tmp_path / "history.png").stat().st_size > 10_000 and png.endswith(".png")


def test_classifier_page_sets_both_recipes_side_by_side_and_warns(reference):
    from alvae.analysis.pages.classifier import classifier_rst

    recipe, table, _ = reference
    runs = pd.DataFrame([
        {"dataset": "digits", "strategy": s, "seed": seed, "round": r, "test_acc": acc,
         "train_acc": tr}
        for s in ("random", "entropy") for seed, acc in ((0, 0.61), (1, 0.65))
        for r, tr in ((0, 0.99), (1, 0.90 if (s, seed) == ("entropy", 1) else 0.97))])
    fixed = pd.DataFrame([{"dataset": "digits", "seed": 0, "test_acc": 0.50, "train_acc": 0.9},
                          {"dataset": "digits", "seed": 1, "test_acc": 0.58, "train_acc": 1.0}])
    page = classifier_rst("tuned", FIXED, runs, [{"dataset": "digits", "scope": "shared",
                                                   "recipe": recipe, "trials": table}],
                          fixed, "dataset")
    assert "Recipe: **tuned**" in page and "Study **shared**" in page
    assert f"trial {recipe['trial']} of {TUNE['trials']} chosen" in page
    assert "mean difference +0.0900, sd 0.0283 over 2 seed(s)" in page  # 0.11 and 0.07
    assert '"0", "0.5", "0.61", "0.11"' in page
    assert page.count('"complete (fixed)"') == 1 and page.count("\n   \"") >= len(table) + 2
    assert "1 of 8 rounds ended below train accuracy 0.95" in page
    assert "lowest 0.9000 (entropy, seed 1, round 1)" in page
    plain = classifier_rst("fixed", dict(FIXED, train_until={"train_acc": 0.8}), runs, [])
    assert "Recipe: **fixed**" in plain and "No tuning stage ran" in plain
    assert "Every round of every run ended at train accuracy >= 0.8" in plain
    assert "fixed vs tuned" not in plain


def test_score_in_the_primary_metric():
    from alvae.training.tune import primary_metric, score

    assert primary_metric("multi-class") == "accuracy" and primary_metric("binary") == "accuracy"
    assert primary_metric("multi-label") == "auc" and primary_metric("multi-label", "accuracy") \
        == "accuracy"
    y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    p = np.array([[0.9, 0.2], [0.1, 0.8], [0.7, 0.6], [0.2, 0.1]])
    assert score(p, y, "multi-label", "auc") == 1.0
    assert score(p[:, ::-1], y, "multi-label", "auc") == pytest.approx(0.375)  # (0.5 + 0.25) / 2
    assert score(np.full_like(p, np.nan), y, "multi-label", "auc") == 0.0  # diverged
    assert score(np.eye(3)[[0, 1, 1]], np.array([0, 1, 2]), "multi-class", "accuracy") == \
        pytest.approx(2 / 3)


def test_a_dead_workers_trial_is_retried_by_another_worker(digits, tmp_path):
    """tune.workers > 1: a RUNNING trial whose heartbeat is older than stale_after is a
    dead worker's; another worker fails it and runs its parameters again."""
    import time

    from optuna.trial import TrialState

    storage = storage_for(tmp_path / "study.journal", "journal")
    data = labeled_set(digits, N_INITIAL, SEED)
    one = dict(TUNE, trials=1)
    study = run_study(data, FIXED, one, storage, log=QUIET)
    dead = study.ask(distributions(TUNE["space"], FIXED))
    dead.set_user_attr("heartbeat", time.time() - 100)
    logs = []
    study = run_study(data, FIXED, dict(TUNE, trials=2), storage, log=logs.append,
                      sole_worker=False, stale_after=50, wait_s=0.01)
    states = [t.state for t in study.trials]
    assert states[dead.number] == TrialState.FAIL
    assert any(f"trial {dead.number} was left running" in m for m in logs)
    retried = study.trials[-1]
    assert retried.params == dead.params and retried.state != TrialState.RUNNING
    assert retried.user_attrs["retry_of"] == dead.number


def test_the_run_key_covers_the_recipe(digits, reference, tmp_path):
    """An AL state saved under the fixed recipe is refused under the tuned one."""
    from alvae.al.loop import RunSpec, run_loop

    al = {"initial_labels": N_INITIAL, "labels_per_round": 1, "final_labels": N_INITIAL}
    run_loop(digits, RunSpec("random", SEED, al, FIXED, {}), state_dir=tmp_path, log=QUIET)
    logs = []
    tuned = apply_recipe(FIXED, reference[0])
    assert tuned != FIXED
    run_loop(digits, RunSpec("random", SEED, al, tuned, {}), state_dir=tmp_path, log=logs.append)
    assert any("refusing the stale state" in m and "changed: settings" in m for m in logs), logs
