"""Snakemake adapter: the report's summary and settings pages (rule report_text)."""

import json

import pandas as pd

from alvae.analysis.pages.design import design_rst
from alvae.analysis.pages.settings import settings_rst
from alvae.analysis.pages.summary import summary_rst
from alvae.analysis.report import software_versions
from alvae.io import write_text_atomic
from alvae.logs import job_logger

log = job_logger(snakemake.log[0])
p = snakemake.params
tests = pd.read_csv(snakemake.input.tests)
aulc_tests = pd.read_csv(snakemake.input.aulc_tests)
rankings = []
for path in snakemake.input.rankings:
    with open(path) as fh:
        rankings.append(json.load(fh))
datasets = pd.read_csv(snakemake.input.datasets)
inp = snakemake.input.keys()
extra = {"labels_saved": pd.read_csv(snakemake.input.labels_saved) if "labels_saved" in inp else None,
         "ceiling": pd.read_csv(snakemake.input.ceiling) if "ceiling" in inp else None,
         "curves_summary": pd.read_csv(snakemake.input.curves_summary) if "ceiling" in inp else None}
plan = None
if "seed_plan" in inp:  # al.extra_seeds: the rule, fixed before any seed, and what it gave
    with open(snakemake.input.seed_plan) as fh:
        plan = json.load(fh)
write_text_atomic(snakemake.output.summary,
                  design_rst(p.config, plan)
                  + summary_rst(tests, aulc_tests, alpha=p.alpha, rankings=rankings,
                                datasets=datasets, **extra))
versions = software_versions()
log(f"versions: {versions}")
write_text_atomic(snakemake.output.settings, settings_rst(p.config, versions))
log("done")
