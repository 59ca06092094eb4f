"""The thesis's visual experiment (Figures 4.5 and 4.6).

Train the task model on ``initial_labels`` points, draw ``candidates``
unlabeled points, and let each strategy pick ``pick`` of them from the same
model. The features of the labeled and candidate points and each strategy's
picks are returned for the t-SNE figures.
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from ..data.loaders import Subset
from ..seeds import initial_labeled, round_seed
from ..strategies import SelectionContext, get_strategy
from ..strategies.alpha import AUTO_MODES, measured_alpha
from ..training.engine import DevicePool, TrainConfig, build_model, infer, train_model


def select_for_tsne(subset: Subset, tsne: dict, task_model: dict, alpha="auto",
                    latents: Optional[np.ndarray] = None, device: str = "cpu",
                    log: Callable[[str], None] = print) -> dict:
    """Return the arrays of the t-SNE selection file (see the results stage)."""
    seed = tsne["seed"]
    cfg = TrainConfig.from_config(task_model).on(device, log)
    pool = DevicePool(subset.pool_images, subset.pool_labels, subset.task, device)
    labeled = initial_labeled(len(subset), tsne["initial_labels"], seed)
    rng = np.random.default_rng([seed, 99])
    unlabeled = np.setdiff1d(np.arange(len(subset)), labeled, assume_unique=True)
    candidates = np.sort(rng.choice(unlabeled, size=tsne["candidates"], replace=False))
    rs = round_seed(seed, 0)
    model = build_model(subset.task, subset.n_classes, subset.pool_images.shape[1], task_model,
                        rs, device, precision=cfg.precision)
    train_model(model, pool, labeled, task_model["epochs_initial"], cfg, rs, log=log,
                log_prefix=f"[tsne {subset.name}] labels {len(labeled)} ")
    lab_f = infer(model, pool, labeled, cfg)["features"]
    out = {"labeled_indices": labeled, "candidate_indices": candidates,
           "labeled_features": lab_f.cpu().numpy(),
           "candidate_features": infer(model, pool, candidates, cfg)["features"].cpu().numpy()}
    a = 0.0
    if latents is not None:
        a = measured_alpha(alpha, lab_f, latents, labeled) if alpha in AUTO_MODES else float(alpha)
        out["labeled_latents"], out["candidate_latents"] = latents[labeled], latents[candidates]
    out["alpha"] = np.array(a)
    for name in tsne["strategies"]:
        strategy = get_strategy(name)
        ctx = SelectionContext(labeled=labeled, candidates=candidates, task=subset.task,
                               device=pool.device, infer=lambda idx: infer(model, pool, idx, cfg),
                               latents=latents if strategy.uses_representation else None, alpha=a)
        picked = np.asarray(strategy.select(ctx, tsne["pick"], np.random.default_rng([seed, 7])))
        out[f"picked_{name}"] = np.searchsorted(candidates, picked)
        log(f"[tsne {subset.name}] {name} picked {len(picked)} of {len(candidates)} candidates")
    return out
