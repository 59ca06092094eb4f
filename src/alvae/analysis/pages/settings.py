"""The report's settings page: the run's configuration and software versions (the
versions themselves: alvae.analysis.report.software_versions)."""

from __future__ import annotations

import yaml

from .text import heading


def settings_rst(config: dict, versions: dict) -> str:
    """The run's settings (as YAML in a literal block) and software versions."""
    text = yaml.safe_dump(config, sort_keys=False, default_flow_style=False)
    block = "\n".join("    " + line if line else "" for line in text.splitlines())
    width = max(len(k) for k in versions) if versions else 8
    vers = "\n".join(f"    {k:<{width}}  {v}" for k, v in versions.items())
    return "\n".join([heading("Settings of this run"),
                      "Configuration (after validation and defaults)::",
                      "", block, "", heading("Software versions", "-"), "::", "", vers, ""])
