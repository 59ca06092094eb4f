"""Algorithm 1 of the thesis: one AL run for a dataset × strategy × seed.

Round 0 trains on the seeded initial labels (the same for every strategy of a
seed); each later round lets the strategy pick ``labels_per_round`` points,
retrains the task model from scratch for ``epochs_initial + r *
epochs_per_round`` epochs and records the metrics. After every round the whole
state (labels, picks, metrics, model) is written atomically, tagged with a
hash of the settings: a killed job resumes from its last finished round and
never mixes rounds of different settings.
"""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch

from . import accel, determinism
from .alpha import AUTO_MODES, measured_alpha, split_label
from .data import Subset
from .engine import (DevicePool, TrainConfig, build_loss_module, build_model, evaluate, infer,
                     train_model)
from .io import atomic_path
from .recipe import split_validation
from .runkey import changed_fields, key_hash, run_key
from .strategies import SelectionContext, get_strategy

METRIC_COLUMNS = ["round", "n_labels", "test_acc", "test_auc", "val_acc", "val_auc", "train_acc",
                  "train_loss", "epochs", "train_time_s", "select_time_s", "n_picked",
                  "test_ap", "val_ap", "latent_share", "latent_knn_acc"]


def initial_labeled(n_pool: int, n_initial: int, seed: int) -> np.ndarray:
    """The seed's initial labeled set: shared by every strategy (paired design)."""
    rng = np.random.default_rng([seed, 0])
    return np.sort(rng.choice(n_pool, size=n_initial, replace=False)).astype(np.int64)


def round_seed(seed: int, rnd: int) -> int:
    """Seed of round ``rnd``'s model init and batch order (same for all strategies)."""
    return int(np.random.default_rng([seed, rnd, 17]).integers(2**31 - 1))


def initial_alpha(alpha, strategy) -> Optional[float]:
    """The α a run uses, or None when it must be measured (``auto``/``auto_norm``
    for core-set and MedAL, see :mod:`alvae.alpha`). Strategies without VAE
    latents get 0 (unused)."""
    if not strategy.uses_vae:
        return 0.0
    if alpha not in AUTO_MODES:
        return float(alpha)
    # the loss module learns its own weights on the concatenation: no rescaling needed
    return 1.0 if strategy.needs_loss_module else None


def _state_file(state_dir: Path) -> Path:
    return Path(state_dir) / "state.pt"


def save_state(state_dir: Path, state: dict) -> None:
    with atomic_path(_state_file(state_dir)) as tmp:
        torch.save(state, tmp)


def load_state(state_dir: Path, expected_hash: str, log: Callable[[str], None],
               expected_key: Optional[dict] = None) -> Optional[dict]:
    path = _state_file(state_dir)
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # a torn file cannot happen (atomic), but a foreign one can
        log(f"resume: cannot read {path} ({exc}); starting from round 0")
        return None
    if state.get("config_hash") != expected_hash:
        why = ", ".join(changed_fields(state.get("run_key"), expected_key or {}))
        log(f"resume: {path} was written under settings {state.get('config_hash')}, this run has "
            f"{expected_hash} (changed: {why or 'unknown'}); refusing the stale state and "
            f"starting from round 0")
        return None
    log(f"resume: continuing after round {state['round']} ({len(state['labeled'])} labels) "
        f"from {path}")
    return state


