"""Training engine: the pool lives on the device as uint8, batches are index
tensors, normalisation happens per batch on the device.

No ``DataLoader``, no per-sample Python transforms: for 28×28 images the data
path would otherwise cost more than the ResNet itself on a GPU. The number format
(bf16 autocast and channels-last, or float32) is ``task_model.precision``
(:mod:`alvae.training.precision`); how long a round trains is its planned epochs,
then ``task_model.train_until`` (:class:`StopRule`) when set.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import UserError
from ..logs import Progress, steps_per_epoch
from ..schema import with_defaults
from . import accel
from . import precision as _precision
from .head import HeadModel, is_head
from .lossnet import LossPredictionModule, pair_margin_loss
from .model import BLOCK_CHANNELS, TaskModel


@dataclass(frozen=True)
class StopRule:
    """``task_model.train_until``: after its planned epochs a round keeps training until
    the epoch's train accuracy reaches ``train_acc`` (DISTIL's rule: 0.99), or it has
    trained ``max_epochs`` epochs in all, or the train accuracy has saturated (its best
    over the last ``patience`` epochs is no more than ``min_delta`` above its best
    before them; ``patience`` null: never)."""

    train_acc: float
    max_epochs: int
    patience: Optional[int]
    min_delta: float

    @classmethod
    def from_config(cls, value: Optional[dict]) -> Optional["StopRule"]:
        if value is None:
            return None
        v = with_defaults("task_model", value, sub="train_until")
        return cls(float(v["train_acc"]), int(v["max_epochs"]),
                   None if v["patience"] is None else int(v["patience"]), float(v["min_delta"]))

    def reached(self, acc: float) -> bool:
        return acc >= self.train_acc

    def saturated(self, history: list[float]) -> bool:
        """Whether the train accuracies so far (one per epoch) have stopped improving."""
        p = self.patience
        if p is None or len(history) <= p:
            return False
        return max(history[-p:]) <= max(history[:-p]) + self.min_delta

    def why_stopped(self, epoch: int, history: list[float]) -> str:
        if history and self.reached(history[-1]):
            return f"train_acc {history[-1]:.4f} >= {self.train_acc:g}"
        if self.saturated(history):
            return (f"saturated (train_acc rose at most {self.min_delta:g} over the last "
                    f"{self.patience} epochs), below {self.train_acc:g}")
        return f"max_epochs {self.max_epochs} reached, train_acc below {self.train_acc:g}"


@dataclass
class TrainConfig:
    """The training settings of one round, built from ``task_model`` and ``lloss`` over
    the schema's defaults (:func:`from_config`; the defaults are written only there)."""

    lr: float
    momentum: float
    optimizer: str  # sgd or adam
    weight_decay: float
    batch_size: int
    eval_batch_size: int
    train_until: Optional[StopRule]
    precision: str  # auto, fp32 or bf16 (resolved per device by alvae.training.precision)
    stem: str       # the model's stem (auto precision reads it)
    # loss prediction (used only when the engine is given a loss module)
    lloss_margin: float
    lloss_weight: float
    lloss_detach_after: float
    # classifier recipe (alvae.training.recipe), all off by default
    augment: bool
    crop_padding: int
    hflip: bool
    lr_schedule: str
    min_steps: int

    @classmethod
    def from_config(cls, task_model: dict | None = None, lloss: dict | None = None) -> "TrainConfig":
        """From a (validated, or partial in library use) ``task_model`` and ``lloss``."""
        tm = with_defaults("task_model", task_model)
        ll = with_defaults("lloss", lloss)
        return cls(
            lr=tm["lr"], momentum=tm["momentum"], optimizer=tm["optimizer"],
            weight_decay=tm["weight_decay"],
            batch_size=tm["batch_size"], eval_batch_size=tm["eval_batch_size"],
            train_until=StopRule.from_config(tm["train_until"]), precision=tm["precision"],
            stem=tm["stem"], lloss_margin=ll["margin"], lloss_weight=ll["weight"],
            lloss_detach_after=ll["detach_after"], augment=tm["augment"],
            crop_padding=tm["crop_padding"], hflip=tm["hflip"], lr_schedule=tm["lr_schedule"],
            min_steps=tm["min_steps"],
        )

    def on(self, device, log: Optional[Callable[[str], None]] = None) -> "TrainConfig":
        """This config with its precision resolved for ``device`` (``fp32`` or ``bf16``;
        refused with one line where ``bf16`` cannot run), said in the log."""
        return dataclasses.replace(
            self, precision=_precision.resolve(self.precision, device, self.stem, log))


