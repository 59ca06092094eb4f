"""Snakemake adapter: the all-labels ceiling of one dataset and seed (rule ceiling)."""

import numpy as np
import torch

from alvae.data.loaders import load_subset
from alvae.logs import job_logger
from alvae.training import determinism
from alvae.training.ceiling import train_ceiling, write_row
from alvae.training.devices import job_device
from alvae.training.tune import apply_recipe, read_recipe

log = job_logger(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
p, wc = snakemake.params, snakemake.wildcards
task_model = p.task_model
if "recipe" in snakemake.input.keys():  # task_model.recipe: tuned, as the AL runs of this seed
    task_model = apply_recipe(task_model, read_recipe(snakemake.input.recipe))
    log(f"recipe: tuned ({snakemake.input.recipe}): {task_model}")
determinism.configure(task_model["deterministic"], log)  # before CUDA starts
sub = load_subset(snakemake.input.subset, snakemake.input.evaluation)
task_features = None
if "features" in snakemake.input.keys():  # task_model.arch linear/mlp: the frozen features
    with np.load(snakemake.input.eval_features) as ev:
        task_features = {"pool": np.load(snakemake.input.features), "test": ev["test"],
                         "val": ev["val"] if "val" in ev.files else None}
with job_device(snakemake.resources.get("gpu", 1), snakemake.config["gpu"], log) as device:  # not config
    row, _ = train_ceiling(sub, int(wc.seed), p.al, task_model, device, log,
                           task_features=task_features)
write_row({"dataset": wc.dataset, **row}, snakemake.output.metrics)
log("done")
