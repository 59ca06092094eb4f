"""The Snakemake workflow, run in a subprocess: planning, a real tiny run,
incremental reruns, lint."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO

pytestmark = pytest.mark.workflow


def smk(*args, timeout=900):
    cmd = [sys.executable, "-m", "snakemake", *args]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    return proc


def job_counts(output: str) -> dict:
    """Parse Snakemake's 'Job stats' table into {rule: count}."""
    if "Nothing to be done" in output:
        return {}
    table = output.split("Job stats:", 1)[1]
    counts = {}
    for line in table.splitlines()[3:]:
        m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not m:
            break
        counts[m.group(1)] = int(m.group(2))
    counts.pop("total", None)
    return counts


def test_thesis_dry_run_plans_every_stage():
    proc = smk("-n", "--cores", "4", "--resources", "gpu=4")
    assert proc.returncode == 0, proc.stderr[-3000:]
    counts = job_counts(proc.stdout + proc.stderr)
    # representation.per_seed: true: one VAE per dataset and AL seed (the t-SNE's seed 0 among them)
    assert counts["subset"] == 2 and counts["train_representation"] == 2 * 5
    assert counts["al_run"] == 2 * 8 * 5  # datasets x strategies x seeds
    assert counts["tsne_select"] == 1
    out = proc.stdout + proc.stderr
    for dataset in ("mnist", "chestmnist"):
        assert f"results/thesis/data/{dataset}/subset.npz" in out
        assert f"results/thesis/runs/{dataset}/lloss_vae/seed4/metrics.csv" in out
    assert counts["rankings"] == 4  # each dataset's primary metric; test_acc, test_auc, test_ap
    for rule in ("aggregate", "stats", "plot_curves", "plot_tsne", "report_text", "rankings"):
        assert counts.get(rule), f"rule {rule} not planned: {counts}"
    assert counts["plot_curves"] == 2 * 4  # datasets x families (entropy, coreset, medal, lloss)


def test_bad_config_stops_before_any_job(tmp_path):
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    cfg["al"]["initial_labels"] = 5000
    cfg["representation"]["epochz"] = 1
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    proc = smk("-n", "--cores", "1", "--configfile", str(bad))
    assert proc.returncode != 0
    err = proc.stdout + proc.stderr
    assert "epochz" in err and "representation" in err


@pytest.mark.parametrize("train_until", [None, {"train_acc": 0.9}])
def test_a_null_or_mapping_section_passes_both_validators(tmp_path, train_until):
    """task_model.train_until is null by default: Snakemake's validator, after the
    library's, must not try to fill defaults inside it (it failed on every study)."""
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    cfg["out_dir"] = str(tmp_path / "out")
    cfg["task_model"]["train_until"] = train_until
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk("-n", "--cores", "1", "--configfile", str(path))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-2000:]
    assert job_counts(proc.stdout + proc.stderr)["al_run"] == 3 * 2


