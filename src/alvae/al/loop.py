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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch

from ..data.loaders import Subset
from ..io import atomic_path
from ..runkey import arrays_digest, changed_fields, key_hash, run_key
from ..schema import with_defaults
from ..seeds import initial_labeled, round_seed
from ..strategies import SelectionContext, get_strategy
from ..strategies.alpha import AUTO_MODES, measured_alpha, split_label
from ..training import accel, determinism
from ..training.engine import (
    DevicePool,
    TrainConfig,
    TrainingDiverged,
    build_loss_module,
    build_model,
    evaluate,
    infer,
    train_model,
)
from ..training.head import check_features, is_head, standardize
from ..training.recipe import split_validation

METRIC_COLUMNS = ["round", "n_labels", "test_acc", "test_auc", "val_acc", "val_auc", "train_acc",
                  "train_loss", "epochs", "train_time_s", "select_time_s", "n_picked",
                  "test_ap", "val_ap", "latent_share", "latent_knn_acc"]


def initial_alpha(alpha, strategy) -> Optional[float]:
    """The α a run uses, or None when it must be measured (``auto``/``auto_norm``
    for core-set and MedAL, see :mod:`alvae.strategies.alpha`). Strategies without VAE
    latents get 0 (unused)."""
    if not strategy.uses_representation:
        return 0.0
    if alpha not in AUTO_MODES:
        return float(alpha)
    # the loss module learns its own weights on the concatenation: no rescaling needed
    return 1.0 if strategy.trains_loss_module else None


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


@dataclass
class LoopState:
    """What one finished round leaves for the next (and what a checkpoint holds)."""

    rnd: int
    labeled: np.ndarray
    rows: list
    picks: dict
    model: torch.nn.Module
    module: Optional[torch.nn.Module]
    extra: Optional[torch.Tensor]
    alpha: float


