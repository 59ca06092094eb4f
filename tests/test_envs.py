"""envs/alvae.yaml (for --sdm conda) pins exactly what requirements.txt pins."""

from __future__ import annotations

import re

import yaml

from conftest import REPO

WORKFLOW_ONLY = {"snakemake", "pytest", "pytest-xdist", "ruff", "snakemake-executor-plugin-slurm",
                 "snakemake-executor-plugin-slurm-jobstep"}  # the driver's, the tests' and the linter's tools, not the jobs'


def _pins(lines):
    out = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]+\])?==([^\s;]+)", line)
        if m:
            out[m.group(1).lower()] = m.group(3)
    return out


def test_conda_env_matches_requirements():
    req = _pins((REPO / "requirements.txt").read_text().splitlines())
    env = yaml.safe_load((REPO / "envs" / "alvae.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    conda_pins = _pins(pip)
    assert conda_pins, "envs/alvae.yaml pins nothing"
    expected = {k: v for k, v in req.items() if k not in WORKFLOW_ONLY}
    assert conda_pins == expected
    assert req["torch"] == "2.14.1" and req["torchvision"] == "0.29.1"
