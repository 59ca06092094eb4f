"""Snakemake adapter: learning curves of one dataset x family (rule plot_curves)."""

import numpy as np
import pandas as pd

from alvae.analysis.plots import learning_curves
from alvae.analysis.results import trivial_baseline
from alvae.logs import job_logger
from alvae.training.ceiling import ceiling_means

log = job_logger(snakemake.log[0])
p, wc = snakemake.params, snakemake.wildcards
with np.load(snakemake.input.evaluation) as sub:
    task = str(sub["task"])
    labels = sub["test_labels"]
# The dataset's primary metric (stats.primary_metric, or by task: mean per-label ROC-AUC
# for multi-label tasks, where accuracy at 0.5 is dominated by negatives; accuracy
# otherwise) first, then the task's secondary panels.
info = pd.read_csv(snakemake.input.datasets).set_index("dataset")
primary = str(info.loc[wc.dataset, "primary_metric"])
metrics = {"multi-label": ["test_auc", "test_ap", "test_acc"],
           "binary": ["test_acc", "test_auc", "test_ap"]}.get(task, ["test_acc"])
metrics = [primary] + [m for m in metrics if m != primary]
summary = pd.read_csv(snakemake.input.summary)
metrics = [m for m in metrics if m in set(summary["metric"])]
name, baseline = trivial_baseline(task, labels)
log(f"{wc.dataset} ({task}), {wc.family}: {p.strategies}, metrics {metrics}, "
    f"{name} baseline {baseline}")
tests = pd.read_csv(snakemake.input.tests)
ceiling = (ceiling_means(pd.read_csv(snakemake.input.ceiling), wc.dataset)
           if "ceiling" in snakemake.input.keys() else None)  # the all-labels ceiling line
if ceiling is not None:
    log(f"ceiling: {ceiling}  (metric: (mean over seeds, seeds, labels))")
learning_curves(summary, wc.dataset, p.strategies, metrics, tests_df=tests, baseline=baseline,
                baseline_name=name, correction=p.correction, alpha=p.alpha, primary=primary,
                ceiling=ceiling, out_png=snakemake.output.png, out_pdf=snakemake.output.pdf)
log("done")
