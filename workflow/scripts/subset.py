"""Snakemake adapter: load one dataset, check it and draw its pool (rules subset, subset_per_seed)."""

from alvae.data.checks import check_dataset
from alvae.data.loaders import draw_subset, pool_seed, save_pool
from alvae.data.sourcefiles import DigestStore, fetch_options
from alvae.data.sources import load_dataset, record_download
from alvae.logs import job_logger

log = job_logger(snakemake.log[0])
name = snakemake.wildcards.dataset
spec, run_seed = snakemake.params.spec, snakemake.params.seed
# download/check_md5/url decide how the files are obtained: from the config, not params
ds = load_dataset(name, {**spec, **fetch_options(snakemake.config["datasets"][name])})
record_download(snakemake.config["datasets"][name], snakemake.params.source, DigestStore(snakemake.params.digests))
log(f"loaded {ds.name}: task {ds.task}, {len(ds.train_images)} train, {len(ds.test_images)} test, "
    f"{'no' if ds.val_images is None else len(ds.val_images)} val, images {ds.train_images.shape[1:]}")
for warning in check_dataset(ds):
    log(warning)
seed = pool_seed(spec["subset_seed"], run_seed)
sub = draw_subset(ds, spec["subset_size"], seed)
save_pool(sub, snakemake.output[0])
log(f"pool of {len(sub)} points (seed {seed}) -> {snakemake.output[0]}")
