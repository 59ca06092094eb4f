"""Snakemake adapter: paired tests per budget and on AULC (rule stats)."""

import pandas as pd

from alvae.io import write_text_atomic
from alvae.logs import job_logger
from alvae.stats import paired_tests, paired_tests_aulc, to_markdown

log = job_logger(snakemake.log[0])
p = snakemake.params
pairs = [tuple(x) for x in p.pairs]
log(f"pairs: {pairs}; metrics: {p.metrics}; alpha: {p.alpha}")
runs = pd.read_csv(snakemake.input.runs)
tests = paired_tests(runs, pairs, p.metrics, alpha=p.alpha)
aulc_tests = paired_tests_aulc(pd.read_csv(snakemake.input.aulc), pairs, alpha=p.alpha)
for name, df in (("per budget", tests), ("AULC", aulc_tests)):
    log(f"{name}: {len(df)} tests, {int(df['significant'].sum()) if len(df) else 0} significant")
write_text_atomic(snakemake.output.tests, tests.to_csv(index=False))
write_text_atomic(snakemake.output.aulc_tests, aulc_tests.to_csv(index=False))
md = ("# Paired tests per label budget\n\n" + to_markdown(tests)
      + "\n# Paired tests on the area under the learning curve\n\n" + to_markdown(aulc_tests))
write_text_atomic(snakemake.output.md, md)
log("done")
