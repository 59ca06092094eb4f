"""Labels saved and the all-labels ceiling through Snakemake (a tiny run on digits),
and the representations preset's plan."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import REPO
from test_workflow import dry_run_with, job_counts, smk

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def worth_run(tmp_path_factory):
    """tiny.yaml with random and core-set only (no representation, no t-SNE), run to the end."""
    tmp = tmp_path_factory.mktemp("worth")
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    cfg.update(out_dir=str(tmp / "out"), strategies=["random", "coreset"],
               tsne={"datasets": []}, gpu={"lock_dir": str(tmp / "locks")})
    path = tmp / "worth.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk("--cores", "2", "--resources", "gpu=2", "--configfile", str(path))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return path, Path(cfg["out_dir"])


def _dry(path: Path, tmp_path: Path, mutate) -> dict:
    return dry_run_with(path, tmp_path, mutate)


def test_ceiling_trains_on_the_whole_pool_and_reaches_the_report(worth_run):
    _, out = worth_run
    table = pd.read_csv(out / "results" / "ceiling.csv")
    assert list(table["seed"]) == [0, 1] and set(table["dataset"]) == {"digits"}
    # the whole pool of 600 with every label; the last AL round's length: 2 + 2 x 1 epochs
    assert set(table["n_labels"]) == {600} and set(table["round_equivalent"]) == {2}
    assert set(table["epochs"]) == {4}
    runs = pd.read_csv(out / "results" / "runs.csv")
    assert (table["test_acc"].mean() > runs.loc[runs["n_labels"] == 120, "test_acc"].mean())
    log = (out / "logs" / "ceiling" / "digits" / "seed0.log").read_text()
    assert "all 600 pool labels; the recipe of AL round 2 (4 epochs" in log
    assert "device: cpu" in log and "labels 600 epoch 4/4" in log
    curves_log = (out / "logs" / "plot_curves" / "digits_coreset.log").read_text()
    assert "ceiling: {'test_acc': (" in curves_log
    summary = (out / "report" / "summary.rst").read_text()
    mean = table["test_acc"].mean()
    assert f"task model reaches {mean:.4f} (mean of 2 seeds)" in summary
    final = pd.read_csv(out / "results" / "summary.csv")
    f = final[(final["strategy"] == "coreset") & (final["metric"] == "test_acc")
              & (final["n_labels"] == 120)]["mean"].iloc[0]
    assert f"core-set: {f:.4f} at 120 labels, {f / mean:.1%} of the ceiling." in summary


def test_labels_saved_table_figure_and_sentence(worth_run):
    _, out = worth_run
    t = pd.read_csv(out / "results" / "labels_saved.csv")
    assert list(t["strategy"]) == ["coreset", "coreset"] and list(t["n_labels"]) == [80, 120]
    assert set(t["metric"]) == {"test_acc"} and set(t["level"]) == {0.95}
    assert set(t["n_seeds"]) == {2} and set(t["final_budget"]) == {120}
    # the table names its interval (issue 27)
    from alvae.analysis.labels_saved import METHOD, labels_saved

    assert set(t["interval_method"]) == {METHOD.format(level=0.95)}
    # recomputed from runs.csv and tests.csv with the library: the same table
    runs = pd.read_csv(out / "results" / "runs.csv")
    tests = pd.read_csv(out / "results" / "tests.csv")
    again = labels_saved(runs, {"digits": "test_acc"}, tests=tests)
    import io

    again = pd.read_csv(io.StringIO(again.to_csv(index=False)))  # as the file reads back
    pd.testing.assert_frame_equal(t, again, check_dtype=False)
    # each row carries the verdict of its budget's test against random, adjusted
    for r in t.itertuples():
        row = tests[(tests["strategy_a"] == "coreset") & (tests["strategy_b"] == "random")
                    & (tests["metric"] == "test_acc") & (tests["n_labels"] == r.n_labels)]
        assert len(row) == 1 and r.test_verdict == row["verdict"].iloc[0]
        assert (r.claim in ("saves", "costs")) == (r.test_verdict == "differs")
    assert (out / "figures" / "labels_saved.png").stat().st_size > 5_000
    summary = (out / "report" / "summary.rst").read_text()
    assert "Labels saved\n------------" in summary and "**digits, core-set** (test_acc" in summary
    # no "saves"/"costs" for a budget whose adjusted test does not differ
    line = next(ln for ln in summary.splitlines() if ln.startswith("- **digits, core-set**"))
    for r in t.itertuples():
        if r.test_verdict != "differs":
            assert f"at {r.n_labels:,} labels" not in line or "**saves**" not in line
            assert f"at {r.n_labels} saves" not in line and f"at {r.n_labels} costs" not in line
    if (t["test_verdict"] != "differs").all():
        assert "**saves**" not in line and "**costs**" not in line


def test_train_accuracy_check_reaches_the_classifier_page(worth_run):
    """The check reads the recipe's threshold (here the default) and the runs' train
    accuracy per strategy, beside random's (issue 27)."""
    from alvae.analysis.report import underfit_shares

    _, out = worth_run
    page = (out / "report" / "classifier.rst").read_text()
    runs = pd.read_csv(out / "results" / "runs.csv")
    assert "against 0.95 (the default 0.95: the recipe sets no train-accuracy target)" in page
    shares = underfit_shares(runs, "digits", 0.95)
    assert set(shares["strategy"]) == {"random", "coreset"} and set(shares["rounds"]) == {6}
    for r in shares.itertuples():
        assert f'"{r.strategy}", "6", "{r.below}", "{r.share:.0%}"' in page
    base = shares.set_index("strategy").loc["random", "share"]
    worse = shares.set_index("strategy").loc["coreset", "share"] > base
    assert ("**Larger share of rounds below 0.95 than random" in page) == worse


