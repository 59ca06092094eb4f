"""Snakemake adapter: t-SNE figures of the strategies' picks (rule plot_tsne)."""

import numpy as np

from alvae.analysis.plots import NAMES, selection_points, tsne_embed, tsne_figure, tsne_pair
from alvae.logs import job_logger

log = job_logger(snakemake.log[0])
p, wc, out = snakemake.params, snakemake.wildcards, snakemake.output
with np.load(snakemake.input.selection) as f:
    selection = {k: f[k] for k in f.files}
panels = {}
for strategy, png, pdf in zip(p.strategies, out.png, out.pdf):
    lab, cand, picked = selection_points(selection, strategy)
    log(f"{strategy}: t-SNE of {len(lab)} labeled + {len(cand)} candidates, dim {lab.shape[1]}")
    emb = tsne_embed(lab, cand, p.seed, threads=snakemake.threads)
    title = f"{wc.dataset}: {NAMES.get(strategy, strategy)} picks {len(picked)}"
    tsne_figure(lab, cand, picked, title, p.seed, png, pdf, embedding=emb)
    panels[strategy] = dict(labeled=lab, candidates=cand, picked=picked, title=title, embedding=emb)
tsne_pair([panels[s] for s in p.pair], p.seed, out.pair_png, out.pair_pdf,
          title=f"{wc.dataset}: t-SNE of the space each strategy measured distances in")
log("done")
