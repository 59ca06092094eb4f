"""The Optuna study of the tuning stage: its storage (SQLite or a journal file), its key
and name, resuming a killed study, the sampler and the pruner, the trials run until
``tune.trials`` have finished, and its outputs: the chosen recipe (recipe.yaml), the
trials table (trials.csv) and the optimization history figure."""

from __future__ import annotations

import math
import os
import socket
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from ...errors import ConfigError
from ...runkey import config_hash
from ...schema import with_defaults
from .cv import LabeledSet, cross_validate, cv_folds, derived_seed, labeled_set
from .space import (
    INT_KEYS,
    NOT_IN_ROUND_0,
    TUNABLE,
    distributions,
    fixed_params,
    primary_metric,
    trial_recipe,
)

# a RUNNING trial whose heartbeat is older than this is taken to be dead (several workers);
# with a single worker every RUNNING trial found at start is dead (its job was killed)
STALE_AFTER_S = 900.0


def study_file(folder: str | Path, kind: str = "sqlite") -> Path:
    """The study's file in a tune folder: study.db (SQLite) or study.journal."""
    return Path(folder) / ("study.db" if kind == "sqlite" else "study.journal")


def storage_for(path: str | Path, kind: str = "sqlite"):
    """An Optuna storage in the file ``path``: SQLite (one job) or a journal file
    (several processes, also over NFS, e.g. SLURM jobs sharing one study)."""
    import optuna

    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        return optuna.storages.RDBStorage(f"sqlite:///{path}")
    if kind == "journal":
        from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

        return optuna.storages.JournalStorage(
            JournalFileBackend(str(path), lock_obj=JournalFileOpenLock(str(path))))
    raise ConfigError(f"tune.storage must be sqlite or journal, got {kind!r}")


def study_key(data: LabeledSet, fixed: Mapping[str, Any], dists: Mapping[str, Any],
              tune: Mapping[str, Any], metric: str) -> dict:
    """What the trials' results depend on (not tune.trials: more trials continue the
    study, fewer read its first trials). ``tune``: the config's section, or partial in
    library use (the schema's defaults fill the rest)."""
    tune = with_defaults("tune", tune)
    return {"data": data.digest(), "seed": data.seed,
            "fixed": {k: v for k, v in fixed.items() if k not in NOT_IN_ROUND_0},
            "space": {k: repr(d) for k, d in dists.items()}, "folds": tune["folds"],
            "metric": metric, "pruner": tune["pruner"], "prune_after": tune["prune_after"],
            "prune_startup": tune["prune_startup"], "startup_trials": tune["startup_trials"]}


def _finished(study) -> list:
    """Trials that count toward tune.trials, by number: complete, pruned, and failed
    with an error of their own (not the dead trial of a killed job)."""
    from optuna.trial import TrialState

    done = []
    for t in study.get_trials(deepcopy=False):
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED) or (
                t.state == TrialState.FAIL and "error" in t.user_attrs):
            done.append(t)
    return sorted(done, key=lambda t: t.number)


def _reclaim(study, stale_after: float, log) -> None:
    """Fail the RUNNING trials left by dead workers and queue their parameters again
    (first), so the study continues exactly where it stopped."""
    from optuna.trial import TrialState

    now = time.time()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        beat = float(t.user_attrs.get("heartbeat", 0.0))  # not config
        if now - beat < stale_after:
            continue
        study.tell(t.number, state=TrialState.FAIL)
        if t.params:
            attrs = {k: v for k, v in t.user_attrs.items() if k in ("fixed",)}
            study.enqueue_trial(t.params, user_attrs=dict(attrs, retry_of=t.number))
        log(f"resume: trial {t.number} was left running by a killed job; failed it and "
            f"queued its parameters again")


def _sampler(seed: int, n_done: int, startup: int):
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return optuna.samplers.TPESampler(seed=derived_seed(seed, n_done, 43),
                                          n_startup_trials=startup, multivariate=True)


def _pruner(kind: str, after: int, startup: int):
    import optuna

    if kind == "none":
        return optuna.pruners.NopPruner()
    return optuna.pruners.MedianPruner(n_startup_trials=startup, n_warmup_steps=after)


