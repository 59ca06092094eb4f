"""Data sources as one file each plus one registry line (issue 29): everything about a
source (its loader, files, split sizes, image side, option checks) lives in its module of
alvae.data.sources, and the registry (alvae.data.sources.SOURCES) is the one list of names;
a new source is one file and one line, and nothing else names it."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from alvae.checks import ConfigError, validate_config
from alvae.data import sources
from alvae.data.loaders import DataError
from alvae.data.sources.base import Source
from conftest import REPO, copy_repo


def tiny_config(**datasets) -> dict:
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    cfg.update(datasets=datasets, tsne={"datasets": []})
    return cfg


def test_every_registered_source_is_a_source_object():
    assert sources.names()[:3] == ["digits", "mnist", "fashion_mnist"]
    for name in sources.names():
        assert isinstance(sources.get(name), Source), name
    assert sources.get("svhn").known_train_size({"source": "svhn"}) == 73257
    assert sources.image_side({"source": "cifar100"}) == 32
    assert sources.known_test_size({"source": "digits"}) == 297
    assert sources.known_train_size({"source": "folder", "root": "x"}) is None


def test_the_schema_takes_the_source_names_from_the_registry():
    cfg = tiny_config(x={"source": "nosuch", "subset_size": 600})
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    assert str(err.value).splitlines()[1] == (
        f"  datasets.x.source: 'nosuch' is not one of {sources.names()!r}")
    with pytest.raises(DataError, match=r"datasets.x.source: unknown source 'nosuch'"):
        sources.load_dataset("x", {"source": "nosuch"})


def test_source_names_live_in_their_source_files():
    """No module outside alvae.data.sources names these sources (the registry line, in
    alvae.vocabulary, and each source's own module do)."""
    allowed = {"idx.py", "torchvision_sets.py"}
    for word in ("svhn", "cifar10", "cifar100", "fashion_mnist"):
        where = []
        for path in (REPO / "src").rglob("*"):
            if path.suffix not in (".py", ".yaml") or "__pycache__" in path.parts:
                continue
            if re.search(rf"\b{word}\b", path.read_text()):
                where.append(path)
        outside = [p for p in where if p != REPO / "src/alvae/vocabulary.py"
                   and (p.parent.name != "sources" or p.name not in allowed)]
        assert not outside, (word, outside)


TOY_SOURCE = '''"""A toy source: three classes of 8x8 images drawn from a seeded generator."""

import numpy as np

from alvae.data.loaders import finish_dataset
from alvae.data.sources.base import Source


class Toy(Source):
    train_size = 300
    test_size = 90
    side = 8

    def load(self, name, spec):
        rng = np.random.default_rng(7)
        labels = np.arange(390) % 3
        images = rng.integers(0, 60, (390, 8, 8))
        for k in range(3):  # a bright band per class: easy to learn
            images[labels == k, 2 * k:2 * k + 3, :] += 180
        images = images.astype(np.uint8)
        arrays = {"train_images": images[:300], "train_labels": labels[:300],
                  "test_images": images[300:], "test_labels": labels[300:]}
        return finish_dataset(name, "multi-class", ["a", "b", "c"], arrays, "toy source")


SOURCE = Toy()
'''


@pytest.mark.workflow
def test_a_new_source_is_a_file_and_a_line(tmp_path):
    copy = copy_repo(tmp_path / "repo")
    (copy / "src/alvae/data/sources/toy.py").write_text(TOY_SOURCE)
    registry = copy / "src/alvae/vocabulary.py"
    text = registry.read_text()
    assert text.count("SOURCES: dict[str, str] = {\n") == 1
    registry.write_text(text.replace("SOURCES: dict[str, str] = {\n",
                                     'SOURCES: dict[str, str] = {\n    "toy": "toy",\n'))
    changed = subprocess.run(["git", "diff", "--no-index", "--numstat", str(REPO / "src"), str(copy / "src")],
                             capture_output=True, text=True).stdout.splitlines()
    # (an installed checkout has src/alvae.egg-info and __pycache__, which the copy leaves out)
    changed = sorted(line for line in changed if ".egg-info" not in line and "__pycache__" not in line)
    assert len(changed) == 2, changed  # one new file, one line in the registry
    new_file = [c for c in changed if "toy.py" in c]
    assert len(new_file) == 1 and new_file[0].split()[1] == "0", changed
    registry_line = [c for c in changed if "vocabulary.py" in c]
    assert len(registry_line) == 1 and registry_line[0].split()[:2] == ["1", "0"], changed

    env = {**os.environ, "PYTHONPATH": str(copy / "src")}
    cfg = tiny_config(toy={"source": "toy", "subset_size": 301})
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    proc = subprocess.run([sys.executable, "-m", "alvae.checks", str(bad)], cwd=copy, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert "datasets.toy.subset_size (301) is larger than the training split of toy (300)" in proc.stderr

    cfg = tiny_config(toy={"source": "toy", "subset_size": 200})
    cfg.update(out_dir=str(tmp_path / "out"), strategies=["random", "entropy"],
               gpu={"lock_dir": str(tmp_path / "locks")})
    cfg["al"].update(initial_labels=30, labels_per_round=30, final_labels=90, seeds=[0, 1])
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", "--resources", "gpu=2",
                           "--configfile", str(path)], cwd=copy, env=env, capture_output=True,
                          text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = tmp_path / "out"
    pool = np.load(out / "data/toy/subset.npz")
    assert pool["pool_images"].shape == (200, 1, 8, 8) and str(pool["name"]) == "toy"
    runs = pd.read_csv(out / "results/runs.csv")
    assert set(runs["dataset"]) == {"toy"} and set(runs["strategy"]) == {"random", "entropy"}
    assert runs["test_acc"].notna().all() and runs["test_acc"].between(0, 1).all()
    assert runs["test_acc"].max() > 0.5  # (chance is 1/3: the models learned the bands)