def test_ceiling_can_be_turned_off_and_follows_the_recipe(worth_run, tmp_path):
    path, _ = worth_run
    off = _dry(path, tmp_path, lambda c: c.update(ceiling={"enabled": False}))
    # no ceiling job; only the figures and the summary lose their line and sentence
    assert off == {"plot_curves": 1, "report_text": 1, "all": 1}
    recipe = _dry(path, tmp_path, lambda c: c["task_model"].update(epochs_per_round=2))
    assert recipe["ceiling"] == 2 and recipe["al_run"] == 4
    seeds = _dry(path, tmp_path, lambda c: c["al"].update(seeds=[0, 1, 2]))
    assert seeds["ceiling"] == 1 and seeds["al_run"] == 2  # only the added seed
    assert _dry(path, tmp_path, lambda c: c["al"].update(candidate_pool=500)).get("ceiling") is None


def test_a_study_without_random_has_no_labels_saved(worth_run, tmp_path):
    path, _ = worth_run
    counts = _dry(path, tmp_path, lambda c: c.update(strategies=["coreset"]))
    assert "labels_saved" not in counts


def test_representations_preset_plans_both_kinds(tmp_path):
    cfg = yaml.safe_load((REPO / "presets/representations.yaml").read_text())
    cfg["out_dir"] = str(tmp_path / "out")
    path = tmp_path / "rep.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk("-n", "--cores", "2", "--resources", "gpu=2", "--configfile", str(path))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    counts = job_counts(out)
    assert cfg["strategies"] == ["random", "coreset", "coreset_vae", "coreset_simclr", "lloss",
                                 "lloss_vae", "lloss_simclr"]
    assert counts["al_run"] == 7 * 5 and counts["ceiling"] == 5
    assert counts["train_representation"] == 2 and counts["representation_diagnostics"] == 2  # vae and simclr, shared
    for kind in ("vae", "simclr"):
        assert f"representation/digits/{kind}/shared/latents.npy" in out
    assert counts["labels_saved"] == 1 and counts["plot_curves"] == 2  # coreset, lloss families
