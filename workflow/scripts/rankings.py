"""Snakemake adapter: pairwise penalty matrix and CD diagram of one metric (rule rankings)."""

import json

import pandas as pd

from alvae.io import write_text_atomic
from alvae.logs import job_logger
from alvae.plots import cd_figure, ppm_figure
from alvae.ranking import cliques, pairwise_penalty, ppm, rank_table

log = job_logger(snakemake.log[0])
p, wc, out = snakemake.params, snakemake.wildcards, snakemake.output
runs = pd.read_csv(snakemake.input.runs)
wins, cells = pairwise_penalty(runs, wc.metric, p.alpha, p.strategies)
matrix = ppm(wins, cells)
n_cells = int(runs[["dataset", "n_labels"]].drop_duplicates().shape[0]) if len(runs) else 0
log(f"{wc.metric}: wins\n{wins}\ncells\n{cells}")
ppm_figure(matrix, wc.metric, n_cells, p.alpha, out.ppm_png, out.ppm_pdf)
write_text_atomic(out.ppm_csv, matrix.rename_axis("strategy_a").to_csv())
pairs, info = rank_table(runs, wc.metric, p.alpha, p.strategies)
order = list(info["mean_ranks"])
groups = cliques(order, pairs)
log(f"Friedman {info}; cliques {groups}")
cd_figure(info["mean_ranks"], groups, wc.metric, info, p.alpha, out.cd_png, out.cd_pdf)
write_text_atomic(out.ranks_csv, pairs.to_csv(index=False))
write_text_atomic(out.friedman, json.dumps({**info, "cliques": groups}, indent=1, default=float))
log("done")