def run_study(data: LabeledSet, fixed: Mapping[str, Any], tune: Mapping[str, Any], storage,
              device="cpu", log: Callable[[str], None] = print, sole_worker: bool = True,
              stale_after: float = STALE_AFTER_S, wait_s: float = 10.0):
    """Run (or resume) the study of ``data`` until ``tune["trials"]`` trials have
    finished; return it. ``storage``: :func:`storage_for`. With ``sole_worker``
    (one job per study) any RUNNING trial found is a dead one and is retried at
    once; other workers' trials count as dead after ``stale_after`` seconds
    without a heartbeat. ``tune``: the config's section, or partial in library use (the
    schema's defaults fill the rest)."""
    import optuna
    from optuna.trial import TrialState

    from ..engine import DevicePool

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    tune = with_defaults("tune", tune)
    metric = primary_metric(data.task, tune["metric"])
    space = tune["space"]
    dists = distributions(space, fixed)
    key = study_key(data, fixed, dists, tune, metric)
    name = f"recipe-{config_hash(key)}"
    n_trials = int(tune["trials"])
    study = optuna.create_study(storage=storage, study_name=name, direction="maximize",
                                load_if_exists=True,
                                pruner=_pruner(tune["pruner"], int(tune["prune_after"]),
                                               int(tune["prune_startup"])))
    if not study.user_attrs:
        study.set_user_attr("key", key)
    if not any(t.user_attrs.get("fixed") for t in study.get_trials(deepcopy=False)):
        # trial 0 (with several workers starting at once it may be queued twice: harmless)
        study.enqueue_trial(fixed_params(dists, fixed), user_attrs={"fixed": True})
    _reclaim(study, 0.0 if sole_worker else stale_after, log)
    folds = cv_folds(data.labels, data.task, int(tune["folds"]), data.seed)
    pool = DevicePool(data.images, data.labels, data.task, device)
    log(f"study {name}: {len(data.labels)} labeled points (AL seed {data.seed}), "
        f"{len(folds)}-fold CV in {metric}, space {', '.join(dists) or '(empty)'}; "
        f"{len(_finished(study))} of {n_trials} trials done")
    worker = f"{socket.gethostname()}:{os.getpid()}"
    while True:
        done = _finished(study)
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if len(done) >= n_trials:
            if not running:
                break
            time.sleep(wait_s)  # other workers' last trials
            _reclaim(study, stale_after, log)
            continue
        if len(done) + len(running) >= n_trials:
            time.sleep(wait_s)
            _reclaim(study, stale_after, log)
            continue
        study.sampler = _sampler(data.seed, len(done), int(tune["startup_trials"]))
        trial = study.ask(dict(dists))
        is_fixed = bool(trial.user_attrs.get("fixed", False))  # not config
        trial.set_user_attr("heartbeat", time.time())
        trial.set_user_attr("worker", worker)
        tm = trial_recipe(fixed, trial.params)
        tag = f"trial {trial.number} ({len(done) + 1}/{n_trials}{', fixed recipe' if is_fixed else ''}) "
        log(f"{tag}params {_fmt_params(trial.params)}")
        t0 = time.perf_counter()

        prunes = tune["pruner"] != "none"

        def on_epoch(fold: int, epoch: int, fold_score, _trial=trial, _fixed=is_fixed) -> None:
            _trial.set_user_attr("heartbeat", time.time())
            if not prunes or fold != 0:
                return
            value = fold_score()
            _trial.report(value, epoch)
            if not _fixed and _trial.should_prune():
                raise optuna.TrialPruned(f"pruned at epoch {epoch} of fold 1 ({metric} {value:.4f})")

        try:
            scores = cross_validate(data, tm, folds, metric, data.seed, device, pool, on_epoch,
                                    log, prefix=f"trial {trial.number} ")
        except optuna.TrialPruned as exc:
            trial.set_user_attr("seconds", time.perf_counter() - t0)
            study.tell(trial, state=TrialState.PRUNED)
            log(f"{tag}{exc} after {time.perf_counter() - t0:.1f}s")
            continue
        except Exception as exc:  # noqa: BLE001 - a recipe that cannot train (say, memory)
            if is_fixed:
                raise
            trial.set_user_attr("error", f"{type(exc).__name__}: {exc}")
            trial.set_user_attr("seconds", time.perf_counter() - t0)
            study.tell(trial, state=TrialState.FAIL)
            log(f"{tag}failed: {type(exc).__name__}: {exc}")
            continue
        value = float(np.mean(scores))
        trial.set_user_attr("fold_scores", [float(s) for s in scores])
        trial.set_user_attr("seconds", time.perf_counter() - t0)
        study.tell(trial, value)
        log(f"{tag}fold scores {', '.join(f'{s:.4f}' for s in scores)} | cv {metric} "
            f"{value:.4f} | {time.perf_counter() - t0:.1f}s")
    return study


def _fmt_params(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in sorted(params.items()))


def counted_trials(study, n_trials: int) -> list:
    """The first ``n_trials`` finished trials (by number)."""
    return _finished(study)[:n_trials]


def best_trial(trials: list):
    """The complete trial of highest score; ties go to the lower number (trial 0,
    the fixed recipe, wins a tie)."""
    from optuna.trial import TrialState

    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    if not complete:
        raise RuntimeError("no trial of the study completed (see the job log)")
    return max(complete, key=lambda t: (t.value, -t.number))


