"""Text of the Snakemake report: the summary of the tests, written from the
numbers, and the run's settings and software versions."""

from __future__ import annotations

import importlib
import platform
from importlib import metadata

import numpy as np
import pandas as pd
import yaml

NULL_SENTENCE = "No budget differs significantly: a null result, as the thesis found."


def _title(text: str, char: str = "=") -> str:
    return f"{text}\n{char * len(text)}\n"


def _fmt(v: float, digits: int = 4) -> str:
    return "n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.{digits}f}"


def _p(v: float) -> str:
    return "n/a" if v is None or np.isnan(v) else f"{v:.3g}"


def _direction(a: str, b: str, diff: float, suffix: str = " on average") -> str:
    if np.isnan(diff):
        return "no paired values"
    if diff == 0:
        return f"{a} and {b} equal{suffix}"
    hi, lo = (a, b) if diff > 0 else (b, a)
    return f"{hi} higher than {lo} by {abs(diff):.4f}{suffix}"


def _is_vae_pair(df: pd.DataFrame) -> pd.Series:
    return ((df["strategy_b"] == df["strategy_a"] + "_vae")
            | (df["strategy_a"] == df["strategy_b"] + "_vae"))


def _pair_lines(g: pd.DataFrame, aulc_row, alpha: float) -> list[str]:
    a, b, metric = g["strategy_a"].iloc[0], g["strategy_b"].iloc[0], g["metric"].iloc[0]
    tested = g["p_holm"].notna()
    sig = g[g["p_holm"] < alpha].sort_values("n_labels")
    line = (f"- **{a} vs {b}**, {metric}: {len(sig)} of {int(tested.sum())} budgets with "
            f"Holm-adjusted p < {alpha:g}; {_direction(a, b, g['mean_diff'].mean())} "
            f"(mean of the per-budget differences)")
    if len(sig):
        parts = [f"{int(r.n_labels)} labels ({_direction(a, b, r.mean_diff, '')}, "
                 f"p_holm = {_p(r.p_holm)})" for r in sig.itertuples()]
        line += ". Significant at " + "; ".join(parts)
    untested = int((~tested).sum())
    if untested:
        line += f". {untested} budget(s) not testable (see the note column of the tests table)"
    lines = [line + "."]
    if aulc_row is not None:
        r = aulc_row
        lines.append(
            f"\n  AULC: {a} {_fmt(r.mean_a)} vs {b} {_fmt(r.mean_b)}, "
            f"difference {_fmt(r.mean_diff)} "
            f"(95% CI {_fmt(r.ci_low)} to {_fmt(r.ci_high)}), paired t p = {_p(r.p)}, "
            f"Wilcoxon p = {_p(r.p_wilcoxon)}, n = {int(r.n_pairs)} seeds"
            + (" (significant)." if r.p_holm < alpha else " (not significant).")
            + (f" Note: {r.note}." if isinstance(r.note, str) and r.note else ""))
    return lines


def summary_rst(tests_df: pd.DataFrame, aulc_tests_df: pd.DataFrame | None = None,
                alpha: float = 0.05) -> str:
    """The opening summary of the report, in reStructuredText."""
    out = [_title("Summary of the paired tests"),
           "Paired over seeds (shared initial labels): t-test and Wilcoxon signed-rank test per "
           "label budget, Holm-adjusted over the budgets of each dataset, pair and metric (not "
           "across pairs, metrics or datasets); "
           "differences are first minus second strategy. AULC is the area under each run's "
           "learning curve divided by the label range.\n"]
    if tests_df is None or tests_df.empty:
        return "\n".join(out + ["No tests were run (no pairs of strategies with results).\n"])
    sig = tests_df[tests_df["p_holm"] < alpha]
    aulc_sig = (aulc_tests_df[aulc_tests_df["p_holm"] < alpha]
                if aulc_tests_df is not None and not aulc_tests_df.empty else tests_df.iloc[:0])
    vae_b, vae_a = int(_is_vae_pair(sig).sum()), int(_is_vae_pair(aulc_sig).sum())
    other_b, other_a = len(sig) - vae_b, len(aulc_sig) - vae_a
    if not (vae_b or vae_a or other_b or other_a):
        out.append(f"**{NULL_SENTENCE}** No AULC test is significant either.\n")
    elif not (vae_b or vae_a):
        out.append("**No budget and no AULC differs significantly between a strategy and its VAE "
                   "variant: a null result, as the thesis found.** Against random, "
                   f"{other_b} budget(s) and {other_a} AULC test(s) are significant.\n")
    else:
        out.append(f"**Between a strategy and its VAE variant, {vae_b} budget(s) and {vae_a} AULC "
                   f"test(s) differ significantly** (see below for which and in which direction); "
                   f"against random, {other_b} budget(s) and {other_a} AULC test(s).\n")
    for dataset, gd in tests_df.groupby("dataset", sort=True):
        out.append(_title(str(dataset), "-"))
        pairs = list(dict.fromkeys(zip(gd["strategy_a"], gd["strategy_b"])))
        metrics = list(dict.fromkeys(gd["metric"]))
        groups = gd.groupby(["strategy_a", "strategy_b", "metric"], sort=False)
        for key in [(a, b, m) for a, b in pairs for m in metrics if (a, b, m) in groups.groups]:
            g = groups.get_group(key)
            row = None
            if aulc_tests_df is not None and not aulc_tests_df.empty:
                m = aulc_tests_df[(aulc_tests_df["dataset"] == dataset)
                                  & (aulc_tests_df["strategy_a"] == key[0])
                                  & (aulc_tests_df["strategy_b"] == key[1])
                                  & (aulc_tests_df["metric"] == key[2])]
                row = next(m.itertuples(), None)
            out.extend(_pair_lines(g.sort_values("n_labels"), row, alpha) + [""])
        out.append("")
    return "\n".join(out)


def settings_rst(config: dict, versions: dict) -> str:
    """The run's settings (as YAML in a literal block) and software versions."""
    text = yaml.safe_dump(config, sort_keys=False, default_flow_style=False)
    block = "\n".join("    " + line if line else "" for line in text.splitlines())
    width = max(len(k) for k in versions) if versions else 8
    vers = "\n".join(f"    {k:<{width}}  {v}" for k, v in versions.items())
    return "\n".join([_title("Settings of this run"),
                      "Configuration (after validation and defaults)::",
                      "", block, "", _title("Software versions", "-"), "::", "", vers, ""])


def software_versions() -> dict:
    """Versions of Python and the libraries the results depend on ("not installed" if absent)."""
    versions = {"python": platform.python_version()}
    for name, dist in [("torch", "torch"), ("torchvision", "torchvision"), ("numpy", "numpy"),
                       ("scipy", "scipy"), ("sklearn", "scikit-learn"),
                       ("matplotlib", "matplotlib"), ("pandas", "pandas"),
                       ("snakemake", "snakemake"), ("medmnist", "medmnist"), ("alvae", "alvae")]:
        try:
            versions[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            try:
                versions[name] = getattr(importlib.import_module(name), "__version__", "unknown")
            except Exception:
                versions[name] = "not installed"
    if versions.get("torch") not in (None, "not installed"):
        try:
            import torch

            versions["cuda (torch build)"] = torch.version.cuda or "none (CPU build)"
        except Exception:
            pass
    return versions