class ALRun:
    """One run's fixed parts (data on the device, the strategy, the recipe, the resume
    key) and the steps of Algorithm 1 over them: train a round's model, query, record,
    checkpoint. :func:`run_loop` strings the steps together."""

    def __init__(self, subset: Subset, label: str, seed: int, al: dict, task_model: dict,
                 lloss: dict, alpha, latents: Optional[np.ndarray], state_dir, device: str,
                 log: Callable[[str], None], retrainer, strategy_options: Optional[dict],
                 task_features: Optional[dict] = None, initial: Optional[np.ndarray] = None):
        base_name, self.alpha_scale = split_label(label)
        # the settings over the schema's defaults (a library caller may pass part of them)
        al, task_model = with_defaults("al", al), with_defaults("task_model", task_model)
        lloss = with_defaults("lloss", lloss)
        self.strategy = strategy = get_strategy(base_name, strategy_options)
        _check_inputs(subset, label, base_name, strategy, al, latents)
        self.head = is_head(task_model)
        _check_head(subset, label, strategy, task_model, task_features)
        self.subset, self.label, self.seed, self.al, self.task_model = subset, label, seed, al, task_model
        self.lloss, self.alpha_setting, self.log, self.retrainer = lloss, alpha, log, retrainer
        self.strategy_options = strategy_options
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.final = min(al["final_labels"], len(subset))
        self.dev = dev = torch.device(device)
        # the precision resolved for this device (a bf16 it cannot run stops here, before
        # any training); the resolved one is part of the run key
        self.cfg = TrainConfig.from_config(task_model, lloss).on(dev, log)
        self.settings = _settings(subset, label, seed, al, task_model, lloss, alpha, strategy, log,
                                  retrainer, strategy_options)
        self.settings["precision"] = self.cfg.precision
        self.reads_latents = strategy.uses_representation or strategy.needs_latents
        self.rkey = run_key(self.settings, subset, latents if self.reads_latents else None)
        self.initial = _check_initial(initial, al, len(subset))
        if self.initial is not None:  # chosen initial labels (al.initial_selection)
            self.rkey["initial"] = arrays_digest(self.initial)
        if self.head:  # the frozen features the head trains and is evaluated on
            self.rkey["task_features"] = arrays_digest(
                *(task_features[k] for k in ("pool", "test", "val") if task_features.get(k) is not None))
        self.chash = key_hash(self.rkey)
        self.dropout = float(strategy.params["dropout"]) if strategy.mc_dropout else 0.0
        self.compiled = accel.Compiled(task_model["compile"], dev,
                                       {self.cfg.batch_size, self.cfg.eval_batch_size}, log)
        if self.head:  # a frozen-feature head: the splits' standardised features stand in for images
            pool_x, test_x, val_x = standardize(task_features["pool"], task_features["test"],
                                                task_features.get("val"))
        else:
            pool_x, test_x, val_x = subset.pool_images, subset.test_images, subset.val_images
        self.pool = DevicePool(pool_x, subset.pool_labels, subset.task, dev)
        self.test = DevicePool(test_x, subset.test_labels, subset.task, dev)
        self.val = (DevicePool(val_x, subset.val_labels, subset.task, dev)
                    if subset.val_images is not None else None)
        # the pool's images, for a strategy that trains its own model on them (VAAL)
        self.images = (torch.from_numpy(np.ascontiguousarray(subset.pool_images)).to(dev)
                       if self.head else self.pool.images)
        self.set_latents(latents)
        self.tag = f"[{subset.name}/{label}/seed{seed}] "
        if self.head:
            log(f"{self.tag}task model: a {task_model['arch']} head on the frozen "
                f"{task_model['features'] or 'given'} features ({self.pool.images.shape[1]} dims, "
                f"standardised over the pool); the strategies read its probabilities and features")

    # ------------------------------------------------------------------ pieces
    def set_latents(self, latents: Optional[np.ndarray]) -> None:
        """The representation the strategy reads (replaced each round under per_round)."""
        self.latents = latents
        self.lat_dev = torch.from_numpy(latents).float().to(self.dev) if latents is not None else None

    def fresh(self, rnd: int, alpha: float):
        """Round ``rnd``'s freshly initialised model, loss module and its extra input."""
        rs = round_seed(self.seed, rnd)
        s, sub = self.strategy, self.subset
        model = self.compiled.adopt(build_model(sub.task, sub.n_classes, self.pool.images.shape[1],
                                                self.task_model, rs, self.dev, self.dropout,
                                                self.cfg.precision))
        module, extra = None, None
        if s.trains_loss_module:
            use_extra = s.uses_representation and alpha != 0.0  # α = 0 is exactly plain lloss
            extra = alpha * self.lat_dev if use_extra else None
            module = build_loss_module(self.lloss["hidden"],
                                       self.lat_dev.shape[1] if use_extra else 0, rs, self.dev)
        return model, module, extra

    def fit(self, rnd: int, labeled: np.ndarray, alpha: float):
        """A fresh model (and loss module, jointly) trained on ``labeled`` for round ``rnd``."""
        model, module, extra = self.fresh(rnd, alpha)
        tm = self.task_model
        epochs = tm["epochs_initial"] + rnd * tm["epochs_per_round"]
        train, holdout = split_validation(labeled, tm["val_fraction"], round_seed(self.seed, rnd))
        stats = train_model(model, self.pool, train, epochs, self.cfg, round_seed(self.seed, rnd), module,
                            extra, self.log, f"{self.tag}round {rnd} labels {len(labeled)} ", holdout)
        return model, module, extra, stats

    def first_alpha(self, model, labeled: np.ndarray, alpha: Optional[float]) -> float:
        """α of the run: given, or (auto, distance strategies) measured on the round-0 model."""
        if alpha is None:
            feats = infer(model, self.pool, labeled, self.cfg)["features"]
            alpha = self.alpha_scale * measured_alpha(self.alpha_setting, feats, self.latents, labeled)
        if self.strategy.uses_representation:
            a = self.alpha_setting
            self.log(f"{self.tag}alpha = {alpha:.4g} ({a if a in AUTO_MODES else 'config'}"
                     f"{f' x {self.alpha_scale:g}' if self.alpha_scale != 1 else ''})")
        return alpha

    def query(self, state: LoopState, rnd: int) -> tuple[np.ndarray, float, float]:
        """The strategy's picks for round ``rnd`` (from the candidates), the seconds it took
        and the latent share it reports (NaN when none)."""
        budget = min(self.al["labels_per_round"], self.final - len(state.labeled))
        rng = np.random.default_rng([self.seed, rnd, 1])
        n_pool = len(self.subset)
        unlabeled = np.setdiff1d(np.arange(n_pool), state.labeled, assume_unique=True)
        cand = unlabeled
        if self.al["candidate_pool"] and self.al["candidate_pool"] < len(unlabeled):
            cand = np.sort(rng.choice(unlabeled, size=max(self.al["candidate_pool"], budget),
                                      replace=False))
        pool, cfg = self.pool, self.cfg
        ctx = SelectionContext(
            labeled=state.labeled, candidates=cand, task=self.subset.task, device=self.dev,
            infer=lambda idx, _m=state.model, _mod=state.module, _e=state.extra, **kw: infer(
                _m, pool, idx, cfg, _mod, _e, **kw),
            latents=self.latents if self.reads_latents else None,
            alpha=state.alpha, n_classes=self.subset.n_classes,
            pool_images=self.images, seed=self.seed, round=rnd, log=self.log,
        )
        t0 = time.perf_counter()
        picked = np.asarray(self.strategy.select(ctx, budget, rng), dtype=np.int64)
        select_s = time.perf_counter() - t0
        _check_picks(picked, cand, budget, self.label)
        self.log(f"{self.tag}round {rnd} | picked {budget} with {self.label} in {select_s:.2f}s")
        return picked, select_s, ctx.diagnostics.get("latent_share", math.nan)

    def retrain_representation(self, rnd: int, labeled: np.ndarray) -> None:
        """representation.retrain: per_round: warm-start the representation on this round's labels."""
        if self.retrainer is not None:
            sub = self.subset
            self.set_latents(self.retrainer.retrain(rnd, labeled, sub.pool_images, sub.pool_labels,
                                                    sub.task, sub.n_classes))

    def record(self, rnd, labeled, model, stats, select_s, n_picked, share=math.nan) -> dict:
        """One metrics row: test (and val) scores of this round's model, and its costs."""
        knn = math.nan
        if self.retrainer is not None:  # per_round: kNN(5) accuracy of this round's latents
            sub = self.subset
            knn = self.retrainer.knn_accuracy(sub.pool_labels, sub.test_images, sub.test_labels, sub.task)
        row = {"round": rnd, "n_labels": len(labeled), "latent_share": share, "latent_knn_acc": knn}
        try:
            m = evaluate(model, self.test, self.cfg)
            mv = (evaluate(model, self.val, self.cfg) if self.val is not None
                  else {"acc": math.nan, "auc": math.nan, "ap": math.nan})
        except TrainingDiverged as exc:  # said with the run and the round it happened in
            raise TrainingDiverged(f"{self.tag}round {rnd} labels {len(labeled)} {exc}") from None
        row.update(test_acc=m["acc"], test_auc=m["auc"], val_acc=mv["acc"], val_auc=mv["auc"],
                   test_ap=m["ap"], val_ap=mv["ap"])
        row.update({k: stats[k] for k in ("train_acc", "train_loss", "epochs", "train_time_s")})
        row["select_time_s"], row["n_picked"] = select_s, n_picked
        self.log(f"{self.tag}round {rnd} | labels {len(labeled)} | epochs {stats['epochs']} | train_acc "
                 f"{stats['train_acc']:.4f} | test_acc {row['test_acc']:.4f} | test_auc "
                 f"{row['test_auc']:.4f} | train {stats['train_time_s']:.1f}s select {select_s:.1f}s"
                 + (f" | latent kNN {knn:.4f}" if self.retrainer is not None else ""))
        return row

    # -------------------------------------------------------------- checkpoints
    def checkpoint(self, st: LoopState) -> None:
        """The whole state after round ``st.rnd``, written atomically with the run key."""
        if self.state_dir is None:
            return
        save_state(self.state_dir, {
            "config_hash": self.chash, "run_key": self.rkey, "settings": self.settings,
            "round": st.rnd, "labeled": st.labeled, "rows": st.rows, "picks": st.picks,
            "alpha": st.alpha, "model": st.model.state_dict(),
            "loss_module": st.module.state_dict() if st.module is not None else None,
            "strategy_state": self.strategy.get_state(),
            "retrainer": self.retrainer.checkpoint() if self.retrainer is not None else None,
        })

    def resume(self) -> Optional[LoopState]:
        """The state of the last finished round when a checkpoint with this run key exists."""
        if self.state_dir is None:
            return None
        saved = load_state(self.state_dir, self.chash, self.log, self.rkey)
        if saved is None:
            return None
        self.strategy.set_state(saved.get("strategy_state"))
        if self.retrainer is not None:
            self.set_latents(self.retrainer.restore(saved.get("retrainer"), saved["round"]))
        model, module, extra = self.fresh(saved["round"], saved["alpha"])
        model.load_state_dict(saved["model"])
        if module is not None:
            module.load_state_dict(saved["loss_module"])
        return LoopState(saved["round"], saved["labeled"], saved["rows"], saved["picks"], model,
                         module, extra, saved["alpha"])

    def round_zero(self) -> LoopState:
        """Round 0: the seed's initial labels (shared by every strategy), the first model."""
        labeled = (self.initial.copy() if self.initial is not None else
                   initial_labeled(len(self.subset), self.al["initial_labels"], self.seed))
        alpha = initial_alpha(self.alpha_setting, self.strategy)
        if alpha is not None:
            alpha = self.alpha_scale * alpha
        model, module, extra, stats = self.fit(0, labeled, alpha or 0.0)
        alpha = self.first_alpha(model, labeled, alpha)
        rows = [self.record(0, labeled, model, stats, 0.0, 0)]
        return LoopState(0, labeled, rows, {"initial": labeled.copy()}, model, module, extra, alpha)