class DevicePool:
    """Images (uint8) and labels of one split, resident on ``device``."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, task: str, device):
        self.device = torch.device(device)
        self.images = torch.from_numpy(np.ascontiguousarray(images)).to(self.device)
        self.task = task
        dtype = torch.float32 if task == "multi-label" else torch.long
        self.labels = torch.as_tensor(np.asarray(labels), dtype=dtype, device=self.device)

    def __len__(self) -> int:
        return len(self.images)


class TrainingDiverged(UserError, RuntimeError):
    """The task model's training loss, or its state (a weight, a batch-norm running
    statistic), became NaN or infinite: the recipe does not suit the labeled set (a large
    lr on a handful of points, say). The job stops with this one line instead of training
    on NaN and failing later in a metric."""


def non_finite_state(*modules) -> Optional[str]:
    """The name of the first parameter or floating-point buffer of ``modules`` holding
    a NaN or an infinity (one device sync when all are finite), else None. The epoch's
    loss can stay finite while the last step's update or the running variance of a
    batch norm overflows; evaluation in eval mode then yields NaN probabilities."""
    named = [(n, t) for m in modules if m is not None
             for n, t in (*m.named_parameters(), *m.named_buffers()) if t.is_floating_point()]
    if not named or bool(torch.stack([torch.isfinite(t).all() for _, t in named]).all()):
        return None
    return next(n for n, t in named if not bool(torch.isfinite(t).all()))


def per_sample_loss(logits: torch.Tensor, targets: torch.Tensor, task: str) -> torch.Tensor:
    """Cross-entropy for multi-class/binary, mean BCE over labels for multi-label."""
    logits = logits.float()
    if task == "multi-label":
        return F.binary_cross_entropy_with_logits(logits, targets, reduction="none").mean(dim=1)
    return F.cross_entropy(logits, targets, reduction="none")


def n_outputs(task: str, n_classes: int) -> int:
    return n_classes if task != "binary" else 2


def _precision_of(device: torch.device, cfg: "TrainConfig") -> str:
    """The resolved precision of ``cfg`` on ``device`` (``auto`` resolved quietly for a
    library caller that did not call :meth:`TrainConfig.on`)."""
    if cfg.precision == "auto":
        return _precision.resolve("auto", device, cfg.stem)
    return cfg.precision


def _correct(logits: torch.Tensor, targets: torch.Tensor, task: str) -> torch.Tensor:
    """Number of correct predictions (multi-label: correct label decisions / L)."""
    if task == "multi-label":
        return ((logits > 0).float() == targets).float().mean(dim=1).sum()
    return (logits.argmax(dim=1) == targets).sum()


def build_model(task: str, n_classes: int, in_channels: int, task_model: dict, seed: int,
                device, dropout: float = 0.0, precision: Optional[str] = None) -> TaskModel:
    """A freshly initialised task model (the seed fixes the new head's init);
    ``dropout`` > 0 puts a dropout layer before the last layer (MC dropout).
    ``precision`` (resolved; default: ``task_model.precision`` resolved for ``device``)
    decides the memory format (:func:`alvae.training.precision.channels_last`).
    ``task_model.arch`` linear or mlp builds a frozen-feature head
    (:class:`alvae.training.head.HeadModel`) on ``in_channels`` input features."""
    tm = with_defaults("task_model", task_model)
    torch.manual_seed(seed)
    if is_head(tm):
        model = HeadModel(n_outputs(task, n_classes), in_channels, tm["arch"], tm["hidden"], dropout)
    else:
        model = TaskModel(n_outputs(task, n_classes), in_channels, tm["weights"], tm["grayscale"],
                          tm["input_size"], tm["stem"], dropout)
    model = model.to(device)
    if precision is None or precision == "auto":
        precision = _precision.resolve(tm["precision"], device, tm["stem"])
    if _precision.channels_last(device, precision):
        model = model.to(memory_format=torch.channels_last)
    return model


def build_loss_module(hidden: int, extra_dim: int, seed: int, device):
    torch.manual_seed(seed + 7919)
    return LossPredictionModule(BLOCK_CHANNELS, hidden=hidden, extra_dim=extra_dim).to(device)


def _prepare(model: TaskModel, pool: DevicePool, idx: torch.Tensor, precision: str,
             aug=None) -> torch.Tensor:
    x = model.prepare(pool.images[idx] if aug is None else aug(pool.images[idx]))
    if x.dim() == 4 and _precision.channels_last(pool.device, precision):  # images, not features
        x = x.contiguous(memory_format=torch.channels_last)
    return x


def make_optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    """``task_model.optimizer``: SGD with ``momentum`` (the thesis's), or Adam (the usual
    choice for a linear probe, CDALBench's), both with ``lr`` and L2 ``weight_decay``."""
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer != "sgd":
        raise ValueError(f"task_model.optimizer must be sgd or adam, got {cfg.optimizer!r}")
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


def train_model(model: TaskModel, pool: DevicePool, labeled: np.ndarray, epochs: int,
                cfg: TrainConfig, seed: int, loss_module=None,
                extra: Optional[torch.Tensor] = None,
                log: Callable[[str], None] = print, log_prefix: str = "",
                val: Optional[np.ndarray] = None,
                on_epoch: Optional[Callable[[int, TaskModel], None]] = None) -> dict:
    """Train ``model`` (and the loss module, jointly) on ``labeled`` pool points.

    ``extra`` is the per-pool-point vector the loss module appends (α·VAE μ).
    Trains ``epochs`` epochs (raised by ``min_steps``); with ``cfg.train_until`` (a
    :class:`StopRule`) it then keeps going until the rule holds: the train accuracy
    reaches its target, it saturates, or ``max_epochs`` epochs are done in all (a
    ``cosine`` schedule then spans ``max_epochs``, as in DISTIL). Returns the final
    epoch's train accuracy and loss, the epochs run, the seconds, the resolved
    precision and why training stopped.

    Recipe options (``cfg``, off by default): ``min_steps`` raises ``epochs``,
    ``lr_schedule`` steps a scheduler per batch, ``augment`` crops/flips each
    batch; with ``val`` (labeled pool points held out) the weights of the epoch
    with the best validation accuracy (the first such epoch) are kept.

    Batches follow :func:`alvae.training.recipe.batch_bounds`: a last batch smaller than
    half a batch is merged into the one before. ``on_epoch(epoch, model)`` is
    called after each epoch (the tuner reports and prunes there; it may raise).
    """
    from .recipe import augment_uint8, batch_bounds, make_scheduler, planned_epochs
    device = pool.device
    gen = torch.Generator(device="cpu").manual_seed(seed)
    params = list(model.parameters()) + (list(loss_module.parameters()) if loss_module else [])
    opt = make_optimizer(params, cfg)
    lab = torch.as_tensor(labeled, dtype=torch.long, device=device)
    n = len(lab)
    epochs = planned_epochs(epochs, n, cfg.batch_size, cfg.min_steps)
    rule = cfg.train_until
    max_epochs = max(epochs, rule.max_epochs) if rule is not None else epochs
    bounds = batch_bounds(n, cfg.batch_size)
    sched = make_scheduler(opt, cfg.lr_schedule, max_epochs * len(bounds))
    prec = _precision_of(device, cfg)
    aug = None
    if cfg.augment:
        aug_gen = torch.Generator(device="cpu").manual_seed(seed + 104729)
        aug = lambda im: augment_uint8(im, aug_gen, cfg.crop_padding, cfg.hflip)  # noqa: E731
    best = None  # (val accuracy, epoch, weights) with a validation hold-out
    detach_epoch = int(round(cfg.lloss_detach_after * epochs))
    model.train()
    if loss_module is not None:
        loss_module.train()
    t0 = time.perf_counter()
    epoch, acc, mean_loss = 0, 0.0, float("nan")
    history: list[float] = []  # train accuracy per epoch (the stop rule reads it)
    per_epoch = steps_per_epoch(n, cfg.batch_size) - int(n >= 2 and n % cfg.batch_size == 1)
    meter = Progress(f"{log_prefix}task model", epochs * per_epoch, log, unit="batch")
    while epoch < max_epochs:
        if epoch >= epochs and (rule is None or rule.reached(acc) or rule.saturated(history)):
            break
        if epoch >= epochs:
            meter.extend(per_epoch)  # an epoch past the planned ones (train_until)
        perm = lab[torch.randperm(n, generator=gen).to(device)]
        correct = torch.zeros((), device=device)
        loss_sum = torch.zeros((), device=device)
        for start, stop in bounds:
            idx = perm[start:stop]
            x, y = _prepare(model, pool, idx, prec, aug), pool.labels[idx]
            with _precision.autocast(device, prec):
                logits, _, blocks = accel.forward(model, x)
                losses = per_sample_loss(logits, y, pool.task)
                loss = losses.mean()
                if loss_module is not None:
                    if epoch >= detach_epoch:
                        blocks = [b.detach() for b in blocks]
                    pred = loss_module(blocks, None if extra is None else extra[idx]).float()
                    loss = loss + cfg.lloss_weight * pair_margin_loss(pred, losses.detach(),
                                                                      cfg.lloss_margin)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            correct += _correct(logits.detach(), y, pool.task)
            loss_sum += losses.detach().sum()
            meter.step(lambda: {"loss": loss.detach()})
        epoch += 1
        acc = float(correct) / n
        history.append(acc)
        mean_loss = float(loss_sum) / n
        broken = None if not math.isfinite(mean_loss) else non_finite_state(model, loss_module)
        if broken or not math.isfinite(mean_loss):
            what = (f"the model holds NaN or infinite values ({broken})" if broken
                    else f"the train loss is {mean_loss}")
            raise TrainingDiverged(
                f"{log_prefix}training diverged: {what} at epoch {epoch} "
                f"({n} labeled points, batch {cfg.batch_size}, lr {cfg.lr}); lower task_model.lr, "
                f"or start from more labels (al.initial_labels)")
        planned = f"{epoch}/{epochs}" if epoch <= epochs else f"{epoch} (of at most {max_epochs})"
        msg = f"{log_prefix}epoch {planned} train_loss {mean_loss:.4f} train_acc {acc:.4f}"
        if val is not None and len(val):
            vacc = _holdout_accuracy(model, pool, val, cfg)
            model.train()
            msg += f" holdout_acc {vacc:.4f}"
            if best is None or vacc > best[0]:
                best = (vacc, epoch, {k: v.detach().clone() for k, v in model.state_dict().items()})
        log(msg)
        if on_epoch is not None:
            on_epoch(epoch, model)
            model.train()
    stopped = "planned epochs" if rule is None else rule.why_stopped(epoch, history)
    if rule is not None:
        log(f"{log_prefix}stopped after {epoch} epochs: {stopped}")
    if best is not None:
        model.load_state_dict(best[2])
        log(f"{log_prefix}kept epoch {best[1]} (holdout_acc {best[0]:.4f})")
    return {"train_acc": acc, "train_loss": mean_loss, "epochs": epoch,
            "train_time_s": time.perf_counter() - t0, "precision": prec, "stopped": stopped}


def _holdout_accuracy(model: TaskModel, pool: DevicePool, idx: np.ndarray, cfg: TrainConfig) -> float:
    """Accuracy (multi-label: label-wise) on labeled pool points held out for validation."""
    probs = infer(model, pool, idx, cfg)["probs"]
    y = pool.labels[torch.as_tensor(np.asarray(idx), dtype=torch.long, device=pool.device)]
    if pool.task == "multi-label":
        return float(((probs > 0.5).float() == y).float().mean())
    return float((probs.argmax(dim=1) == y).float().mean())


@torch.no_grad()
def infer(model: TaskModel, pool: DevicePool, indices, cfg: TrainConfig, loss_module=None,
          extra: Optional[torch.Tensor] = None, mc_passes: int = 0, seed: int = 0) -> dict:
    """One batched pass over ``pool`` points: features, probabilities, and the
    predicted loss when a loss module is given. Tensors stay on the device.

    ``mc_passes=T`` (a model with dropout before its last layer) adds
    ``"mc_probs"`` (T x n x C): the backbone runs once in eval mode, then the
    last layer sees T independent dropout masks (seeded by ``seed``).
    """
    device = pool.device
    idx_all = torch.as_tensor(np.asarray(indices), dtype=torch.long, device=device)
    model.eval()
    if loss_module is not None:
        loss_module.eval()
    feats, probs, preds, mc = [], [], [], []
    prec = _precision_of(device, cfg)
    if mc_passes:
        if not getattr(model, "dropout", 0.0):
            raise ValueError("MC dropout passes need a model built with dropout > 0")
        mc_gen = torch.Generator(device=device).manual_seed(int(seed))
        keep = 1.0 - model.dropout
    for start in range(0, len(idx_all), cfg.eval_batch_size):
        idx = idx_all[start:start + cfg.eval_batch_size]
        with _precision.autocast(device, prec):
            logits, f, blocks = accel.forward(model, _prepare(model, pool, idx, prec))
            if loss_module is not None:
                preds.append(loss_module(blocks, None if extra is None else extra[idx]).float())
        logits = logits.float()
        feats.append(f.float())
        probs.append(torch.sigmoid(logits) if pool.task == "multi-label" else logits.softmax(dim=1))
        if mc_passes:
            f32 = f.float()
            mask = torch.rand((mc_passes,) + tuple(f32.shape), generator=mc_gen, device=device) < keep
            fc = model.classifier
            lt = torch.nn.functional.linear(f32 * mask / keep, fc.weight.float(), fc.bias.float())
            mc.append(torch.sigmoid(lt) if pool.task == "multi-label" else lt.softmax(dim=2))
    out = {
        "features": torch.cat(feats) if feats else torch.zeros((0, 512), device=device),
        "probs": torch.cat(probs) if probs else torch.zeros((0, 1), device=device),
    }
    if mc_passes:
        out["mc_probs"] = (torch.cat(mc, dim=1) if mc
                           else torch.zeros((mc_passes, 0, 1), device=device))
    if loss_module is not None:
        out["pred_loss"] = torch.cat(preds) if preds else torch.zeros(0, device=device)
    return out


def evaluate(model: TaskModel, pool: DevicePool, cfg: TrainConfig) -> dict:
    """Accuracy and ROC-AUC on a whole split (see :func:`alvae.training.metrics.scores`)."""
    from .metrics import scores

    probs = infer(model, pool, np.arange(len(pool)), cfg)["probs"]
    if not bool(torch.isfinite(probs).all()):  # finite weights whose outputs overflow
        raise TrainingDiverged(
            f"training diverged: the model's predictions on the {len(pool)} evaluation images "
            f"are NaN or infinite (batch {cfg.batch_size}, lr {cfg.lr}); lower task_model.lr, "
            f"or start from more labels (al.initial_labels)")
    return scores(probs.cpu().numpy(), pool.labels.cpu().numpy(), pool.task)
