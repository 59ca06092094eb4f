"""Snakemake adapter: collect every run's metrics.csv (rule aggregate)."""

import numpy as np
import pandas as pd

from alvae.analysis.results import METRICS, aulc, dataset_info, load_runs, summarize
from alvae.analysis.stats import primary_metric
from alvae.io import write_text_atomic
from alvae.logs import job_logger

log = job_logger(snakemake.log[0])
p = snakemake.params
records = [tuple(r) for r in p.records]
runs = load_runs(records)
log(f"{len(records)} runs, {len(runs)} rows")
summary = summarize(runs, [m for m in METRICS if m in runs.columns])
areas = pd.concat([aulc(runs, m) for m in p.metrics if m in runs.columns], ignore_index=True)
infos = []
for dataset, path in zip(p.datasets, snakemake.input.evaluations):
    with np.load(path) as sub:
        task = str(sub["task"])
        shared = {split: int(sub[f"shared_{split}"]) for split in ("test", "val") if f"shared_{split}" in sub.files}
        infos.append(dataset_info(dataset, task, sub["test_labels"],
                                  primary=primary_metric(task, p.stats_metrics, p.primary),
                                  n_outputs=len(sub["class_names"]), shared_with_train=shared))
    log(f"{dataset}: {infos[-1]}")
write_text_atomic(snakemake.output.runs, runs.to_csv(index=False))
write_text_atomic(snakemake.output.summary, summary.to_csv(index=False))
write_text_atomic(snakemake.output.aulc, areas.to_csv(index=False))
write_text_atomic(snakemake.output.datasets, pd.DataFrame(infos).to_csv(index=False))
log("done")
