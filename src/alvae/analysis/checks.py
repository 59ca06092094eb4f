"""The analysis' checks of a config, before any job: the statistics' metrics and pairs,
and the extra seeds planned from stage 1's spread (:mod:`alvae.analysis.seedplan`)."""

from __future__ import annotations

from ..schema import with_defaults


def config_problems(config: dict) -> list[str]:
    return _metric_problems(config) + _extra_seed_problems(config) + _pair_problems(config)


def _metric_problems(config: dict) -> list[str]:
    st = config["stats"]
    if st.get("primary_metric") and st.get("metrics") and st["primary_metric"] not in st["metrics"]:
        return [f"stats.primary_metric: {st['primary_metric']!r} is not in stats.metrics "
                f"{st['metrics']} (the primary metric must be tested)"]
    return []


def _pair_problems(config: dict) -> list[str]:
    problems = []
    pairs = config["stats"]["pairs"]
    if pairs != "auto":
        for a, b in pairs:
            for s in (a, b):
                if s not in config["strategies"]:
                    problems.append(f"stats.pairs: {s!r} is not in strategies")
    return problems


def _extra_seed_problems(config: dict) -> list[str]:
    """al.extra_seeds: enough stage-1 seeds for a standard deviation, a cap above them, and
    none of the stages not wired to planned seeds."""
    al = config["al"]
    rule = al.get("extra_seeds")
    if rule is None:
        return []
    rule = with_defaults("al", rule, sub="extra_seeds")
    k = len(al["seeds"])
    problems = []
    if k < 3:
        problems.append(f"al.seeds: al.extra_seeds plans from the spread of the first seeds; "
                        f"give at least 3 (got {k})")
    if rule["max_seeds"] < k:
        problems.append(f"al.extra_seeds.max_seeds ({rule['max_seeds']}) is below the {k} seeds "
                        f"of al.seeds")
    if rule["min_seeds"] is not None and rule["min_seeds"] > rule["max_seeds"]:
        problems.append(f"al.extra_seeds.min_seeds ({rule['min_seeds']}) exceeds max_seeds "
                        f"({rule['max_seeds']})")
    if config["task_model"].get("recipe") == "tuned":
        problems.append("task_model.recipe: tuned is not planned for extra seeds yet; with "
                        "al.extra_seeds set recipe: fixed")
    if config["tsne"]["datasets"] and config["tsne"]["seed"] not in al["seeds"]:
        problems.append("tsne.seed: with al.extra_seeds it must be one of al.seeds (stage 1)")
    return problems
