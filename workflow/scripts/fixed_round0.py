"""Snakemake adapter: round 0 of one seed with the fixed recipe (rule fixed_round0),
to set beside the tuned recipe's round 0 in the report."""

import torch

from alvae.al.loop import RunSpec, run_loop, write_metrics
from alvae.data.loaders import load_subset
from alvae.logs import job_logger
from alvae.training.devices import job_device

log = job_logger(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
p, wc = snakemake.params, snakemake.wildcards
sub = load_subset(snakemake.input.subset, snakemake.input.evaluation)
n = p.initial_labels
al = {"initial_labels": n, "labels_per_round": 1, "final_labels": n}
with job_device(snakemake.resources.get("gpu", 1), snakemake.config["gpu"], log) as device:  # not config
    rows, _ = run_loop(sub, RunSpec("random", int(wc.seed), al, dict(p.task_model), {}), device=device,
                       log=log)
write_metrics(rows, snakemake.output[0])
log("done")