@dataclass(frozen=True)
class RunSpec:
    """What one AL run is, apart from its data and where it runs: the strategy's label (it
    may carry an α scale, ``coreset_vae@0.5``, :mod:`alvae.strategies.alpha`), the seed, the
    config sections ``al``, ``task_model`` and ``lloss`` (a library caller may pass part of
    them: the schema's defaults fill the rest), ``alpha`` (top-level ``alpha``) and the strategy's
    own config section (its ``options`` in :data:`alvae.vocabulary.STRATEGIES`), if any."""

    strategy: str
    seed: int
    al: dict
    task_model: dict
    lloss: dict = field(default_factory=dict)
    alpha: object = "auto"
    strategy_options: Optional[dict] = None


def run_loop(subset: Subset, spec: RunSpec, *, latents: Optional[np.ndarray] = None,
             task_features: Optional[dict] = None, initial: Optional[np.ndarray] = None,
             state_dir: str | Path | None = None, device: str = "cpu",
             log: Callable[[str], None] = print, retrainer=None) -> tuple[list[dict], dict]:
    """Run Algorithm 1 for ``spec`` on ``subset`` and return ``(metric rows, picks)``.

    ``picks`` maps ``"initial"`` and ``"round_<r>"`` to pool indices. The run's inputs:
    ``latents``, the representation's pool latents (strategies that read them);
    ``task_features``, with ``task_model.arch`` linear or mlp, the frozen features the head
    trains on, ``{"pool": N x d, "test": ..., "val": ... or None}`` (:mod:`alvae.training.head`);
    ``initial``, the seed's chosen initial labeled set (``al.initial_selection`` other than
    random, :mod:`alvae.al.initial`; None draws it at random, :func:`initial_labeled`).
    Where it runs: with a ``state_dir`` the run checkpoints after every round and resumes
    from it; ``retrainer``, a :class:`alvae.representations.retrain.RoundRetrainer` for
    ``representation.retrain: per_round`` (its ``history`` then holds each round's latents).
    """
    run = ALRun(subset, spec.strategy, spec.seed, spec.al, spec.task_model, spec.lloss, spec.alpha,
                latents, state_dir, device, log, retrainer, spec.strategy_options, task_features, initial)
    st = run.resume()
    if st is None:
        st = run.round_zero()
        run.checkpoint(st)
    while len(st.labeled) < run.final:
        rnd = st.rnd + 1
        picked, select_s, share = run.query(st, rnd)                 # the strategy picks
        labeled = np.sort(np.concatenate([st.labeled, picked]))     # the oracle labels them
        run.retrain_representation(rnd, labeled)                    # (representation.retrain: per_round)
        model, module, extra, stats = run.fit(rnd, labeled, st.alpha)  # retrain from scratch
        row = run.record(rnd, labeled, model, stats, select_s, len(picked), share)
        st = LoopState(rnd, labeled, st.rows + [row], {**st.picks, f"round_{rnd}": picked},
                       model, module, extra, st.alpha)
        run.checkpoint(st)
    accel.release(run.compiled)
    return st.rows, st.picks


