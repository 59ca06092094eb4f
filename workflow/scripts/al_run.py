"""Snakemake adapter: one AL run, Algorithm 1 (rule al_run)."""

import shutil

import numpy as np
import torch

from alvae.data import load_subset
from alvae.devices import job_device
from alvae.logs import job_logger
from alvae.loop import run_loop, write_metrics, write_picks

log = job_logger(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
p, wc = snakemake.params, snakemake.wildcards
sub = load_subset(snakemake.input.subset)
latents = np.load(snakemake.input.latents) if "latents" in snakemake.input.keys() else None
with job_device(snakemake.resources.get("gpu", 1), snakemake.config.get("gpu", {}), log) as device:
    rows, picks = run_loop(sub, wc.strategy, int(wc.seed), p.al, p.task_model, p.lloss or {},
                           p.alpha, latents, p.state_dir, device, log, p.strategy_cfg)
write_picks(picks, snakemake.output.picked)
write_metrics(rows, snakemake.output.metrics)
shutil.rmtree(p.state_dir, ignore_errors=True)  # finished: the checkpoint is no longer needed
log("done")
