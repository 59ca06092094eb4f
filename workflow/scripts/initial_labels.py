"""Snakemake adapter: one AL seed's initial labeled set, chosen without labels in a
representation (rule initial_labels, al.initial_selection typiclust or centroids)."""

import numpy as np

from alvae.al.initial import select_initial
from alvae.data.loaders import load_subset
from alvae.io import atomic_path
from alvae.logs import job_logger

log = job_logger(snakemake.log[0])
p, wc = snakemake.params, snakemake.wildcards
n_pool = len(load_subset(snakemake.input.subset))
latents = np.load(snakemake.input.latents)
picks = select_initial(p.method, n_pool, p.n_initial, int(wc.seed), latents, p.typiclust, log)
with atomic_path(snakemake.output[0]) as tmp:
    with open(tmp, "wb") as fh:
        np.save(fh, picks)
log(f"{p.method}: {len(picks)} initial labels of {n_pool} pool points, in {snakemake.input.latents}")
