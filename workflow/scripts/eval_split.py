"""Snakemake adapter: the evaluation splits of one dataset (rule eval_split)."""

from alvae.data import draw_subset, load_dataset, save_eval
from alvae.datachecks import check_dataset
from alvae.logs import job_logger

log = job_logger(snakemake.log[0])
spec = snakemake.params.spec
ds = load_dataset(snakemake.wildcards.dataset, spec)
for warning in check_dataset(ds):
    log(warning)
# the same draw as a pool's, so that test_size keeps picking the test points it always did
sub = draw_subset(ds, spec["subset_size"], spec["subset_seed"], spec.get("test_size"))
save_eval(sub, snakemake.output[0])
log(f"{len(sub.test_images)} test, {'no' if sub.val_images is None else len(sub.val_images)} val "
    f"-> {snakemake.output[0]}")