def test_lint_is_clean():
    proc = smk("--lint")
    out = proc.stdout + proc.stderr
    assert "Lints for" not in out, out[-4000:]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A real run of every stage on digits (CPU); returns (config path, out dir)."""
    tmp = tmp_path_factory.mktemp("tiny")
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    cfg["out_dir"] = str(tmp / "out")
    cfg["gpu"] = {"lock_dir": str(tmp / "locks")}
    path = tmp / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk("--cores", "2", "--resources", "gpu=2", "--configfile", str(path))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return path, Path(cfg["out_dir"]), cfg


def test_tiny_run_produces_every_output(tiny_run):
    _, out, cfg = tiny_run
    import pandas as pd

    runs = pd.read_csv(out / "results" / "runs.csv")
    assert set(runs["strategy"]) == {"random", "coreset", "coreset_vae"}
    assert sorted(runs["n_labels"].unique()) == [40, 80, 120]
    assert len(runs) == 3 * 2 * 3
    assert (out / "representation" / "digits" / "vae" / "shared" / "latents.npy").stat().st_size > 0
    knn = pd.read_csv(out / "results" / "latent_knn.csv")
    assert list(knn["kind"]) == ["vae"] and list(knn["scope"]) == ["shared"]
    assert 0.2 < knn["knn_acc"][0] <= 1 and knn["knn_acc_pixels"][0] > 0.8  # chance: 0.1
    assert (out / "representation" / "digits" / "vae" / "shared" / "tsne.png").stat().st_size > 10_000
    assert (out / "figures" / "tsne_digits_pair.png").stat().st_size > 10_000
    assert (out / "results" / "tests.md").read_text().count("|") > 10
    log = (out / "logs" / "al_run" / "digits" / "coreset" / "seed0.log").read_text()
    assert "device: cpu" in log and "round 2 | labels 120" in log and "epoch 1/" in log
    assert not (out / "state" / "digits" / "coreset" / "seed0").exists()  # cleaned when done


def _holm(p):
    import numpy as np

    p = np.asarray(p, float)
    order = np.argsort(p)
    out = np.empty_like(p)
    out[order] = np.minimum(1, np.maximum.accumulate((len(p) - np.arange(len(p))) * p[order]))
    return out


def _recompute_verdicts(table, values, margin, alpha=0.05):
    """p (ttest_rel), p_equiv (statsmodels' ttost_paired within ±margin), Holm of both
    within each family, and the verdict, from the per-seed ``values(row) -> (a, b)``."""
    import numpy as np
    from scipy import stats as sps
    from statsmodels.stats.weightstats import ttost_paired

    t = table[table["t"].notna()].copy()
    for i, r in t.iterrows():
        a, b = values(r)
        assert r["p"] == pytest.approx(sps.ttest_rel(a, b).pvalue, rel=1e-9)
        d = margin[(r["dataset"], r["metric"])]
        assert r["margin"] == pytest.approx(d, rel=1e-12)
        t.loc[i, "p_equiv_re"] = ttost_paired(a.to_numpy(), b.to_numpy(), -d, d)[0]
    from alvae.analysis.power import minimal_detectable_effect

    for _, g in t.groupby("family"):
        t.loc[g.index, "p_adj_re"] = _holm(g["p"])
        t.loc[g.index, "p_equiv_adj_re"] = _holm(t.loc[g.index, "p_equiv_re"])
        # power at the family's level alpha / m (issue 27), from sd_diff and n_pairs
        assert g["power_alpha"].to_numpy() == pytest.approx([alpha / len(g)] * len(g))
        for i, r in g.iterrows():
            assert r["mde"] == pytest.approx(minimal_detectable_effect(
                r["sd_diff"], int(r["n_pairs"]), alpha / len(g)), rel=1e-6)
    t["verdict_re"] = np.where(t["p_adj_re"] < alpha, "differs",
                               np.where(t["p_equiv_adj_re"] < alpha, "equivalent", "inconclusive"))
    return t


def test_tests_recomputed_from_runs_as_the_caption_says(tiny_run):
    """tests.csv and tests_aulc.csv from runs.csv with scipy and statsmodels: ttest_rel and
    the paired TOST per budget after the first query, Holm within each family, verdicts."""
    import numpy as np
    import pandas as pd
    from scipy.integrate import trapezoid

    _, out, cfg = tiny_run
    runs = pd.read_csv(out / "results" / "runs.csv")
    tests = pd.read_csv(out / "results" / "tests.csv")
    assert set(tests["correction"]) == {"holm"}
    assert set(tests["metric"]) == {"test_acc", "test_auc"}  # multi-class default
    assert dict(zip(tests["metric"], tests["role"])) == {"test_acc": "primary",
                                                         "test_auc": "secondary"}
    # schema defaults: one accuracy point; AUC matched to it by the least-squares slope of
    # the strategy x budget means after the first query (issue 27)
    q = runs[runs["round"] > 0].groupby(["strategy", "n_labels"])[["test_acc", "test_auc"]].mean()
    slope = np.polyfit(q["test_acc"], q["test_auc"], 1)[0]
    margin = {("digits", "test_acc"): 0.01, ("digits", "test_auc"): 0.01 * slope}
    assert slope > 0  # else the margin_source would say the slope could not be used
    assert tests.loc[tests["metric"] == "test_acc", "margin_source"].str.startswith(
        "default 0.01").all()
    assert tests.loc[tests["metric"] == "test_auc", "margin_source"].str.startswith(
        "matched to test_acc").all()
    # the initial budget (round 0) comes before any query: shown, not tested
    first = tests[tests["n_labels"] == cfg["al"]["initial_labels"]]
    assert len(first) and (first["verdict"] == "before any query").all()
    assert first["p"].isna().all() and first["p_adj"].isna().all()
    assert set(tests.loc[tests["t"].notna(), "n_labels"]) == {80, 120}

    def per_budget(r):
        g = runs[(runs["dataset"] == r["dataset"]) & (runs["n_labels"] == r["n_labels"])]
        a = g[g["strategy"] == r["strategy_a"]].set_index("seed")[r["metric"]].sort_index()
        b = g[g["strategy"] == r["strategy_b"]].set_index("seed")[r["metric"]].sort_index()
        return a, b

    t = _recompute_verdicts(tests, per_budget, margin)
    assert t["p_adj"].to_numpy() == pytest.approx(t["p_adj_re"].to_numpy())
    assert t["p_equiv"].to_numpy() == pytest.approx(t["p_equiv_re"].to_numpy(), rel=1e-9)
    assert t["p_equiv_adj"].to_numpy() == pytest.approx(t["p_equiv_adj_re"].to_numpy())
    assert (t["verdict"] == t["verdict_re"]).all(), t[["verdict", "verdict_re"]]

    def area(r, s):
        out_ = {}
        for seed, g in runs[(runs["dataset"] == r["dataset"]) & (runs["strategy"] == s)].groupby("seed"):
            g = g.sort_values("n_labels")
            g = g[g["round"] >= 1]  # the area after the first query (issue 27)
            x, y = g["n_labels"].to_numpy(float), g[r["metric"]].to_numpy(float)
            out_[seed] = trapezoid(y, x) / (x[-1] - x[0])
        return pd.Series(out_).sort_index()

    aulc = pd.read_csv(out / "results" / "tests_aulc.csv")
    assert set(aulc["area"]) == {"80 to 120 labels, after the first query"}
    ta = _recompute_verdicts(aulc, lambda r: (area(r, r["strategy_a"]), area(r, r["strategy_b"])),
                             margin)
    assert (ta["verdict"] == ta["verdict_re"]).all() and len(ta) == len(aulc)
    assert (out / "figures" / "ppm_test_acc.png").stat().st_size > 5_000
    assert (out / "figures" / "cd_test_auc.pdf").stat().st_size > 1_000
    info = pd.read_csv(out / "results" / "datasets.csv").iloc[0]
    assert info["baseline"] == "majority-class" and 0 < info["baseline_acc"] < 0.2
    assert "test_ap" in runs.columns and runs["test_ap"].between(0, 1).all()
    summary = (out / "report" / "summary.rst").read_text()
    assert "Holm's step-down method within families" in summary and "Power:" in summary
    assert "**Primary metric** (digits: test_acc), per question:" in summary
    assert f"digits test_auc ±{0.01 * slope:.3g} (matched to test_acc" in summary
    assert "AULC (80 to 120 labels, after the first query)" in summary
    # 2 seeds: nothing can be shown equivalent within ±0.01, so never "a null result"
    assert "null result" not in summary and "inconclusive" in summary
    assert info["primary_metric"] == "test_acc" and info["auc_left_out"] == 0
    # 2 budgets after the first query: no pair of strategies can be separated
    import json
    rank = json.loads((out / "results" / "friedman_primary.json").read_text())
    assert rank["n_blocks"] == 2 and rank["min_p_wilcoxon"] == 0.5 and not rank["separable"]
    # two budgets of one dataset: not independent blocks, so descriptive, never significant
    assert rank["n_datasets"] == 1 and rank["independent_blocks"] is False
    ranking = next(ln for ln in summary.splitlines() if ln.startswith("Ranking on primary"))
    assert "descriptive only" in ranking and "significant" not in ranking
    assert rank["cliques"] == [] and "no pair of strategies can be separated" in summary
    assert (out / "figures" / "cd_primary.png").stat().st_size > 5_000


def test_stats_settings_take_effect_in_the_jobs(tiny_run, tmp_path):
    """stats.equivalence_margin and stats.primary_metric, set in the config, reach the
    tests, the datasets table, the rankings and the headline (on a copy of the tiny run,
    recomputing only the results stage)."""
    import json
    import shutil

    import pandas as pd
    from statsmodels.stats.weightstats import ttost_paired

    path, out, _ = tiny_run
    cfg = yaml.safe_load(path.read_text())
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    cfg["out_dir"] = str(copy)
    cfg["stats"] = {"equivalence_margin": {"test_acc": 0.5}, "primary_metric": "test_auc"}
    changed = tmp_path / "stats.yaml"
    changed.write_text(yaml.safe_dump(cfg))
    proc = smk("--cores", "2", "--configfile", str(changed), "--forcerun", "aggregate")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "al_run" not in job_counts(proc.stdout + proc.stderr)
    info = pd.read_csv(copy / "results" / "datasets.csv").iloc[0]
    assert info["primary_metric"] == "test_auc"
    tests = pd.read_csv(copy / "results" / "tests.csv")
    assert dict(zip(tests["metric"], tests["role"])) == {"test_auc": "primary",
                                                         "test_acc": "secondary"}
    runs = pd.read_csv(copy / "results" / "runs.csv")
    # accuracy's margin set to 0.5; AUC's unset, so matched to it through the curves (the
    # task's own metric is accuracy, whichever metric is primary)
    from alvae.analysis.stats import metric_slope

    slope, _ = metric_slope(runs, "test_auc", "test_acc")
    got = dict(zip(tests["metric"], tests["margin"]))
    assert got["test_acc"] == 0.5 and got["test_auc"] == pytest.approx(0.5 * slope, rel=1e-12)
    assert set(tests.loc[tests["metric"] == "test_acc", "margin_source"]) == {
        "stats.equivalence_margin.test_acc"}
    for r in tests[tests["t"].notna() & (tests["metric"] == "test_acc")].itertuples():
        g = runs[runs["n_labels"] == r.n_labels]
        a = g[g["strategy"] == r.strategy_a].sort_values("seed")["test_acc"].to_numpy()
        b = g[g["strategy"] == r.strategy_b].sort_values("seed")["test_acc"].to_numpy()
        assert r.p_equiv == pytest.approx(ttost_paired(a, b, -0.5, 0.5)[0], rel=1e-9)
    rank = json.loads((copy / "results" / "friedman_primary.json").read_text())
    assert rank["metrics"] == {"digits": "test_auc"}
    summary = (copy / "report" / "summary.rst").read_text()
    assert "**Primary metric** (digits: test_auc), per question:" in summary
    assert "Secondary metrics (test_acc;" in summary


def test_second_run_does_nothing(tiny_run):
    path, _, _ = tiny_run
    proc = smk("-n", "--cores", "2", "--configfile", str(path))
    assert proc.returncode == 0
    assert "Nothing to be done" in proc.stdout + proc.stderr


def dry_run_with(path, tmp_path, mutate, sort_keys=True) -> dict:
    """{rule: jobs} that a dry run plans after ``mutate`` changed the config at ``path``."""
    cfg = yaml.safe_load(Path(path).read_text())
    mutate(cfg)
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(cfg, sort_keys=sort_keys))
    proc = smk("-n", "--cores", "2", "--configfile", str(changed))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return job_counts(proc.stdout + proc.stderr)


def build_report(path, html) -> str:
    """The HTML report of the finished run of the config at ``path``."""
    proc = smk("--cores", "1", "--configfile", str(path), "--report", str(html))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return Path(html).read_text(errors="replace")


def _dry_run_with(tiny_run, tmp_path, mutate):
    return dry_run_with(tiny_run[0], tmp_path, mutate)


def test_vae_setting_reruns_only_vae_dependents(tiny_run, tmp_path):
    counts = _dry_run_with(tiny_run, tmp_path, lambda c: c["representation"].update(epochs=3))
    assert counts["train_representation"] == 1
    assert counts["al_run"] == 2  # coreset_vae x 2 seeds; random and coreset untouched
    assert counts["tsne_select"] == 1
    assert "subset" not in counts


def test_tsne_setting_reruns_only_tsne(tiny_run, tmp_path):
    counts = _dry_run_with(tiny_run, tmp_path, lambda c: c["tsne"].update(pick=10))
    assert counts.get("tsne_select") == 1 and "al_run" not in counts and "train_representation" not in counts


def test_unused_setting_reruns_nothing(tiny_run, tmp_path):
    # no lloss strategy in the tiny config: the loss-module settings touch no computation;
    # only the report's record of the settings is rewritten
    counts = _dry_run_with(tiny_run, tmp_path, lambda c: c.setdefault("lloss", {}).update(margin=2.0))
    assert counts == {"report_text": 1, "all": 1}


def test_tune_settings_rerun_nothing_with_a_fixed_recipe(tiny_run, tmp_path):
    # task_model.recipe: fixed (the default): no tuning job exists, so a tune key changes
    # only the report's record of the settings
    counts = _dry_run_with(tiny_run, tmp_path, lambda c: c.setdefault("tune", {}).update(
        trials=7, space={"stem": None}))
    assert counts == {"report_text": 1, "all": 1}


def _swap_task_model_keys(cfg):
    tm = cfg["task_model"]
    cfg["task_model"] = dict(reversed(list(tm.items())))


def _write_defaults_out(cfg):
    cfg["task_model"].update(lr=0.001, momentum=0.9)  # the schema's defaults, written out
    cfg["datasets"]["digits"].update(subset_seed=0, test_size=None)
    cfg["representation"] = dict(reversed(list(cfg["representation"].items())))


@pytest.mark.parametrize("mutate", [
    _swap_task_model_keys,
    _write_defaults_out,
    lambda c: c["datasets"]["digits"].update(download=True),
    lambda c: c["datasets"]["digits"].update(check_md5=False),
    lambda c: c["datasets"]["digits"].update(url="http://127.0.0.1:9/mirror"),
])
def test_same_values_rerun_nothing(tiny_run, tmp_path, mutate):
    """Params are canonical (sorted keys, defaults filled): only a changed value reruns."""
    assert _dry_run_with(tiny_run, tmp_path, mutate) == {}


def test_test_size_leaves_the_pool_and_the_vae_alone(tiny_run, tmp_path):
    counts = _dry_run_with(tiny_run, tmp_path, lambda c: c["datasets"]["digits"].update(test_size=100))
    assert counts["eval_split"] == 1 and counts["al_run"] == 6 and counts["tsne_select"] == 1
    assert "subset" not in counts and "train_representation" not in counts


def test_pool_per_seed_draws_one_pool_per_seed(tiny_run, tmp_path):
    def per_seed(c):
        c["datasets"]["digits"]["pool_per_seed"] = True
        c["strategies"] = ["random", "coreset_vae"]
        c["tsne"]["datasets"] = []
    counts = _dry_run_with(tiny_run, tmp_path, per_seed)
    # one pool per seed, and the VAE follows it: one per seed, on that seed's pool
    assert counts["subset_per_seed"] == 2 and counts["al_run"] == 4
    assert counts["train_representation"] == 2 and counts["representation_diagnostics"] == 2
    assert "subset" not in counts and "eval_split" not in counts


@pytest.mark.parametrize("mutate, expect", [
    (lambda c, t: c.update(strategyz=["random"]), "(top level): unknown key"),
    (lambda c, t: c["al"].update(labels_per_round=40.0), "al.labels_per_round: 40.0 is not of type 'integer'"),
    (lambda c, t: c.update(out_dir=""), "out_dir"),
    (lambda c, t: c.update(out_dir="/"), "out_dir: '/' is the filesystem root"),
    (lambda c, t: c.update(datasets={"../up": c["datasets"]["digits"]}, tsne={}), "datasets"),
    (lambda c, t: (t.joinpath("f").write_text("x"), c.update(out_dir=str(t / "f" / "out"))),
     "exists and is not a folder"),
])
def test_bad_config_is_a_short_message_before_any_job(tmp_path, mutate, expect):
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    mutate(cfg, tmp_path)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk("-n", "--cores", "1", "--configfile", str(path))
    assert proc.returncode != 0
    err = [line for line in (proc.stdout + proc.stderr).splitlines()
           if line.strip() and not line.startswith("Using workflow specific profile")]
    assert expect in "\n".join(err) and len(err) <= 3, err


def test_report_holds_every_figure(tiny_run):
    path, out, _ = tiny_run
    text = build_report(path, out / "report.html")
    assert len(text) > 100_000
    for name in ("curves_digits_coreset.png", "tsne_digits_pair.png", "reconstructions.png",
                 "tests.csv", "summary.rst", "settings.rst", "ppm_test_acc.png", "cd_test_acc.png",
                 "tests_aulc.csv", "latent_knn.csv", "cd_primary.png"):
        assert name in text, f"{name} missing from the report"


def test_bad_data_file_fails_with_a_clear_message(tmp_path):
    """A truncated .npz stops the subset job; its log names the file, no traceback."""
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"PK\x03\x04 truncated")
    cfg = {"out_dir": str(tmp_path / "out"), "strategies": ["random"],
           "datasets": {"mine": {"source": "npz", "path": str(bad), "subset_size": 50}},
           "al": {"initial_labels": 10, "labels_per_round": 10, "final_labels": 20, "seeds": [0]}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk(f"{tmp_path}/out/data/mine/subset.npz", "--cores", "1", "--configfile", str(path))
    assert proc.returncode != 0
    log = (tmp_path / "out" / "logs" / "subset" / "mine.log").read_text()
    assert f"ERROR: {bad}: not a readable .npz file (truncated or corrupt" in log
    assert "Traceback" not in log
    # a rerun (Snakemake deletes the job's log first) keeps the failed attempt's lines
    proc = smk(f"{tmp_path}/out/data/mine/subset.npz", "--cores", "1", "--configfile", str(path))
    assert proc.returncode != 0
    log = (tmp_path / "out" / "logs" / "subset" / "mine.log").read_text()
    assert log.count("===== attempt") == 2 and log.count(f"ERROR: {bad}") == 2
