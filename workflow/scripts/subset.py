"""Snakemake adapter: load one dataset and draw its pool (rule subset)."""

from alvae.data import draw_subset, load_dataset, save_subset
from alvae.logs import job_logger

log = job_logger(snakemake.log[0])
spec = snakemake.params.spec
ds = load_dataset(snakemake.wildcards.dataset, spec)
log(f"loaded {ds.name}: task {ds.task}, {len(ds.train_images)} train, {len(ds.test_images)} test, "
    f"{'no' if ds.val_images is None else len(ds.val_images)} val, images {ds.train_images.shape[1:]}")
sub = draw_subset(ds, spec["subset_size"], spec["subset_seed"], spec.get("test_size"))
save_subset(sub, snakemake.output[0])
log(f"pool of {len(sub)} points (seed {spec['subset_seed']}) -> {snakemake.output[0]}")
