"""Snakemake adapter: pairwise penalty matrix and CD diagram of one metric (rule rankings).
The wildcard ``primary`` ranks each dataset on its own primary metric (datasets.csv)."""

import json

import pandas as pd

from alvae.analysis.plots import cd_figure, ppm_figure
from alvae.analysis.ranking import (
    PRIMARY_COLUMN,
    after_first_query,
    cliques,
    pairwise_penalty,
    ppm,
    rank_table,
    with_primary,
)
from alvae.io import write_text_atomic
from alvae.logs import job_logger

log = job_logger(snakemake.log[0])
p, wc, out = snakemake.params, snakemake.wildcards, snakemake.output
runs = pd.read_csv(snakemake.input.runs)
primary = dict(pd.read_csv(snakemake.input.datasets)[["dataset", "primary_metric"]].values)
metric = wc.metric
if metric == PRIMARY_COLUMN:
    runs = with_primary(runs, primary)
    role, label = "primary", "primary metric (" + ", ".join(f"{d}: {m}" for d, m in primary.items()) + ")"
else:
    role = "primary" if set(primary.values()) == {metric} else "secondary"
    label = metric
log(f"ranking {label} ({role}); round 0 (before any query) left out of cells and blocks")
wins, cells = pairwise_penalty(runs, metric, p.alpha, p.strategies)
matrix = ppm(wins, cells)
queried = after_first_query(runs)
n_cells = int(queried[["dataset", "n_labels"]].drop_duplicates().shape[0]) if len(queried) else 0
log(f"{metric}: wins\n{wins}\ncells\n{cells}")
ppm_figure(matrix, metric, n_cells, p.alpha, out.ppm_png, out.ppm_pdf, label=label)
write_text_atomic(out.ppm_csv, matrix.rename_axis("strategy_a").to_csv())
pairs, info = rank_table(runs, metric, p.alpha, p.strategies)
info.update(role=role, label=label, metrics=primary if metric == PRIMARY_COLUMN else
            {d: metric for d in primary})
order = list(info["mean_ranks"])
groups = cliques(order, pairs) if info["separable"] else []
log(f"Friedman {info}; cliques {groups}")
cd_figure(info["mean_ranks"], groups, metric, info, p.alpha, out.cd_png, out.cd_pdf)
write_text_atomic(out.ranks_csv, pairs.to_csv(index=False))
write_text_atomic(out.friedman, json.dumps({**info, "cliques": groups}, indent=1, default=float))
log("done")
