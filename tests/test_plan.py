"""The study's plan (alvae.plan) without Snakemake: job lists, stage switches, paths,
each rule's inputs and params, for tests/configs/tiny.yaml with a few changes."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from alvae.checks import load_config, validate_config
from alvae.config import read_yaml
from alvae.plan import Plan, Sources, canonical, expand, family_of, representation_of, scope_seed
from conftest import REPO

TINY = read_yaml(REPO / "tests/configs/tiny.yaml")


def plan(**changes) -> Plan:
    """The plan of tiny.yaml with top-level sections updated (a dict updates the section)
    and out_dir "out"."""
    cfg = copy.deepcopy(TINY)
    cfg["out_dir"] = "out/"
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key].update(value)
        else:
            cfg[key] = value
    return Plan(validate_config(cfg))


def test_tiny_study_switches_and_names():
    p = plan()
    assert p.out == "out"  # the trailing slash dropped
    assert p.datasets == ["digits"] and p.strategies == ["random", "coreset", "coreset_vae"]
    assert p.seeds == [0, 1] and p.extra_seeds is None
    assert p.seed_plan == "out/results/seed_plan.json"
    assert p.families == ["coreset"] and p.tsne_datasets == ["digits"]
    assert p.tsne_kind == "vae" and p.features_kind is None
    assert p.initial_selection == "random" and not p.tuned and not p.per_round
    assert p.ceiling and p.labels_saved
    assert p.rankings == ["primary", "test_acc", "test_auc", "test_ap"]


def test_paths():
    p = plan()
    assert p.log_path("al_run", "digits", "coreset", "seed0") == "out/logs/al_run/digits/coreset/seed0.log"
    assert p.bench_path("aggregate", "all") == "out/benchmarks/aggregate/all.tsv"
    assert p.subset_file("digits") == "out/data/digits/subset.npz"
    assert p.eval_file("digits") == "out/data/digits/eval.npz"
    assert p.representation_file("digits", "vae", 1, "model.pt") == "out/representation/digits/vae/shared/model.pt"
    assert p.representation_file("digits", "cvae", 1, "model.pt") == "out/representation/digits/cvae/seed1/model.pt"
    with pytest.raises(ValueError, match="per seed: give a seed"):
        p.representation_file("digits", "cvae", None, "model.pt")
    assert p.state_dir("digits", "coreset_vae", "0") == "out/state/digits/coreset_vae/seed0"
    assert p.initial_file("digits", 3) == "out/initial/digits/seed3.npy"
    assert p.ceiling_file("digits", 3) == "out/ceiling/digits/seed3/metrics.csv"
    assert p.fixed_round0_file("digits", 2) == "out/tune/digits/fixed/seed2.csv"


def test_pool_per_seed_gives_one_pool_and_representation_per_seed():
    p = plan(datasets={"digits": {"source": "digits", "subset_size": 600, "pool_per_seed": True}})
    assert p.subset_file("digits", "1") == "out/data/digits/seed1/subset.npz"
    with pytest.raises(ValueError, match=r"^datasets.digits.pool_per_seed: the pool file needs a seed"):
        p.subset_file("digits")
    assert p.representation_jobs([0, 1]) == [("digits", "vae", 0), ("digits", "vae", 1)]
    assert p.representation_inputs("digits", "seed1") == {"subset": "out/data/digits/seed1/subset.npz"}
    assert p.pool_spec("digits")["pool_per_seed"] is True and "pool_per_seed" not in p.eval_spec("digits")


def test_vae_jobs_per_kind_and_seed():
    # the tiny study: one plain VAE per dataset (for coreset_vae and the t-SNE experiment)
    assert plan().representation_jobs([0, 1]) == [("digits", "vae", None)]
    # cvae learns from each seed's initial labels: one job per seed; gmvae and vae shared
    p = plan(strategies=["random", "coreset_vae", "coreset_cvae", "lloss_gmvae"])
    assert p.representation_jobs([0, 1]) == [("digits", "vae", None), ("digits", "cvae", 0),
                                  ("digits", "cvae", 1), ("digits", "gmvae", None)]
    assert p.families == ["coreset", "lloss"]
    # representation.per_seed: every kind per AL seed (the t-SNE experiment's seed 0 is one of them)
    p = plan(strategies=["random", "coreset_vae", "coreset_cvae", "lloss_gmvae"], representation={"per_seed": True})
    assert sorted(p.representation_jobs([0, 1])) == [("digits", k, s) for k in ("cvae", "gmvae", "vae") for s in (0, 1)]
    # no strategy and no t-SNE reads latents: nothing is trained, no latent_knn table
    p = plan(strategies=["random"], tsne={"datasets": []})
    assert p.representation_jobs([0, 1]) == [] and "out/results/latent_knn.csv" not in p.final_targets([0, 1])
    assert p.families == ["random"] and not p.labels_saved


def test_latent_space_strategies_read_the_kind_their_space_names():
    p = plan(strategies=["random", "typiclust", "probcover"], typiclust={"space": "gmvae"},
             probcover={"space": "features"}, tsne={"datasets": []})
    assert p.latent_kind_of("typiclust") == "gmvae" and p.latent_kind_of("probcover") is None
    assert p.representation_jobs([0, 1]) == [("digits", "gmvae", None)]
    assert p.al_inputs("digits", "typiclust", "0")["latents"] == "out/representation/digits/gmvae/shared/latents.npy"
    assert "latents" not in p.al_inputs("digits", "probcover", "0")
    assert p.strategy_options("typiclust")["space"] == "gmvae"
    assert p.lloss_options("typiclust") is None and p.alpha("typiclust") is None


def test_al_inputs_and_params_of_the_tiny_study():
    p = plan()
    assert p.al_inputs("digits", "coreset_vae", "1") == {
        "subset": "out/data/digits/subset.npz", "evaluation": "out/data/digits/eval.npz",
        "latents": "out/representation/digits/vae/shared/latents.npy"}
    assert p.al_inputs("digits", "random", "1") == {
        "subset": "out/data/digits/subset.npz", "evaluation": "out/data/digits/eval.npz"}
    settings = p.al_settings()
    assert "seeds" not in settings and "extra_seeds" not in settings
    assert settings["initial_labels"] == 40 and list(settings) == sorted(settings)
    assert p.alpha("coreset_vae") == "auto" and p.alpha("coreset") is None
    assert p.retrain_params("coreset_vae") is None
    assert p.strategy_options("coreset") is None
    assert "recipe" not in p.fixed_task_model() and p.fixed_task_model()["epochs_initial"] == 2


def test_per_round_retraining():
    p = plan(strategies=["random", "coreset_vae+per_round", "coreset_gmvae+per_round", "lloss_vae"],
             representation={"retrain_epochs": 3}, tsne={"datasets": []})
    assert p.per_round and p.retrain_of("lloss_vae") == "once" and p.retrain_of("random") is None
    assert p.retrained_runs() == ["coreset_vae+per_round", "coreset_gmvae+per_round"]
    assert p.retrain_tsne_labels() == ["coreset_vae+per_round", "coreset_gmvae+per_round"]
    inputs = p.al_inputs("digits", "coreset_vae+per_round", "0")
    assert inputs["model"] == "out/representation/digits/vae/shared/model.pt"
    params = p.retrain_params("coreset_gmvae+per_round")
    assert params["kind"] == "gmvae" and params["epochs"] == 3
    assert params["representation"]["latent_dim"] == 8 and params["representation"]["gmvae"] == p.config["representation"]["gmvae"]
    assert p.latent_share_runs() == ["coreset_vae+per_round", "coreset_gmvae+per_round"]
    assert p.lloss_options("lloss_vae") == canonical(p.config["lloss"])
    assert p.retrain_tsne_inputs("digits") == {
        "subset": "out/data/digits/subset.npz",
        "latents": ["out/runs/digits/coreset_vae+per_round/seed0/latents_rounds.npz",
                    "out/runs/digits/coreset_gmvae+per_round/seed0/latents_rounds.npz"]}
    assert p.diagnostics_targets() == [
        "out/results/latent_knn_rounds.csv", "out/figures/latent_knn_rounds.png",
        "out/figures/tsne_rounds_digits.png", "out/results/latent_share.csv",
        "out/figures/latent_share.png"]


def test_alpha_labels_add_the_sweep():
    p = plan(strategies=["random", "coreset_vae@0.5", "coreset_vae@1"])
    assert p.alpha_labels() == ["coreset_vae@0.5", "coreset_vae@1"]
    assert p.diagnostics_targets()[-2:] == ["out/results/alpha_sweep.csv", "out/figures/alpha_sweep.png"]
    assert p.family_members("coreset") == ["coreset_vae@0.5", "coreset_vae@1"]


def test_frozen_features_and_chosen_initial_labels():
    p = plan(strategies=["random", "margin"], tsne={"datasets": []},
             task_model={"arch": "linear", "features": "simclr"},
             al={"initial_selection": "typiclust", "initial_space": "vae"})
    assert p.features_kind == "simclr" and p.initial_selection == "typiclust"
    assert p.representation_jobs([0, 1]) == [("digits", "simclr", None), ("digits", "vae", None)]
    assert p.al_inputs("digits", "margin", "1") == {
        "subset": "out/data/digits/subset.npz", "evaluation": "out/data/digits/eval.npz",
        "features": "out/representation/digits/simclr/shared/latents.npy",
        "eval_features": "out/representation/digits/simclr/shared/eval_latents.npz",
        "initial": "out/initial/digits/seed1.npy"}
    assert p.initial_labels_inputs("digits", "1") == {
        "subset": "out/data/digits/subset.npz", "latents": "out/representation/digits/vae/shared/latents.npy"}
    assert "initial" not in p.ceiling_inputs("digits", "1")
    assert p.ceiling_inputs("digits", "1")["features"] == "out/representation/digits/simclr/shared/latents.npy"


def test_tuned_recipe_per_seed():
    p = plan(task_model={"recipe": "tuned"}, tune={"scope": "seed", "storage": "journal", "workers": 3})
    assert p.tuned and p.compare_fixed()
    assert p.tune_jobs() == [("digits", "seed0"), ("digits", "seed1")]
    assert p.tune_scope("1") == "seed1" and p.tune_seed("seed1") == 1
    assert p.recipe_file("digits", "1") == "out/tune/digits/seed1/recipe.yaml"
    assert p.al_inputs("digits", "random", "1")["recipe"] == "out/tune/digits/seed1/recipe.yaml"
    assert p.ceiling_inputs("digits", "0")["recipe"] == "out/tune/digits/seed0/recipe.yaml"
    assert p.recipe_params("1") == {"scope": "seed1", "seed": 1, "tune": p.tune_settings(),
                                    "initial_labels": 40}
    assert "workers" not in p.tune_settings() and "storage" not in p.tune_settings()
    assert p.fixed_records() == [["digits", 0], ["digits", 1]]
    workers = [t for t in p.final_targets([0, 1]) if t.endswith(".done")]
    assert workers == [f"out/tune/digits/seed{s}/worker{w}.done" for s in (0, 1) for w in (1, 2)]
    # scope dataset: one study on the first seed's labels; a fixed recipe: none
    shared = plan(task_model={"recipe": "tuned"})
    assert shared.tune_jobs() == [("digits", "shared")] and shared.tune_seed("shared") == 0
    assert plan().tune_jobs() == [] and plan().fixed_records() == [] and not plan().compare_fixed()


def test_ceiling_records_follow_ceiling_seeds_and_enabled():
    p = plan(ceiling={"seeds": 1}, al={"seeds": [3, 5, 7]})
    assert p.ceiling_records([3, 5, 7]) == [("digits", 3, "out/ceiling/digits/seed3/metrics.csv")]
    assert p.ceiling_al() == {"final_labels": 120, "initial_labels": 40, "labels_per_round": 40}
    assert p.worth_targets() == ["out/results/labels_saved.csv", "out/figures/labels_saved.png",
                                 "out/results/ceiling.csv"]
    off = plan(ceiling={"enabled": False})
    assert off.ceiling_records([0, 1]) == [] and off.ceiling_curve_inputs() == {}
    assert off.worth_report_inputs() == {"labels_saved": "out/results/labels_saved.csv"}


def test_run_records_and_final_targets():
    p = plan()
    assert p.run_records([0]) == [
        ("digits", s, 0, f"out/runs/digits/{s}/seed0/metrics.csv") for s in p.strategies]
    targets = p.final_targets([0, 1])
    assert targets[:6] == ["out/results/runs.csv", "out/results/summary.csv", "out/results/tests.md",
                           "out/report/summary.rst", "out/report/settings.rst",
                           "out/report/classifier.rst"]
    assert targets[6:8] == ["out/figures/ppm_primary.png", "out/figures/ppm_primary.pdf"]
    assert "out/figures/curves_digits_coreset.pdf" in targets
    assert "out/representation/digits/vae/shared/tsne.png" in targets
    assert targets[-2:] == ["out/results/latent_knn.csv", "out/figures/tsne_digits_pair.png"]
    assert p.latent_knn_inputs([0, 1]) == ["out/representation/digits/vae/shared/diagnostics.json"]


def test_stats_and_tsne_params():
    p = plan(stats={"pairs": [["random", "coreset"], ["coreset", "coreset_vae"]], "metrics": ["test_acc"]})
    assert p.stats_pairs() == [["random", "coreset"], ["coreset", "coreset_vae"]]
    assert p.rankings == ["primary", "test_acc"] and p.stats_metrics() == ["test_acc"]
    assert plan().stats_pairs() == [["coreset", "coreset_vae"], ["coreset", "random"],
                                    ["coreset_vae", "random"]]
    assert p.tsne_pair_strategies() == ["coreset", "coreset_vae"]
    assert "datasets" not in p.tsne_settings()
    assert p.tsne_inputs("digits") == {"subset": "out/data/digits/subset.npz",
                                       "evaluation": "out/data/digits/eval.npz",
                                       "latents": "out/representation/digits/vae/shared/latents.npy"}


def test_data_specs_and_sources():
    p = plan()
    spec = p.pool_spec("digits")
    assert spec["subset_size"] == 600 and list(spec) == sorted(spec) and "download" not in spec
    assert "test_size" in p.eval_spec("digits")
    sources = Sources({"digits": "abc"}, "out/data/.sources")
    assert p.data_params("digits", sources) == {"source": "abc", "digests": "out/data/.sources"}
    assert "download" not in p.recorded_config()["datasets"]["digits"]


def test_vae_params_and_seed():
    p = plan(strategies=["random", "coreset_cvae"])
    assert p.representation_seed("digits", "seed4") == 4 and p.representation_seed("digits", "shared") == 0
    assert p.representation_initial_labels("cvae") == 40 and p.representation_initial_labels("vae") is None
    assert set(p.representation_params("vae")) == {"latent_dim", "epochs", "lr", "weight_decay", "batch_size"}
    assert p.representation_params("cvae")["cvae"] == p.config["representation"]["cvae"]
    assert p.representation_diagnostics_inputs("digits", "cvae", "seed1") == {
        "subset": "out/data/digits/subset.npz", "evaluation": "out/data/digits/eval.npz",
        "model": "out/representation/digits/cvae/seed1/model.pt",
        "latents": "out/representation/digits/cvae/seed1/latents.npy",
        "losses": "out/representation/digits/cvae/seed1/losses.csv"}


def test_small_functions():
    assert canonical({"b": [{"d": 1, "c": 2}], "a": (1,)}) == {"a": [1], "b": [{"c": 2, "d": 1}]}
    assert list(canonical({"b": 1, "a": 2})) == ["a", "b"]
    assert expand("{a}_{b}", a=["x", "y"], b=[1, 2]) == ["x_1", "x_2", "y_1", "y_2"]
    assert family_of("coreset_cvae@0.5+per_round") == "coreset" and family_of("random") == "random"
    assert representation_of("lloss_gmvae") == "gmvae" and representation_of("vaal") is None
    assert scope_seed("seed3") == 3 and scope_seed("shared") is None


def test_presets_plan_without_snakemake():
    """Every full preset builds its plan (strong.yaml is an overlay on config.yaml)."""
    for path in sorted((REPO / "presets").glob("*.yaml")):
        if path.name == "strong.yaml":
            continue
        p = Plan(load_config(path))
        assert p.run_records(p.seeds) and p.final_targets(p.seeds)
    features = Plan(load_config(REPO / "presets/features.yaml"))
    assert features.extra_seeds and features.features_kind == "simclr"
    assert features.representation_jobs(features.seeds) == [("fashion", "vae", None), ("fashion", "simclr", None)]


def test_planning_imports_no_torch():
    """The plan of a validated config is built and read without torch (the config's
    validation is checked elsewhere)."""
    config = json.dumps(load_config(REPO / "presets/future.yaml"))
    code = ("import json, sys; from alvae.plan import Plan; "
            "p = Plan(json.loads(sys.stdin.read())); "
            "p.final_targets(p.seeds); p.tune_task_model(); p.stats_pairs(); p.recorded_config(); "
            "[p.representation_params(k) for _, k, _ in p.representation_jobs(p.seeds)]; "
            "[p.al_inputs(d, s, 0) for d in p.datasets for s in p.strategies]; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], input=config, capture_output=True,
                         text=True, check=True)
    assert out.stdout.split()[-1] == "False"