def _check_inputs(subset: Subset, label: str, base_name: str, strategy, al: dict,
                  latents: Optional[np.ndarray]) -> None:
    if strategy.needs_latents and latents is None:
        raise ValueError(f"strategy {label} needs VAE latents ({base_name}.space is latents)")
    if strategy.uses_representation and latents is None:
        raise ValueError(f"strategy {label} needs VAE latents")
    if latents is not None and len(latents) != len(subset):
        raise ValueError(f"latents have {len(latents)} rows for a pool of {len(subset)}")
    if not 0 < al["initial_labels"] < len(subset):
        raise ValueError(f"al.initial_labels ({al['initial_labels']}) must be in 1..{len(subset) - 1}")


def _check_initial(initial: Optional[np.ndarray], al: dict, n_pool: int) -> Optional[np.ndarray]:
    """A chosen initial labeled set: ``al.initial_labels`` distinct pool indices (sorted)."""
    if initial is None:
        return None
    idx = np.asarray(initial, dtype=np.int64)
    uniq = np.unique(idx)
    if len(uniq) != len(idx) or len(idx) != al["initial_labels"]:
        raise ValueError(f"the initial labeled set has {len(idx)} points ({len(uniq)} distinct); "
                         f"al.initial_labels is {al['initial_labels']}")
    if len(idx) and (uniq[0] < 0 or uniq[-1] >= n_pool):
        raise ValueError(f"the initial labeled set holds indices outside the pool (0..{n_pool - 1})")
    return uniq


