"""Snakemake adapter: learning curves of one dataset x family (rule plot_curves)."""

import numpy as np
import pandas as pd

from alvae.logs import job_logger
from alvae.plots import learning_curves
from alvae.results import all_negative_accuracy

log = job_logger(snakemake.log[0])
p, wc = snakemake.params, snakemake.wildcards
with np.load(snakemake.input.evaluation) as sub:
    task = str(sub["task"])
    labels = sub["test_labels"]
# Imbalanced 0/1 tasks: also show ROC-AUC, and the accuracy of answering "negative".
two_panels = task in ("multi-label", "binary")
metrics = ["test_acc", "test_auc"] if two_panels else ["test_acc"]
baseline = all_negative_accuracy(labels) if two_panels else None
log(f"{wc.dataset} ({task}), {wc.family}: {p.strategies}, metrics {metrics}, baseline {baseline}")
tests = pd.read_csv(snakemake.input.tests)
learning_curves(pd.read_csv(snakemake.input.summary), wc.dataset, p.strategies, metrics,
                tests_df=tests, baseline=baseline, alpha=p.alpha,
                out_png=snakemake.output.png, out_pdf=snakemake.output.pdf)
log("done")
