"""Snakemake adapter: the tuning stage of task_model.recipe: tuned (rules tune, tune_worker)."""

from pathlib import Path

import torch

from alvae.data.loaders import load_subset
from alvae.io import write_text_atomic
from alvae.logs import job_logger
from alvae.training.devices import job_device
from alvae.training.tune import history_figure, run_study, storage_for, study_file, tune_recipe, write_recipe

log = job_logger(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
p, wc = snakemake.params, snakemake.wildcards
folder = Path(snakemake.output[0]).parent
# tune.storage and tune.workers decide how the study is kept and run, not what it finds:
# read here, not in params (changing them reruns nothing)
kind = snakemake.config["tune"]["storage"]
storage = storage_for(study_file(folder, kind), kind)
sub = load_subset(snakemake.input.subset)  # the pool file alone: no evaluation split here
workers = snakemake.config["tune"]["workers"]
with job_device(snakemake.resources.get("gpu", 1), snakemake.config["gpu"], log) as device:  # not config
    if snakemake.rule == "tune_worker":
        from alvae.training.tune import labeled_set

        fixed = dict(p.task_model)
        run_study(labeled_set(sub, p.initial_labels, p.seed), fixed, p.tune, storage, device, log,
                  sole_worker=False)
    else:
        recipe, table, _ = tune_recipe(sub, p.seed, p.initial_labels, p.task_model, p.tune,
                                       storage, device, log, sole_worker=workers == 1)
if snakemake.rule == "tune_worker":
    write_text_atomic(snakemake.output[0], "done\n")
else:
    with_metric = recipe["metric"]
    table.to_csv(snakemake.output.trials, index=False)
    history_figure(table, with_metric, f"{wc.dataset} ({wc.scope}): {len(table)} trials, "
                   f"{recipe['folds']}-fold CV", snakemake.output.history)
    write_recipe(snakemake.output.recipe, recipe)
log("done")
