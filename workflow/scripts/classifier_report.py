"""Snakemake adapter: the report's "Classifier" page (rule classifier_report)."""

import pandas as pd

from alvae.analysis.pages.classifier import classifier_rst
from alvae.io import write_text_atomic
from alvae.logs import job_logger
from alvae.training.tune import read_recipe

log = job_logger(snakemake.log[0])
p, inp = snakemake.params, snakemake.input
runs = pd.read_csv(inp.runs)
studies = [{"dataset": d, "scope": s, "recipe": read_recipe(r), "trials": pd.read_csv(t)}
           for (d, s), r, t in zip(p.studies, inp.recipes, inp.trials)]
fixed = None
if p.fixed_records:
    frames = []
    for (d, seed), path in zip(p.fixed_records, inp.fixed):
        row = pd.read_csv(path).iloc[0]
        frames.append({"dataset": d, "seed": int(seed), "test_acc": row["test_acc"],
                       "train_acc": row["train_acc"]})
    fixed = pd.DataFrame(frames)
write_text_atomic(snakemake.output[0],
                  classifier_rst(p.recipe, dict(p.task_model), runs, studies, fixed, p.scope))
log("done")