def trials_table(trials: list):
    """One row per counted trial: number, state, CV score, fold scores, seconds, the
    fixed flag and the parameters."""
    import pandas as pd
    from optuna.trial import TrialState

    rows = []
    for t in trials:
        row = {"trial": t.number, "state": t.state.name.lower(),
               "cv_score": (t.value if t.state == TrialState.COMPLETE and t.value is not None
                            else math.nan),
               "fixed": bool(t.user_attrs.get("fixed", False)),  # not config
               "seconds": float(t.user_attrs.get("seconds", math.nan))}
        for i, s in enumerate(t.user_attrs.get("fold_scores", [])):  # not config
            row[f"fold_{i + 1}"] = s
        if t.intermediate_values:
            last = max(t.intermediate_values)
            row["last_epoch_reported"] = last
            row["last_reported_score"] = t.intermediate_values[last]
        row["error"] = t.user_attrs.get("error", "")  # not config
        row.update({f"param_{k}": v for k, v in sorted(t.params.items())})
        rows.append(row)
    return pd.DataFrame(rows)


def chosen_recipe(study, n_trials: int, fixed: Mapping[str, Any]) -> dict:
    """What recipe.yaml holds: the chosen ``task_model`` keys, and where they come from."""
    trials = counted_trials(study, n_trials)
    best = best_trial(trials)
    fixed_trial = next((t for t in trials if t.user_attrs.get("fixed")), None)
    key = study.user_attrs.get("key", {})  # not config (the study's record)
    return {
        "task_model": {k: (int(v) if k in INT_KEYS else v) for k, v in sorted(best.params.items())},
        "trial": best.number, "cv_score": float(best.value),
        "fixed_cv_score": (float(fixed_trial.value) if fixed_trial is not None
                           and fixed_trial.value is not None else None),
        "metric": key.get("metric"), "folds": key.get("folds"), "trials": len(trials),
        "study": study.study_name, "al_seed": key.get("seed"),
    }


def apply_recipe(task_model: Mapping[str, Any], recipe: Mapping[str, Any] | None) -> dict:
    """The AL job's task_model: the config's, with the tuned keys of ``recipe``
    (a recipe.yaml's content) in place."""
    tm = dict(task_model)
    if recipe:
        tm.update(recipe["task_model"])
    return tm


def read_recipe(path: str | Path) -> dict:
    import yaml

    with open(path) as fh:
        recipe = yaml.safe_load(fh)
    if not isinstance(recipe, dict) or not isinstance(recipe.get("task_model"), dict):
        raise ConfigError(f"{path}: not a recipe file (no task_model mapping); rerun the tune job")
    bad = sorted(set(recipe["task_model"]) - set(TUNABLE))
    if bad:
        raise ConfigError(f"{path}: task_model keys that are not tunable: {', '.join(bad)}")
    return recipe


def write_recipe(path: str | Path, recipe: Mapping[str, Any]) -> None:
    import yaml

    from ...io import write_text_atomic

    head = ("# The task_model keys chosen by the tuning stage (alvae.training.tune) on the round-0 "
            "labeled set;\n# the AL jobs of task_model.recipe: tuned train with them.\n")
    write_text_atomic(path, head + yaml.safe_dump(dict(recipe), sort_keys=False))


def history_figure(table, metric: str, title: str, out_png) -> str:
    """Optimization history: each trial's CV score (pruned and failed ones marked at
    the bottom), the best so far, and the fixed recipe's score as a reference."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    x = table["trial"].to_numpy()
    done = table["state"] == "complete"
    vals = table["cv_score"].to_numpy(dtype=float)
    ax.plot(x[done], vals[done], "o", color="tab:blue", label="trial (CV score)")
    if done.any():
        best = np.fmax.accumulate(np.where(done, vals, np.nan))
        ax.step(x, best, where="post", color="tab:orange", label="best so far")
        low = np.nanmin(vals[done])
        other = ~done
        if other.any():
            ax.plot(x[other], np.full(other.sum(), low), "x", color="grey",
                    label="pruned or failed")
    fixed = table[table["fixed"] & done]
    if len(fixed):
        ax.axhline(float(fixed["cv_score"].iloc[0]), color="black", ls="--", lw=1,
                   label="fixed recipe (trial 0)")
    ax.set_xlabel("trial number")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(f"{metric}, mean over folds")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=150, bbox_inches="tight")
    plt.close(fig)
    return str(out_png)


def tune_recipe(subset, seed: int, n_initial: int, task_model: Mapping[str, Any],
                tune: Mapping[str, Any], storage, device="cpu",
                log: Callable[[str], None] = print, sole_worker: bool = True):
    """The whole stage for one study: the labeled set of ``seed``, the study run or
    resumed, the chosen recipe. Returns ``(recipe dict, trials table, study)``."""
    from .. import determinism

    determinism.configure(with_defaults("task_model", task_model)["deterministic"], log)
    data = labeled_set(subset, n_initial, seed)
    fixed = {k: v for k, v in task_model.items() if k != "recipe"}
    study = run_study(data, fixed, tune, storage, device, log, sole_worker=sole_worker)
    n = int(tune["trials"])
    recipe = chosen_recipe(study, n, fixed)
    table = trials_table(counted_trials(study, n))
    log(f"chosen: trial {recipe['trial']} (cv {recipe['metric']} {recipe['cv_score']:.4f}; "
        f"fixed recipe {recipe['fixed_cv_score']}) -> {_fmt_params(recipe['task_model'])}")
    return recipe, table, study
