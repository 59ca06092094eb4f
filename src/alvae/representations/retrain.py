"""``representation.retrain: per_round``: the representation retrained inside the AL run.

Round 0 uses the latents (and the model state) of the representation trained
once on the pool. After every labeling round r the representation of the
run's kind is trained further on the pool, with the run's current labels where
the kind uses them, warm-started from round r − 1's weights, for
``representation.retrain_epochs`` epochs; its latents serve round r's task model (the
learning-loss module's input) and round r + 1's selection. Each round's latents
are kept (``history``) and checkpointed with the run, so a resumed run
continues from the same weights.

Every round the run also records how well that round's latents separate the
classes (:meth:`RoundRetrainer.knn_accuracy`, the ``latent_knn_acc`` column of
``metrics.csv``): the train_representation job's kNN(5) diagnostic, for the retrained model.
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import torch

from ..io import atomic_path
from ..runkey import array_digest, config_hash


def state_digest(state) -> str:
    """Content hash of a (nested) state dict of tensors and plain values."""
    def flat(obj):
        if isinstance(obj, dict):
            return {str(k): flat(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
        if torch.is_tensor(obj):
            return array_digest(obj.detach().cpu().numpy())
        if isinstance(obj, np.ndarray):
            return array_digest(obj)
        if isinstance(obj, (list, tuple)):
            return [flat(v) for v in obj]
        return obj
    return config_hash({"state": flat(state)})


def load_representation_state(path, kind: str) -> dict:
    """The model file a ``train_representation`` job wrote, as a ``train_representation`` state."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(state, dict) or "state_dict" not in state:
        raise ValueError(f"{path}: not a representation model file (no 'state_dict')")
    state = dict(state)
    state.setdefault("kind", kind)  # the thesis VAE's file (alvae.representations.vae.save_vae) has no kind
    if state["kind"] != kind:
        raise ValueError(f"{path}: holds a {state['kind']!r} model, the run needs {kind!r}")
    return state


def round_vae_seed(seed: int, rnd: int) -> int:
    """Seed of round ``rnd``'s representation training (same for all strategies)."""
    return int(np.random.default_rng([seed, rnd, 23]).integers(2**31 - 1))


class RoundRetrainer:
    """Per-round retraining of one representation kind (see the module docstring)."""

    def __init__(self, kind: str, rep_cfg: dict, epochs: int, init_state: dict,
                 latents: np.ndarray, seed: int, device="cpu",
                 log: Callable[[str], None] = print):
        if int(epochs) < 0:
            raise ValueError(f"representation.retrain_epochs must be >= 0, got {epochs}")
        self.kind, self.rep_cfg, self.epochs = kind, rep_cfg, int(epochs)
        self.seed, self.device, self.log = seed, device, log
        self.state = init_state
        self.latents = np.asarray(latents, dtype=np.float32)
        self.history = {"round_0": self.latents}
        self.model = None  # the module behind self.latents, rebuilt from self.state when needed
        self._init_digest = state_digest(init_state)

    def settings(self) -> dict:
        """What the retraining depends on (part of the run's resume key)."""
        return {"kind": self.kind, "representation": self.rep_cfg, "epochs": self.epochs,
                "init_state": self._init_digest}

    def retrain(self, rnd: int, labeled: np.ndarray, images: np.ndarray, labels, task: str,
                n_classes: int) -> np.ndarray:
        """Round ``rnd``'s latents: train on from the last state with ``labeled``."""
        from . import train_representation

        res = train_representation(self.kind, images, labels, np.asarray(labeled, dtype=np.int64),
                                   task=task, n_classes=n_classes, rep_cfg=self.rep_cfg,
                                   seed=round_vae_seed(self.seed, rnd), device=self.device,
                                   init_state=self.state, epochs=self.epochs, log=self.log)
        self.state, self.latents = res.state, np.asarray(res.latents, dtype=np.float32)
        self.model = res.model
        self.history[f"round_{rnd}"] = self.latents
        self.log(f"retrained the {self.kind} representation for round {rnd} "
                 f"({len(labeled)} labels, {self.epochs} epochs)")
        return self.latents

    def knn_accuracy(self, pool_labels, test_images, test_labels, task: str) -> float:
        """kNN(5) accuracy on the test split of the current latent means, fit on the
        pool's (:func:`alvae.representations.diagnostics.knn_accuracy`; multi-label:
        mean per-label accuracy). Reads nothing the selection uses."""
        from .diagnostics import knn_accuracy, load_model
        from .vae import encode_means

        if self.model is None:
            with torch.random.fork_rng(devices=[]):  # building a module draws from the RNG
                self.model = load_model(self.state, self.device)
        dim = int(self.model.config["latent_dim"])
        test_mu = encode_means(self.model, test_images, device=self.device)
        return knn_accuracy(self.latents[:, :dim], pool_labels, test_mu, test_labels, task)

    def checkpoint(self) -> dict:
        return {"state": self.state, "history": dict(self.history)}

    def restore(self, checkpoint: Optional[dict], rnd: int) -> np.ndarray:
        if checkpoint is None or f"round_{rnd}" not in checkpoint["history"]:
            raise ValueError(f"the checkpoint has no representation state for round {rnd}")
        self.state, self.history = checkpoint["state"], dict(checkpoint["history"])
        self.latents, self.model = self.history[f"round_{rnd}"], None
        return self.latents


def write_round_latents(history: dict, path) -> None:
    """Each round's latents as one ``.npz`` (keys ``round_0``, ``round_1``, ...)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **history)
