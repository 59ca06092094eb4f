"""Snakemake adapter: the seed plan of al.extra_seeds from the first stage's runs
(checkpoint plan_seeds)."""

import json

import numpy as np

from alvae.analysis.results import load_runs
from alvae.analysis.seedplan import plan_from_runs
from alvae.io import write_text_atomic
from alvae.logs import job_logger
from alvae.schema import with_defaults

log = job_logger(snakemake.log[0])
p = snakemake.params
runs = load_runs([tuple(r) for r in p.records])
tasks = {}
for dataset, path in zip(p.datasets, snakemake.input.evaluations):
    with np.load(path) as ev:
        tasks[dataset] = str(ev["task"])
rule = with_defaults("al", dict(p.rule), sub="extra_seeds")
plan = plan_from_runs(runs, tasks, p.pairs, list(p.first), rule, p.alpha, dict(p.margins),
                      p.metrics, p.primary)
for row in plan["pairs"]:
    log(f"{row['dataset']} {row['strategy_a']} vs {row['strategy_b']}: sd {row['sd']:.4g} over "
        f"{row['k']} seeds (used {row['sd_used']:.4g}), level {row['level']:.4g}: "
        f"{row['seeds_needed'] or 'more than the cap'} seeds")
log(plan["sentence"])
write_text_atomic(snakemake.output[0], json.dumps(plan, indent=1) + "\n")
