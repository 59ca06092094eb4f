"""Snakemake adapter: the report's summary and settings pages (rule report_text)."""

import json

import pandas as pd

from alvae.io import write_text_atomic
from alvae.logs import job_logger
from alvae.report import settings_rst, software_versions, summary_rst

log = job_logger(snakemake.log[0])
p = snakemake.params
tests = pd.read_csv(snakemake.input.tests)
aulc_tests = pd.read_csv(snakemake.input.aulc_tests)
rankings = []
for path in snakemake.input.rankings:
    with open(path) as fh:
        rankings.append(json.load(fh))
text = summary_rst(tests, aulc_tests, alpha=p.alpha, rankings=rankings)
inp = snakemake.input.keys()
if "labels_saved" in inp:  # one sentence per strategy (alvae.labels_saved)
    from alvae.labels_saved import summary_rst as labels_saved_rst
    from alvae.plots import NAMES

    text += "\n" + labels_saved_rst(pd.read_csv(snakemake.input.labels_saved), NAMES)
if "ceiling" in inp:  # each strategy's final score as a share of the ceiling (alvae.ceiling)
    from alvae.ceiling import share_rst
    from alvae.labels_saved import primary_metrics
    from alvae.plots import NAMES

    text += "\n" + share_rst(pd.read_csv(snakemake.input.curves_summary),
                             pd.read_csv(snakemake.input.ceiling),
                             primary_metrics(pd.read_csv(snakemake.input.datasets_info)), NAMES)
write_text_atomic(snakemake.output.summary, text)
versions = software_versions()
log(f"versions: {versions}")
write_text_atomic(snakemake.output.settings, settings_rst(p.config, versions))
log("done")