def run_loop(subset: Subset, strategy_name: str, seed: int, al: dict, task_model: dict,
             lloss: dict, alpha="auto", latents: Optional[np.ndarray] = None,
             state_dir: str | Path | None = None, device: str = "cpu",
             log: Callable[[str], None] = print, retrainer=None,
             strategy_cfg: Optional[dict] = None) -> tuple[list[dict], dict]:
    """Run Algorithm 1 and return ``(metric rows, picks)``.

    ``picks`` maps ``"initial"`` and ``"round_<r>"`` to pool indices. With a
    ``state_dir`` the run checkpoints after every round and resumes from it.
    ``strategy_name`` may carry an α scale, ``coreset_vae@0.5`` (:mod:`alvae.alpha`).
    ``retrainer``: a :class:`alvae.retrain.RoundRetrainer` for ``vae.retrain:
    per_round`` (its ``history`` then holds each round's latents).
    ``strategy_cfg``: the strategy's own config section (``vaal``, ``bald``,
    ``typiclust``, ``probcover``), if any.
    """
    base_name, alpha_scale = split_label(strategy_name)
    strategy = get_strategy(base_name)
    strategy.params = dict(strategy_cfg or {})
    if strategy.needs_latents and latents is None:
        raise ValueError(f"strategy {strategy_name} needs VAE latents "
                         f"({base_name}.space is latents)")
    if strategy.uses_vae and latents is None:
        raise ValueError(f"strategy {strategy_name} needs VAE latents")
    if latents is not None and len(latents) != len(subset):
        raise ValueError(f"latents have {len(latents)} rows for a pool of {len(subset)}")
    n_pool = len(subset)
    if not 0 < al["initial_labels"] < n_pool:
        raise ValueError(f"al.initial_labels ({al['initial_labels']}) must be in 1..{n_pool - 1}")
    final = min(al["final_labels"], n_pool)
    cfg = TrainConfig.from_config(task_model, lloss)
    settings = {"strategy": strategy_name, "seed": seed, "al": al, "task_model": task_model,
                "lloss": lloss if strategy.needs_loss_module else None,
                "alpha": alpha if strategy.uses_vae else None, "n_pool": n_pool,
                "subset": subset.name}
    # before any CUDA work: fixed kernels, recorded with the settings (and their hash)
    settings["determinism"] = determinism.configure(task_model.get("deterministic", True), log)
    if retrainer is not None:
        settings["retrain"] = retrainer.settings()
    if strategy_cfg:
        settings["strategy_cfg"] = strategy_cfg
    reads = strategy.uses_vae or strategy.needs_latents
    rkey = run_key(settings, subset, latents if reads else None)
    chash = key_hash(rkey)
    dropout = float(strategy.params.get("dropout", 0.5)) if strategy.mc_dropout else 0.0
    dev = torch.device(device)
    compiled = accel.Compiled(task_model.get("compile", "none"), dev,
                              {cfg.batch_size, cfg.eval_batch_size}, log)
    pool = DevicePool(subset.pool_images, subset.pool_labels, subset.task, dev)
    test = DevicePool(subset.test_images, subset.test_labels, subset.task, dev)
    val = (DevicePool(subset.val_images, subset.val_labels, subset.task, dev)
           if subset.val_images is not None else None)
    in_ch = subset.pool_images.shape[1]
    lat_dev = torch.from_numpy(latents).float().to(dev) if latents is not None else None
    tag = f"[{subset.name}/{strategy_name}/seed{seed}] "

    def fresh(rnd: int, alpha_r: float):
        """Round ``rnd``'s freshly initialised model, loss module and its extra input."""
        rs = round_seed(seed, rnd)
        model = compiled.adopt(build_model(subset.task, subset.n_classes, in_ch, task_model, rs, dev,
                                           dropout))
        module, extra = None, None
        if strategy.needs_loss_module:
            use_extra = strategy.uses_vae and alpha_r != 0.0  # α = 0 is exactly plain lloss
            extra = alpha_r * lat_dev if use_extra else None
            module = build_loss_module(lloss.get("hidden", 128),
                                       lat_dev.shape[1] if use_extra else 0, rs, dev)
        return model, module, extra

    def fit(rnd: int, labeled: np.ndarray, alpha_r: float):
        """Fresh model (and loss module, jointly) trained on ``labeled`` for round ``rnd``."""
        model, module, extra = fresh(rnd, alpha_r)
        epochs = task_model["epochs_initial"] + rnd * task_model["epochs_per_round"]
        train, holdout = split_validation(labeled, task_model.get("val_fraction", 0.0),
                                          round_seed(seed, rnd))
        stats = train_model(model, pool, train, epochs, cfg, round_seed(seed, rnd), module, extra, log,
                            f"{tag}round {rnd} labels {len(labeled)} ", holdout)
        return model, module, extra, stats

    def latent_knn() -> float:
        """vae.retrain: per_round: kNN(5) accuracy of this round's latents (else NaN)."""
        if retrainer is None:
            return math.nan
        return retrainer.knn_accuracy(subset.pool_labels, subset.test_images, subset.test_labels,
                                      subset.task)

    def record(rnd, labeled, model, stats, select_s, n_picked, share=math.nan) -> dict:
        row = {"round": rnd, "n_labels": len(labeled), "latent_share": share,
               "latent_knn_acc": latent_knn()}
        m = evaluate(model, test, cfg)
        row["test_acc"], row["test_auc"] = m["acc"], m["auc"]
        mv = evaluate(model, val, cfg) if val is not None else {"acc": math.nan, "auc": math.nan,
                                                                 "ap": math.nan}
        row["val_acc"], row["val_auc"] = mv["acc"], mv["auc"]
        row["test_ap"], row["val_ap"] = m["ap"], mv["ap"]
        row.update({k: stats[k] for k in ("train_acc", "train_loss", "epochs", "train_time_s")})
        row["select_time_s"], row["n_picked"] = select_s, n_picked
        log(f"{tag}round {rnd} | labels {len(labeled)} | epochs {stats['epochs']} | train_acc "
            f"{stats['train_acc']:.4f} | test_acc {row['test_acc']:.4f} | test_auc "
            f"{row['test_auc']:.4f} | train {stats['train_time_s']:.1f}s select {select_s:.1f}s"
            + (f" | latent kNN {row['latent_knn_acc']:.4f}" if retrainer is not None else ""))
        return row

    def snapshot(rnd, labeled, rows, picks, model, module, alpha_r):
        if state_dir is None:
            return
        save_state(Path(state_dir), {
            "config_hash": chash, "run_key": rkey, "settings": settings, "round": rnd,
            "labeled": labeled, "rows": rows, "picks": picks,
            "alpha": alpha_r, "model": model.state_dict(),
            "loss_module": module.state_dict() if module is not None else None,
            "strategy_state": strategy.get_state(),
            "retrainer": retrainer.checkpoint() if retrainer is not None else None,
        })

    state = load_state(Path(state_dir), chash, log, rkey) if state_dir is not None else None
    if state is None:
        labeled = initial_labeled(n_pool, al["initial_labels"], seed)
        picks = {"initial": labeled.copy()}
        alpha_r = initial_alpha(alpha, strategy)
        if alpha_r is not None:
            alpha_r = alpha_scale * alpha_r
        model, module, extra, stats = fit(0, labeled, alpha_r or 0.0)
        if alpha_r is None:  # auto, for a distance strategy: measured on the round-0 model
            feats = infer(model, pool, labeled, cfg)["features"]
            alpha_r = alpha_scale * measured_alpha(alpha, feats, latents, labeled)
        if strategy.uses_vae:
            log(f"{tag}alpha = {alpha_r:.4g} ({alpha if alpha in AUTO_MODES else 'config'}"
                f"{f' x {alpha_scale:g}' if alpha_scale != 1 else ''})")
        rows = [record(0, labeled, model, stats, 0.0, 0)]
        rnd = 0
        snapshot(rnd, labeled, rows, picks, model, module, alpha_r)
    else:
        labeled, rows, picks, rnd = state["labeled"], state["rows"], state["picks"], state["round"]
        alpha_r = state["alpha"]
        strategy.set_state(state.get("strategy_state"))
        if retrainer is not None:
            latents = retrainer.restore(state.get("retrainer"), rnd)
            lat_dev = torch.from_numpy(latents).float().to(dev)
        model, module, extra = fresh(rnd, alpha_r)
        model.load_state_dict(state["model"])
        if module is not None:
            module.load_state_dict(state["loss_module"])

    while len(labeled) < final:
        rnd += 1
        budget = min(al["labels_per_round"], final - len(labeled))
        rng = np.random.default_rng([seed, rnd, 1])
        unlabeled = np.setdiff1d(np.arange(n_pool), labeled, assume_unique=True)
        cand = unlabeled
        if al.get("candidate_pool") and al["candidate_pool"] < len(unlabeled):
            cand = np.sort(rng.choice(unlabeled, size=max(al["candidate_pool"], budget),
                                      replace=False))
        ctx = SelectionContext(
            labeled=labeled, candidates=cand, task=subset.task, device=dev,
            infer=lambda idx, _m=model, _mod=module, _e=extra, **kw: infer(_m, pool, idx, cfg, _mod,
                                                                           _e, **kw),
            latents=latents if strategy.uses_vae or strategy.needs_latents else None,
            alpha=alpha_r, n_classes=subset.n_classes,
            pool_images=pool.images, seed=seed, round=rnd, options=dict(strategy_cfg or {}),
            log=log,
        )
        t0 = time.perf_counter()
        picked = np.asarray(strategy.select(ctx, budget, rng), dtype=np.int64)
        select_s = time.perf_counter() - t0
        _check_picks(picked, cand, budget, strategy_name)
        labeled = np.sort(np.concatenate([labeled, picked]))
        picks[f"round_{rnd}"] = picked
        log(f"{tag}round {rnd} | picked {budget} with {strategy_name} in {select_s:.2f}s")
        if retrainer is not None:  # vae.retrain: per_round
            latents = retrainer.retrain(rnd, labeled, subset.pool_images, subset.pool_labels,
                                        subset.task, subset.n_classes)
            lat_dev = torch.from_numpy(latents).float().to(dev)
        model, module, extra, stats = fit(rnd, labeled, alpha_r)
        rows.append(record(rnd, labeled, model, stats, select_s, budget,
                           ctx.diagnostics.get("latent_share", math.nan)))
        snapshot(rnd, labeled, rows, picks, model, module, alpha_r)
    accel.release(compiled)
    return rows, picks


def _check_picks(picked: np.ndarray, candidates: np.ndarray, budget: int, name: str) -> None:
    if len(picked) != budget or len(np.unique(picked)) != budget:
        raise RuntimeError(f"strategy {name} returned {len(picked)} picks "
                           f"({len(np.unique(picked))} distinct) for a budget of {budget}")
    if not np.isin(picked, candidates).all():
        raise RuntimeError(f"strategy {name} picked points outside the candidates")


def write_metrics(rows: list[dict], path: str | Path) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=METRIC_COLUMNS)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: row[k] for k in METRIC_COLUMNS})


def write_picks(picks: dict, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **picks)
