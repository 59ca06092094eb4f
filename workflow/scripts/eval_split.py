"""Snakemake adapter: the evaluation splits of one dataset (rule eval_split)."""

from alvae.data.checks import check_dataset, split_overlaps
from alvae.data.loaders import draw_subset, save_eval
from alvae.data.sourcefiles import DigestStore, fetch_options
from alvae.data.sources import load_dataset, record_download
from alvae.logs import console_line, job_logger

log = job_logger(snakemake.log[0])
name = snakemake.wildcards.dataset
spec = snakemake.params.spec
# download/check_md5/url decide how the files are obtained: from the config, not params
ds = load_dataset(name, {**spec, **fetch_options(snakemake.config["datasets"][name])})
record_download(snakemake.config["datasets"][name], snakemake.params.source, DigestStore(snakemake.params.digests))
for warning in check_dataset(ds):
    console_line(warning)  # an evaluation split that shares training images: say so on the console too
# the same draw as a pool's, so that test_size keeps picking the test points it always did
sub = draw_subset(ds, spec["subset_size"], spec["subset_seed"], spec.get("test_size"))
save_eval(sub, snakemake.output[0],
          shared_with_train=split_overlaps(ds.train_images, test=sub.test_images, val=sub.val_images))
log(f"{len(sub.test_images)} test, {'no' if sub.val_images is None else len(sub.val_images)} val "
    f"-> {snakemake.output[0]}")
