"""al.extra_seeds: seeds until the primary question can be decided (alvae.analysis.seedplan)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from alvae.analysis.power import paired_power
from alvae.analysis.seedplan import plan, plan_from_runs, rule_text, sd_bound, seeds_to_decide, tost_power
from alvae.checks import ConfigError, load_config
from conftest import REPO

RULE = {"max_seeds": 60, "min_seeds": None, "power": 0.8, "effect": None, "sd_confidence": 0.8,
        "question": "auto"}


def test_tost_power_bounds_a_simulation():
    from statsmodels.stats.weightstats import ttost_paired

    rng = np.random.default_rng(0)
    sd, n, margin, alpha = 1.0, 15, 0.8, 0.05
    hits = 0
    for _ in range(2000):
        d = rng.normal(0.0, sd, n)
        hits += ttost_paired(d, np.zeros(n), -margin, margin)[0] < alpha
    sim = hits / 2000
    bound = tost_power(sd, n, margin, alpha)
    assert bound <= sim + 0.02 and sim - bound < 0.06, (bound, sim)


def test_seeds_to_decide_is_the_first_n_where_both_tests_have_the_power():
    sd, effect, level = 0.012, 0.01, 0.05 / 3
    n = seeds_to_decide(sd, effect, level, 0.8, cap=200)
    for m, ok in ((n, True), (n - 1, False)):
        both = (paired_power(effect, sd, m, level) >= 0.8 and tost_power(sd, m, effect, level) >= 0.8)
        assert both is ok
    assert seeds_to_decide(sd, effect, level, 0.8, cap=n - 1) is None  # beyond the cap
    assert seeds_to_decide(2 * sd, effect, level, 0.8, cap=400) > n  # more spread, more seeds
    k = 5
    assert sd_bound(0.01, k, 0.8) == pytest.approx(0.01 * math.sqrt(4 / stats.chi2.ppf(0.2, 4)))
    assert sd_bound(0.01, k, None) == 0.01


def test_plan_reads_only_the_spread_of_the_differences():
    rng = np.random.default_rng(1)
    d = {("fashion", "coreset", "coreset_vae"): rng.normal(0.004, 0.01, 6),
         ("fashion", "medal", "medal_vae"): rng.normal(-0.002, 0.02, 6)}
    sizes = {k: 2 for k in d}
    first = [0, 1, 2, 3, 4, 5]
    a = plan(d, first, RULE, 0.05, 0.01, sizes)
    # shift, flip the sign, reorder the seeds: the plan does not change
    d2 = {k: -(v[::-1] + 0.05) for k, v in d.items()}
    b = plan(d2, first, RULE, 0.05, 0.01, sizes)
    assert a["seeds"] == b["seeds"] and a["pairs"] == [
        {**r, "sd": pytest.approx(r["sd"]), "sd_used": pytest.approx(r["sd_used"])} for r in b["pairs"]]
    # the seeds: the first ones, then the next integers, as many as the worst pair needs
    need = max(r["seeds_needed"] for r in a["pairs"])
    assert a["n_seeds"] == need == len(a["seeds"]) and a["seeds"][:6] == first
    assert a["seeds"][6:] == list(range(6, need))
    assert a["pairs"][1]["level"] == 0.025  # alpha / m
    capped = plan(d, first, {**RULE, "max_seeds": 8}, 0.05, 0.01, sizes)
    assert capped["capped"] and capped["seeds"] == list(range(8)) and "cap binds" in capped["sentence"]
    floor = plan({k: v / 100 for k, v in d.items()}, first, {**RULE, "min_seeds": 20}, 0.05, 0.01,
                 sizes)
    assert floor["n_seeds"] == 20  # min_seeds raises a small plan
    assert "no mean difference, sign or p-value" in rule_text(RULE, 6)


def test_config_refuses_with_one_line(tmp_path):
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    cfg.update(out_dir=str(tmp_path / "out"), tsne={"datasets": []})
    for al, line in [({"seeds": [0, 1], "extra_seeds": {}}, "al.seeds: al.extra_seeds plans"),
                     ({"seeds": [0, 1, 2], "extra_seeds": {"max_seeds": 3, "min_seeds": 5}},
                      "al.extra_seeds.min_seeds (5) exceeds max_seeds (3)")]:
        c = {**cfg, "al": {**cfg["al"], **al}}
        path = tmp_path / "c.yaml"
        path.write_text(yaml.safe_dump(c))
        with pytest.raises(ConfigError) as err:
            load_config(path)
        lines = str(err.value).splitlines()
        assert len(lines) == 2 and line in lines[1], lines


@pytest.mark.workflow
def test_the_workflow_plans_and_runs_the_extra_seeds(tmp_path):
    """Stage 1 (3 seeds), the checkpoint's plan (capped at 5 by a tiny effect), stage 2,
    the aggregation over all 5, the rule and its outcome in the report."""
    from test_workflow import job_counts, smk

    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    cfg.update(out_dir=str(tmp_path / "out"), gpu={"lock_dir": str(tmp_path / "locks")},
               tsne={"datasets": []}, strategies=["random", "coreset", "coreset_vae"],
               al={"initial_labels": 20, "labels_per_round": 20, "final_labels": 60,
                   "seeds": [0, 1, 2], "extra_seeds": {"max_seeds": 5, "effect": 0.0005}},
               task_model={"arch": "linear", "features": "vae", "optimizer": "adam", "lr": 0.01,
                           "batch_size": 16, "epochs_initial": 10, "epochs_per_round": 0})
    cfg["datasets"]["digits"]["subset_size"] = 300
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk("-n", "--cores", "2", "--configfile", str(path))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    counts = job_counts(proc.stdout + proc.stderr)
    assert counts["al_run"] == 3 * 3 and counts["plan_seeds"] == 1  # stage 1, then the plan
    proc = smk("--cores", "2", "--resources", "gpu=2", "--configfile", str(path))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    out = Path(cfg["out_dir"])
    seed_plan = json.loads((out / "results/seed_plan.json").read_text())
    assert seed_plan["question"] == "thesis" and seed_plan["seeds"] == [0, 1, 2, 3, 4]
    assert seed_plan["capped"] and len(seed_plan["pairs"]) == 1
    runs = pd.read_csv(out / "results/runs.csv")
    assert sorted(runs["seed"].unique()) == [0, 1, 2, 3, 4]
    ceiling = pd.read_csv(out / "results/ceiling.csv")
    assert sorted(ceiling["seed"]) == [0, 1, 2, 3, 4]
    # the plan is what the rule gives on the first stage's runs (recomputed here)
    first = runs[runs["seed"].isin([0, 1, 2])]
    again = plan_from_runs(first, {"digits": "multi-class"}, [["coreset", "coreset_vae"]],
                           [0, 1, 2], {**RULE, "max_seeds": 5, "effect": 0.0005}, 0.05,
                           {"test_acc": 0.01})
    assert again["seeds"] == seed_plan["seeds"]
    assert again["pairs"][0]["sd"] == pytest.approx(seed_plan["pairs"][0]["sd"])
    tests = pd.read_csv(out / "results/tests_aulc.csv")
    assert set(tests["n_pairs"]) == {5}
    summary = (out / "report/summary.rst").read_text()
    assert "the rule fixed in the config before any seed" in summary
    assert "From the first 3 seeds the question needs more than the cap of 5 seeds; 5 were run " \
           "(2 added: 3, 4)." in summary
    proc = smk("-n", "--cores", "2", "--configfile", str(path))
    assert proc.returncode == 0 and job_counts(proc.stdout + proc.stderr) == {}
