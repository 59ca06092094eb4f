"""Snakemake adapter: one AL run, Algorithm 1 (rule al_run)."""

import shutil

import numpy as np
import torch

from alvae.al.loop import RunSpec, run_loop, write_metrics, write_picks
from alvae.data.loaders import load_subset
from alvae.logs import job_logger
from alvae.representations.retrain import RoundRetrainer, load_representation_state, write_round_latents
from alvae.training.devices import job_device
from alvae.training.tune import apply_recipe, read_recipe

log = job_logger(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
p, wc = snakemake.params, snakemake.wildcards
sub = load_subset(snakemake.input.subset, snakemake.input.evaluation)
latents = np.load(snakemake.input.latents) if "latents" in snakemake.input.keys() else None
initial = np.load(snakemake.input.initial) if "initial" in snakemake.input.keys() else None
task_features = None
if "features" in snakemake.input.keys():  # task_model.arch linear/mlp: the frozen features
    with np.load(snakemake.input.eval_features) as ev:
        task_features = {"pool": np.load(snakemake.input.features), "test": ev["test"],
                         "val": ev["val"] if "val" in ev.files else None}
task_model = dict(p.task_model)
if "recipe" in snakemake.input.keys():  # task_model.recipe: tuned
    recipe = read_recipe(snakemake.input.recipe)
    task_model = apply_recipe(task_model, recipe)
    log(f"recipe: tuned ({snakemake.input.recipe}, trial {recipe.get('trial')}, cv "
        f"{recipe.get('metric')} {recipe.get('cv_score')}): {recipe['task_model']}")
with job_device(snakemake.resources.get("gpu", 1), snakemake.config["gpu"], log) as device:  # not config
    retrainer = None
    if p.retrain is not None:  # representation.retrain: per_round
        r = p.retrain
        retrainer = RoundRetrainer(r["kind"], r["representation"], r["epochs"],
                                   load_representation_state(snakemake.input.model, r["kind"]),
                                   latents, int(wc.seed), device, log)
    rows, picks = run_loop(sub,
                           RunSpec(wc.strategy, int(wc.seed), p.al, task_model, p.lloss or {},
                                   alpha=p.alpha, strategy_options=p.strategy_options),
                           latents=latents, state_dir=p.state_dir, device=device, log=log,
                           retrainer=retrainer, task_features=task_features, initial=initial)
write_picks(picks, snakemake.output.picked)
if "latents" in snakemake.output.keys():
    write_round_latents(retrainer.history if retrainer is not None else {}, snakemake.output.latents)
write_metrics(rows, snakemake.output.metrics)
shutil.rmtree(p.state_dir, ignore_errors=True)  # finished: the checkpoint is no longer needed
log("done")
