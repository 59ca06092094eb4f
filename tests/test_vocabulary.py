"""One vocabulary (issue 20): the names of the strategies and representation kinds, and
what each needs, are declared once in alvae.vocabulary; a new strategy or kind is its
file plus one line there, and nothing else needs its name."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from alvae import vocabulary
from alvae.checks import ConfigError, validate_config
from conftest import REPO, copy_repo


def test_names_come_from_the_traits():
    names = vocabulary.strategy_names()
    for base, t in vocabulary.STRATEGIES.items():
        assert base in names
        for kind in vocabulary.KINDS:
            assert (f"{base}_{kind}" in names) == t.takes_representation
    assert vocabulary.split_name("lloss_gmvae") == ("lloss", "gmvae")
    assert vocabulary.traits("lloss_vae").trains_loss_module and not vocabulary.traits("coreset_cvae").trains_loss_module
    assert vocabulary.kind_of("entropy") is None and vocabulary.title("medal_vae") == "VAE MedAL"
    with pytest.raises(ValueError, match="unknown strategy 'entropy_vae'"):
        vocabulary.split_name("entropy_vae")


def test_strategy_classes_get_their_traits_from_the_vocabulary():
    from alvae.strategies import get_strategy

    s = get_strategy("lloss_cvae")
    assert (s.kind, s.uses_representation, s.trains_loss_module, s.mc_dropout) == ("cvae", True, True, False)
    assert get_strategy("bald").mc_dropout and not get_strategy("coreset").uses_representation


def test_the_schema_lists_what_the_vocabulary_declares():
    cfg = {"datasets": {"d": {"source": "digits", "subset_size": 500}},
           "al": {"initial_labels": 50, "final_labels": 150},
           "strategies": ["random", "medal_gmvae", "coreset_cvae@0.5+per_round"],
           "typiclust": {"space": "gmvae"}}
    validate_config(cfg)
    for bad, key in [({"strategies": ["entropy_vae"]}, "strategies.0"),
                     ({"strategies": ["random"], "typiclust": {"space": "pixels"}}, "typiclust.space"),
                     ({"tsne": {"strategies": ["lloss_vae"]}}, "tsne.strategies.0")]:
        with pytest.raises(ConfigError, match=re.escape(key)):
            validate_config({**cfg, **bad})


def test_rule_files_and_analysis_name_no_method():
    """The names of kinds and of special strategies appear only in the vocabulary (and the
    schema's option sections), not in the rules or the analysis code: no string literal
    there is a kind's name, holds a ``_<kind>`` variant or starts with ``lloss``. (The
    options section of a kind is read as a subscript or a key: ``config["representation"]["vae"]``.)"""
    kinds = "|".join(vocabulary.KINDS)
    bases = "|".join(vocabulary.STRATEGIES)
    variant = re.compile(rf"\b(?:{bases})_(?:{kinds})\b")
    literal = re.compile(r"""(.)(["'])([^"'\n]*)\2(.?)""")
    for path in [*(REPO / "workflow/rules").glob("*.smk"), REPO / "src/alvae/analysis/stats.py",
                 REPO / "src/alvae/analysis/plots.py", REPO / "src/alvae/analysis/report.py",
                 *(REPO / "src/alvae/analysis/pages").glob("*.py"),
                 REPO / "src/alvae/representations/diagnostics.py",
                 REPO / "src/alvae/strategies/__init__.py"]:
        hits = []
        for line in path.read_text().splitlines():
            code = line.split("#", 1)[0]
            if code.lstrip().startswith(('"', "'", "f\"")):
                continue  # docstrings and prose
            for m in literal.finditer(code):
                before, text, after = m.group(1), m.group(3), m.group(4)
                if text in vocabulary.KINDS and (before == "[" or after == ":"):
                    continue  # the config section: config["representation"], {"vae": ...}
                if text in vocabulary.KINDS or variant.search(text) or text.startswith("lloss"):
                    hits.append(text)
        assert not hits, f"{path.name} names {hits}"


TOY_STRATEGY = '''"""A toy strategy for the vocabulary test: the first candidates in pool order."""
import numpy as np

from .base import Strategy


class ToyStrategy(Strategy):
    def select(self, ctx, budget, rng):
        return np.sort(np.asarray(ctx.candidates, dtype=np.int64))[:budget]
'''

TOY_KIND = '''"""A toy representation kind for the vocabulary test: the thesis VAE under another name."""
from .vae import MODEL  # noqa: F401
from .vae import fit as _fit


def fit(*args, **kwargs):
    result = _fit(*args, **kwargs)
    result.state["kind"] = "toykind"
    return result
'''


@pytest.mark.workflow
def test_a_new_strategy_and_kind_are_a_file_and_a_line_each(tmp_path):
    copy = copy_repo(tmp_path / "repo")
    (copy / "src/alvae/strategies/toy.py").write_text(TOY_STRATEGY)
    (copy / "src/alvae/representations/toykind.py").write_text(TOY_KIND)
    voc = copy / "src/alvae/vocabulary.py"
    text = voc.read_text()
    text = text.replace('STRATEGIES: dict[str, StrategyTraits] = {\n',
                        'STRATEGIES: dict[str, StrategyTraits] = {\n'
                        '    "toy": StrategyTraits("toy", "ToyStrategy", "toy"),\n')
    text = text.replace('KINDS: dict[str, KindTraits] = {\n',
                        'KINDS: dict[str, KindTraits] = {\n    "toykind": KindTraits("toykind", "toy kind"),\n')
    voc.write_text(text)
    changed = subprocess.run(["git", "diff", "--no-index", "--stat", str(REPO / "src"), str(copy / "src")],
                             capture_output=True, text=True).stdout
    assert "2 files changed" not in changed  # (sanity: the copy differs only as written above)

    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    cfg.update(out_dir=str(tmp_path / "out"), strategies=["random", "coreset", "toy", "coreset_toykind"],
               tsne={"datasets": []})
    cfg["al"]["seeds"] = [0, 1]
    cfg["al"]["final_labels"] = 80
    cfg["gpu"] = {"lock_dir": str(tmp_path / "locks")}
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "PYTHONPATH": str(copy / "src")}
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", "--resources", "gpu=2",
                           "--configfile", str(path)], cwd=copy, env=env, capture_output=True,
                          text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = tmp_path / "out"
    runs = pd.read_csv(out / "results/runs.csv")
    assert set(runs["strategy"]) == {"random", "coreset", "toy", "coreset_toykind"}
    assert (out / "representation/digits/toykind/shared/latents.npy").is_file()
    assert list(pd.read_csv(out / "results/latent_knn.csv")["kind"]) == ["toykind"]
    tests = pd.read_csv(out / "results/tests.csv")
    fam = tests[(tests["strategy_a"] == "coreset") & (tests["strategy_b"] == "coreset_toykind")]["family"]
    assert len(fam) and all(f.endswith("/ X vs X_<VAE kind>") for f in fam), list(fam)
    summary = (out / "report/summary.rst").read_text()
    assert "X_toykind" in summary
