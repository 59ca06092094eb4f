"""The all-labels ceiling section of the summary: each strategy's mean at the final
budget as a share of the ceiling (the numbers: alvae.training.ceiling)."""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from ...training.ceiling import ceiling_means


def share_rst(summary: pd.DataFrame, table: pd.DataFrame, primary: Mapping[str, str],
              names: Mapping[str, str] | None = None) -> str:
    """One line per dataset × strategy: its mean at the final budget as a share
    of the all-labels ceiling (mean over seeds), in the primary metric."""
    names = names or {}
    lines = ["All-labels ceiling", "------------------", ""]
    if table.empty:
        return "\n".join(lines + ["The ceiling was not trained (``ceiling.enabled: false``).", ""])
    for dataset in sorted(set(summary["dataset"])):
        metric = primary.get(dataset, "test_acc")
        ceil = ceiling_means(table, dataset).get(metric)
        if ceil is None:
            lines.append(f"- **{dataset}**: no ceiling run.")
            continue
        value, n, n_labels = ceil
        lines.append(f"- **{dataset}** ({metric}): trained on all {n_labels:,} pool labels, the "
                     f"task model reaches {value:.4f} (mean of {n} seeds). At the final budget:")
        lines.append("")
        d = summary[(summary["dataset"] == dataset) & (summary["metric"] == metric)]
        for strategy, g in d.groupby("strategy", sort=True):
            last = g.sort_values("n_labels").iloc[-1]
            lines.append(f"  - {names.get(strategy, strategy)}: {last['mean']:.4f} at "
                         f"{int(last['n_labels']):,} labels, {last['mean'] / value:.1%} of the "
                         f"ceiling.")
        lines.append("")
    return "\n".join(lines) + "\n"
