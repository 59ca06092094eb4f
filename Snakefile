# alvae: active learning with task-agnostic VAE features (see README.md).
# The Snakefile only validates the config, includes one rule file per stage and
# names the final targets; all logic lives in the `alvae` package (src/alvae).

import os
import sys

from snakemake.utils import min_version, validate

min_version("9.0")

# The library of this checkout, here and in every script job. `pip install -e .` (make
# venv) already provides it; this stays for the jobs of `--sdm conda`, whose environment
# (envs/alvae.yaml) holds the dependencies but not alvae itself, and so that a second
# checkout (a branch, a worktree) runs its own src/ and not the installed one.
_SRC = os.path.join(workflow.basedir, "src")
sys.path.insert(0, _SRC)
os.environ.update(PYTHONPATH=os.pathsep.join(p for p in (_SRC, os.environ.get("PYTHONPATH")) if p))

# config.yaml is the thesis experiment. A --configfile (presets/demo.yaml, say)
# replaces it instead of being merged into it, so that a preset's datasets and
# strategies are the whole study, not additions to the thesis's.
# (A --configfile is parsed by Snakemake before this file runs; `python -m alvae.checks
# FILE` names the line of a YAML syntax error there. config.yaml is checked here.)
from alvae.checks import config_or_exit  # noqa: E402

if not workflow.overwrite_configfiles:
    config_or_exit(path="config.yaml")

    configfile: "config.yaml"

# Snakemake's own YAML reader keeps the last of two equal keys silently (a second `al:`
# block would replace the first): read each --configfile again, strictly.
for _path in workflow.overwrite_configfiles or ():
    config_or_exit(path=_path)


# The library's validator first: strict integers, one short line per bad key (Snakemake's
# own message quotes the whole schema), and the schema's defaults filled in. Then
# Snakemake's, as before, without filling defaults again: its filler descends into a
# section whose value is null (task_model.train_until: null) and fails there.
config_or_exit(config)
validate(config, "workflow/schemas/config.schema.yaml", set_default=False)


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/representation.smk"
include: "workflow/rules/tune.smk"
include: "workflow/rules/al.smk"
include: "workflow/rules/seeds.smk"
include: "workflow/rules/ceiling.smk"
include: "workflow/rules/labels_saved.smk"
include: "workflow/rules/tsne.smk"
include: "workflow/rules/results.smk"
include: "workflow/rules/diagnostics.smk"


rule all:
    input:
        # functions: with al.extra_seeds the seeds are known after a checkpoint (seeds.smk)
        lambda wc: PLAN.final_targets(all_seeds()),
        lambda wc: PLAN.diagnostics_targets(),
        lambda wc: PLAN.worth_targets(),
    default_target: True
