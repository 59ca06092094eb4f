"""Snakemake adapter: paired tests per budget and on AULC (rule stats)."""

import pandas as pd

from alvae.analysis.stats import (
    anchor_metric,
    equivalence_margins,
    metrics_for,
    paired_tests,
    paired_tests_aulc,
    to_markdown,
)
from alvae.io import write_text_atomic
from alvae.logs import job_logger

log = job_logger(snakemake.log[0])
p = snakemake.params
pairs = [tuple(x) for x in p.pairs]
info = pd.read_csv(snakemake.input.datasets)
# stats.metrics, or the task's default (multi-label: AUC and AP; else accuracy and AUC),
# each dataset's primary metric (datasets.csv: stats.primary_metric or by task) first
metrics = {r.dataset: metrics_for(r.task, p.metrics, r.primary_metric) for r in info.itertuples()}
primary = {r.dataset: r.primary_metric for r in info.itertuples()}
log(f"pairs: {pairs}; metrics (primary first): {metrics}; alpha: {p.alpha}; "
    f"correction: {p.correction}; stats.equivalence_margin: {p.margin}")
runs = pd.read_csv(snakemake.input.runs)
# δ per dataset and metric: set in the config, or one point of the task's own metric and
# the others matched to it through the study's learning curves
margins = equivalence_margins(runs, {r.dataset: anchor_metric(r.task) for r in info.itertuples()},
                              p.margin)
for r in margins.itertuples():
    log(f"margin {r.dataset} {r.metric}: ±{r.margin:.4g} ({r.margin_source})")
tests = paired_tests(runs, pairs, metrics, alpha=p.alpha, correction=p.correction,
                     margin=margins, primary=primary)
aulc_tests = paired_tests_aulc(pd.read_csv(snakemake.input.aulc), pairs, alpha=p.alpha,
                               correction=p.correction, metric=metrics, margin=margins,
                               primary=primary)
for name, df in (("per budget", tests), ("AULC", aulc_tests)):
    counts = df["verdict"].value_counts().to_dict() if len(df) else {}
    log(f"{name}: {len(df)} rows, {int(df['t'].notna().sum()) if len(df) else 0} tested; "
        f"verdicts {counts}")
write_text_atomic(snakemake.output.tests, tests.to_csv(index=False))
write_text_atomic(snakemake.output.aulc_tests, aulc_tests.to_csv(index=False))
md = ("# Paired tests per label budget\n\n" + to_markdown(tests)
      + "\n# Paired tests on the area under the learning curve\n\n" + to_markdown(aulc_tests))
write_text_atomic(snakemake.output.md, md)
log("done")
