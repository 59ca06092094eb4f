# The adapter between the rule files and the study's plan. The plan itself (which jobs
# exist, the stage switches, file paths, each rule's inputs and params) is plain Python in
# alvae.plan, tested without Snakemake (tests/test_plan.py); this file builds it once from
# the validated config and adds what only Snakemake knows: the wildcard constraints, the
# seed list of the al.extra_seeds checkpoint, and stopping the planning with one line.

import json
import re
import sys

from alvae import vocabulary
from alvae.errors import UserError
from alvae.plan import TEST_METRICS, Plan, canonical

PLAN = Plan(config)
OUT = PLAN.out  # out_dir, in every output pattern of the rule files


def planned_or_exit(step):
    """Run a step of the planning; bad input (a data file, a folder that cannot be
    written) stops the workflow here, before any job, with its one line."""
    try:
        return step()
    except UserError as exc:
        print(f"ERROR: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None


# The identity of each dataset's files' content enters the data jobs' params (replacing a
# file reruns the pool and all after it, a touch reruns nothing). Reading it writes a digest
# store under out_dir: an out_dir that cannot be written, a missing file (with download off)
# or a failed MD5 check stops here, naming the key.
SOURCES = planned_or_exit(PLAN.read_sources)


def all_seeds():
    """Every AL seed of the study: al.seeds, or with al.extra_seeds the seeds its plan
    gives (known once the first stage has run: the checkpoint rule plan_seeds, seeds.smk)."""
    if not PLAN.extra_seeds:
        return PLAN.seeds
    with open(checkpoints.plan_seeds.get().output[0]) as fh:
        return list(json.load(fh)["seeds"])


wildcard_constraints:
    dataset="|".join(PLAN.datasets),
    strategy="|".join(re.escape(s) for s in PLAN.strategies),  # labels may carry @0.5 (α scale) and +per_round (schedule)
    seed=r"\d+",
    kind="|".join(vocabulary.KINDS),
    scope=r"shared|seed\d+",