def _check_head(subset: Subset, label: str, strategy, task_model: dict,
                task_features: Optional[dict]) -> None:
    """A frozen-feature head needs its features (one row per image) and refuses the
    strategies that train a module on the ResNet's blocks; a ResNet takes no features."""
    if not is_head(task_model):
        if task_features is not None:
            raise ValueError("task features are read only by task_model.arch linear or mlp")
        return
    if strategy.trains_loss_module:
        raise ValueError(f"strategy {label} trains a module on the task model's residual blocks; "
                         f"task_model.arch: {task_model['arch']} has none")
    check_features(task_features, len(subset), len(subset.test_images),
                   None if subset.val_images is None else len(subset.val_images))


def _settings(subset, label, seed, al, task_model, lloss, alpha, strategy, log, retrainer,
              strategy_options) -> dict:
    """Everything of the config a run's results depend on (hashed into its run key)."""
    settings = {"strategy": label, "seed": seed, "al": al, "task_model": task_model,
                "lloss": lloss if strategy.trains_loss_module else None,
                "alpha": alpha if strategy.uses_representation else None, "n_pool": len(subset),
                "subset": subset.name}
    # before any CUDA work: fixed kernels, recorded with the settings (and their hash)
    settings["determinism"] = determinism.configure(task_model["deterministic"], log)
    if retrainer is not None:
        settings["retrain"] = retrainer.settings()
    if strategy_options:
        settings["strategy_options"] = strategy_options
    return settings


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
