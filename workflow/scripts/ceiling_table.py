"""Snakemake adapter: the ceiling runs in one table (rule ceiling_table)."""

from alvae.io import atomic_path
from alvae.logs import job_logger
from alvae.training.ceiling import ceiling_table

log = job_logger(snakemake.log[0])
records = [(d, s, path) for (d, s), path in zip(snakemake.params.records, snakemake.input)]
table = ceiling_table(records)
with atomic_path(snakemake.output[0]) as tmp:
    table.to_csv(tmp, index=False)
for r in table.itertuples():
    log(f"{r.dataset} seed {r.seed}: {r.n_labels} labels, test_acc {r.test_acc:.4f}, "
        f"test_auc {r.test_auc:.4f}")
