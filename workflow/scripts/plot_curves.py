"""Snakemake adapter: learning curves of one dataset x family (rule plot_curves)."""

import numpy as np
import pandas as pd

from alvae.logs import job_logger
from alvae.plots import learning_curves
from alvae.results import trivial_baseline

log = job_logger(snakemake.log[0])
p, wc = snakemake.params, snakemake.wildcards
with np.load(snakemake.input.evaluation) as sub:
    task = str(sub["task"])
    labels = sub["test_labels"]
# The primary metric first: mean per-label ROC-AUC for multi-label tasks
# (accuracy at 0.5 is dominated by negatives there), accuracy otherwise.
metrics = {"multi-label": ["test_auc", "test_ap", "test_acc"],
           "binary": ["test_acc", "test_auc", "test_ap"]}.get(task, ["test_acc"])
summary = pd.read_csv(snakemake.input.summary)
metrics = [m for m in metrics if m in set(summary["metric"])]
name, baseline = trivial_baseline(task, labels)
log(f"{wc.dataset} ({task}), {wc.family}: {p.strategies}, metrics {metrics}, "
    f"{name} baseline {baseline}")
tests = pd.read_csv(snakemake.input.tests)
kwargs = dict(tests_df=tests, baseline=baseline, baseline_name=name, correction=p.correction,
              alpha=p.alpha)
if "ceiling" in snakemake.input.keys():  # the all-labels ceiling, a line on every panel
    from alvae.ceiling import add_ceiling_lines, ceiling_means
    from alvae.plots import _save, curves_figure

    means = ceiling_means(pd.read_csv(snakemake.input.ceiling), wc.dataset)
    log(f"ceiling: {means}")
    fig = curves_figure(summary, wc.dataset, p.strategies, metrics, **kwargs)
    add_ceiling_lines(fig, metrics, means)
    _save(fig, snakemake.output.png, snakemake.output.pdf)
else:
    learning_curves(summary, wc.dataset, p.strategies, metrics, **kwargs,
                    out_png=snakemake.output.png, out_pdf=snakemake.output.pdf)
log("done")
