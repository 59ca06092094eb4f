"""Image folders through Snakemake: the pool caches the decoded images, a changed
image reruns the pool and the evaluation splits, an unchanged folder reruns nothing,
bad folders stop with one line; and the Fashion-MNIST preset plans its study."""

from __future__ import annotations

import io

import numpy as np
import pytest
import yaml
from PIL import Image

from conftest import REPO
from test_imagesources import image, make_folder, write_png
from test_workflow import job_counts, smk

pytestmark = pytest.mark.workflow


def _folder_config(tmp_path, root, **spec):
    cfg = {"out_dir": str(tmp_path / "out"), "strategies": ["random"],
           "datasets": {"imgs": {"source": "folder", "root": str(root), "image_size": 16,
                                 "test_size": 12, "subset_size": 40, **spec}},
           "al": {"initial_labels": 10, "labels_per_round": 10, "final_labels": 20, "seeds": [0]}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_folder_pool_reruns_exactly_when_an_image_changes(tmp_path):
    from alvae.data.loaders import load_subset

    root = tmp_path / "imgs"
    written = make_folder(root, split=False, size=20, n=(20, 0))  # 60 images of 20×20, 3 classes
    cfg = _folder_config(tmp_path, root)
    out = tmp_path / "out" / "data" / "imgs"
    targets = [str(out / "subset.npz"), str(out / "eval.npz")]
    proc = smk(*targets, "--cores", "1", "--configfile", str(cfg))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    sub = load_subset(out / "subset.npz", out / "eval.npz")
    # image_size reached the job: every image resized to 16×16 once, cached in the pool file
    assert sub.pool_images.shape == (40, 1, 16, 16) and sub.test_images.shape == (12, 1, 16, 16)
    assert sub.class_names == ["cat", "dog", "eel"] and sub.task == "multi-class"
    log = (tmp_path / "out" / "logs" / "subset" / "imgs.log").read_text()
    assert "loaded imgs: task multi-class, 48 train, 12 test" in log

    def planned():
        proc = smk(*targets, "-n", "--cores", "1", "--configfile", str(cfg))
        assert proc.returncode == 0, proc.stderr[-3000:]
        return job_counts(proc.stdout + proc.stderr)

    assert planned() == {}
    target = written["all"][5][0]
    original = target.read_bytes()
    target.write_bytes(original)  # touched: same bytes, new mtime
    assert planned() == {}
    write_png(target, image(np.random.default_rng(123), 20))  # replaced
    assert planned() == {"subset": 1, "eval_split": 1}
    target.write_bytes(original)  # put back: nothing to do again
    assert planned() == {}
    write_png(root / "dog" / "extra.png", image(np.random.default_rng(7), 20))  # added
    assert planned() == {"subset": 1, "eval_split": 1}
    (root / "dog" / "extra.png").unlink()
    assert planned() == {}
    # the hold-out's size and seed, and image_size, decide what the pool holds
    for change in ({"test_size": 10}, {"split_seed": 1}, {"image_size": 12}):
        _folder_config(tmp_path, root, **change)
        assert planned() == {"subset": 1, "eval_split": 1}, change
    _folder_config(tmp_path, root)
    assert planned() == {}


def test_split_folder_test_size_leaves_the_pool_alone(tmp_path):
    from alvae.data import sources

    root = tmp_path / "imgs"
    make_folder(root, split=True, n=(20, 6))
    spec = {"source": "folder", "root": str(root)}
    assert sources.source_keys(spec) == ("image_size",)
    assert sources.source_keys({"source": "folder", "root": str(tmp_path / "x")}) == (
        "image_size", "test_size", "split_seed")
    cfg = _folder_config(tmp_path, root, test_size=None)
    target = str(tmp_path / "out" / "data" / "imgs" / "subset.npz")
    proc = smk(target, str(tmp_path / "out" / "data" / "imgs" / "eval.npz"), "--cores", "1",
               "--configfile", str(cfg))
    assert proc.returncode == 0, proc.stderr[-3000:]
    _folder_config(tmp_path, root, test_size=10)  # a subset of the test/ folder: not the pool
    proc = smk(target, str(tmp_path / "out" / "data" / "imgs" / "eval.npz"), "-n", "--cores", "1",
               "--configfile", str(cfg))
    assert job_counts(proc.stdout + proc.stderr) == {"eval_split": 1}


def test_bad_folder_stops_before_any_job_with_one_line(tmp_path):
    root = tmp_path / "imgs"
    make_folder(root, split=False, n=(20, 0))
    (root / "fox").mkdir()
    proc = smk("-n", "--cores", "1", "--configfile", str(_folder_config(tmp_path, root)))
    assert proc.returncode != 0
    err = [line for line in (proc.stdout + proc.stderr).splitlines()
           if line.strip() and not line.startswith("Using workflow specific profile")]
    assert f"datasets.imgs: {root / 'fox'}: empty class folder" in "\n".join(err) and len(err) <= 3, err


def test_truncated_image_stops_the_pool_job_naming_the_file(tmp_path):
    root = tmp_path / "imgs"
    written = make_folder(root, split=False, n=(20, 0))
    bad = written["all"][30][0]
    raw = io.BytesIO()
    Image.fromarray(image(np.random.default_rng(0), 64)).save(raw, "PNG")
    bad.write_bytes(raw.getvalue()[:300])
    target = tmp_path / "out" / "data" / "imgs" / "subset.npz"
    proc = smk(str(target), "--cores", "1", "--configfile", str(_folder_config(tmp_path, root)))
    assert proc.returncode != 0 and not target.exists()
    log = (tmp_path / "out" / "logs" / "subset" / "imgs.log").read_text()
    assert f"ERROR: {bad}: unreadable or truncated image" in log and "Traceback" not in log


def test_fashion_cpu_preset_plans_the_study(tmp_path):
    """presets/fashion_cpu.yaml: one pool of 10,000, 7 strategies × 3 seeds, one shared VAE
    (coreset_vae and TypiClust on the latents); no t-SNE experiment."""
    cfg = yaml.safe_load((REPO / "presets" / "fashion_cpu.yaml").read_text())
    assert cfg["datasets"]["fashion"] == {"source": "fashion_mnist", "subset_size": 10000, "test_size": None}
    assert (cfg["al"]["initial_labels"], cfg["al"]["final_labels"]) == (500, 3000)
    cfg["out_dir"] = str(tmp_path / "results" / "fashion")  # plan from scratch, whatever results/ holds
    path = tmp_path / "fashion.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk("-n", "--cores", "2", "--resources", "gpu=2", "--configfile", str(path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    counts = job_counts(proc.stdout + proc.stderr)
    assert counts["al_run"] == 7 * 3 and counts["subset"] == 1 and counts["eval_split"] == 1
    assert counts["train_representation"] == 1 and counts["representation_diagnostics"] == 1
    assert counts["plot_curves"] == 5  # entropy, margin, coreset, badge, typiclust panels
    assert "tsne_select" not in counts and counts["report_text"] == 1
    out = proc.stdout + proc.stderr
    for strategy in ("random", "entropy", "margin", "coreset", "coreset_vae", "badge", "typiclust"):
        assert f"{tmp_path}/results/fashion/runs/fashion/{strategy}/seed2/metrics.csv" in out


def test_fashion_preset_plans_the_field_level_study(tmp_path):
    """presets/fashion.yaml: DISTIL's grid (1,000 -> 3,000), 5 strategies x 3 seeds, one VAE
    per seed, one ceiling (ceiling.seeds: 1), every round trained to train_until."""
    cfg = yaml.safe_load((REPO / "presets" / "fashion.yaml").read_text())
    assert cfg["task_model"]["train_until"]["train_acc"] == 0.99
    assert (cfg["al"]["initial_labels"], cfg["al"]["labels_per_round"]) == (1000, 1000)
    cfg["out_dir"] = str(tmp_path / "results" / "fashion")
    path = tmp_path / "fashion.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk("-n", "--cores", "2", "--resources", "gpu=2", "--configfile", str(path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    counts = job_counts(proc.stdout + proc.stderr)
    assert counts["al_run"] == 5 * 3 and counts["train_representation"] == 3 and counts["ceiling"] == 1
