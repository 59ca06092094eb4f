"""Kind ``pretrained``: a torchvision backbone from a local weights file, offline.

The checkpoints are written here, from randomly initialised torchvision models: no
download, no network."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from sklearn.datasets import load_digits

from alvae.checks import ConfigError, load_config
from alvae.representations import REPRESENTATION_KINDS, encode_images, train_representation
from alvae.representations import pretrained as pre
from alvae.representations.diagnostics import load_model
from conftest import REPO

quiet = dict(log=lambda s: None)


@pytest.fixture(scope="module")
def images():
    d = load_digits()
    return np.round(d.images[:24] * (255 / 16)).astype(np.uint8)[:, None]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A randomly initialised torchvision resnet18, saved as its state dict (with its
    classifier, as torchvision's files are)."""
    from torchvision.models import resnet18

    torch.manual_seed(0)
    net = resnet18(weights=None)
    path = tmp_path_factory.mktemp("w") / "resnet18-random.pth"
    torch.save(net.state_dict(), path)
    return path, net


def cfg(path, **extra):
    return {"latent_dim": 8, "epochs": 1, "lr": 1e-3, "weight_decay": 0.0, "batch_size": 8,
            "pretrained": {"path": str(path), "image_size": 32, "batch_size": 10, **extra}}


def fit(images, c):
    return train_representation("pretrained", images, None, None, task="multi-class",
                                n_classes=10, rep_cfg=c, seed=0, **quiet)


def test_loads_a_local_checkpoint_and_gives_its_features(images, checkpoint):
    path, net = checkpoint
    res = fit(images, cfg(path))
    assert res.latents.shape == (24, 512) and res.latents.dtype == np.float32
    assert res.losses == []  # nothing is trained
    # by hand: the same network, its classifier dropped, on the resized, normalised images
    net.fc = torch.nn.Identity()
    net.eval()
    x = torch.from_numpy(images).float() / 255
    x = torch.nn.functional.interpolate(x.expand(-1, 3, -1, -1), size=(32, 32), mode="bilinear",
                                        align_corners=False)
    x = (x - torch.tensor(pre.IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(
        pre.IMAGENET_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        want = net(x).numpy()
    np.testing.assert_allclose(res.latents, want, rtol=1e-4, atol=1e-5)
    assert res.state["config"]["sha256"] == pre.sha256_of(path)
    # the saved state rebuilds the model (rule encode_eval) and encodes alike
    again = encode_images("pretrained", load_model(res.state), images, rep_cfg=cfg(path))
    np.testing.assert_array_equal(again, res.latents)
    # a file holding {"state_dict": ...} and no classifier loads too
    sd = {k: v for k, v in torch.load(path, weights_only=True).items() if not k.startswith("fc.")}
    wrapped = path.with_name("wrapped.pth")
    torch.save({"state_dict": sd, "epoch": 3}, wrapped)
    np.testing.assert_array_equal(fit(images, cfg(wrapped)).latents, res.latents)


def test_refuses_a_missing_or_mismatched_file_with_one_line(images, checkpoint, tmp_path):
    path, _ = checkpoint
    with pytest.raises(pre.WeightsFileError) as err:
        fit(images, cfg(tmp_path / "nope.pth"))
    assert str(err.value).startswith("representation.pretrained.path: ") and "nope.pth not found" in str(err.value)
    assert "\n" not in str(err.value)
    with pytest.raises(pre.WeightsFileError, match=r"^representation.pretrained.sha256: .* has SHA-256 "
                                                   r"[0-9a-f]{64}, not 0{64}"):
        fit(images, cfg(path, sha256="0" * 64))
    ok = fit(images, cfg(path, sha256=pre.sha256_of(path).upper()))  # a right digest passes
    assert ok.latents.shape == (24, 512)
    # weights of another architecture
    from torchvision.models import resnet34
    other = tmp_path / "resnet34.pth"
    torch.save(resnet34(weights=None).state_dict(), other)
    with pytest.raises(pre.WeightsFileError) as err:
        fit(images, cfg(other))
    msg = str(err.value)
    assert msg.startswith(f"representation.pretrained.path: {other} does not hold torchvision resnet18 "
                          f"weights: ") and "unexpected (e.g. layer1.2." in msg and "\n" not in msg
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(pre.WeightsFileError, match="is not a PyTorch weights file"):
        fit(images, cfg(junk))


def _config(tmp_path, pretrained):
    c = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    c.update(out_dir=str(tmp_path / "out"), tsne={"datasets": []},
             strategies=["random", "coreset", "coreset_pretrained"])
    c["representation"]["pretrained"] = pretrained
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(c))
    return path


def test_config_checks_the_file_before_any_job(tmp_path, checkpoint):
    path, _ = checkpoint
    assert load_config(_config(tmp_path, {"path": str(path)}))
    for given, line in [
        ({}, "representation.pretrained.path: the weights file of torchvision resnet18 is required"),
        ({"path": str(tmp_path / "x.pth")}, f"representation.pretrained.path: {tmp_path / 'x.pth'} not found"),
        ({"path": str(path), "sha256": "ab" * 32}, "representation.pretrained.sha256: "),
        ({"path": str(tmp_path / "x.pth"), "url": "https://example.org/x.pth"},
         "representation.pretrained.sha256: required with representation.pretrained.url"),
        ({"path": str(path), "widht": 3}, "representation.pretrained: unknown key"),
        ({"path": str(path), "source": "hub"}, "representation.pretrained.source: 'hub' is not one of"),
        ({"path": str(path), "sha256": "abc"}, "representation.pretrained.sha256: 'abc' does not match"),
    ]:
        with pytest.raises(ConfigError) as err:
            load_config(_config(tmp_path, given))
        lines = str(err.value).splitlines()
        assert len(lines) == 2 and line in lines[1], lines
    # not in use: not checked
    c = yaml.safe_load(_config(tmp_path, {}).read_text())
    c["strategies"] = ["random", "coreset"]
    p = tmp_path / "unused.yaml"
    p.write_text(yaml.safe_dump(c))
    assert load_config(p)


def test_planning_imports_no_torch_and_the_digest_is_the_files(tmp_path, checkpoint):
    path, _ = checkpoint
    code = ("import sys; from alvae import vocabulary; m = vocabulary.kind_files_module("
            f"'pretrained'); print(m.files_identity({{'path': {str(path)!r}}})); "
            "print('torch' in sys.modules)")
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    ident, torch_loaded = out.stdout.split()[-2:]
    assert ident == pre.sha256_of(path) and torch_loaded == "False"


@pytest.mark.workflow
def test_the_workflow_retrains_when_the_weights_file_changes(tmp_path, checkpoint):
    """The file's digest is in the train_representation job's params: a replaced file reruns it, and
    the AL runs after it; the same file reruns nothing."""
    from torchvision.models import resnet18

    from test_workflow import job_counts, smk

    weights = tmp_path / "w.pth"
    weights.write_bytes(checkpoint[0].read_bytes())
    c = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    c.update(out_dir=str(tmp_path / "out"), tsne={"datasets": []}, strategies=["random"],
             gpu={"lock_dir": str(tmp_path / "locks")}, ceiling={"enabled": False},
             al={"initial_labels": 20, "labels_per_round": 20, "final_labels": 40, "seeds": [0]},
             task_model={"arch": "linear", "features": "pretrained", "optimizer": "adam",
                         "lr": 0.01, "epochs_initial": 5, "epochs_per_round": 0,
                         "batch_size": 16})
    c["datasets"]["digits"]["subset_size"] = 100
    c["representation"]["pretrained"] = {"path": str(weights), "image_size": 32}
    cfg_path = tmp_path / "c.yaml"
    cfg_path.write_text(yaml.safe_dump(c))
    proc = smk("--cores", "1", "--resources", "gpu=1", "--configfile", str(cfg_path))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    out = Path(c["out_dir"])
    assert np.load(out / "representation/digits/pretrained/shared/latents.npy").shape == (100, 512)
    proc = smk("-n", "--cores", "1", "--configfile", str(cfg_path))
    assert proc.returncode == 0 and job_counts(proc.stdout + proc.stderr) == {}
    torch.manual_seed(1)
    torch.save(resnet18(weights=None).state_dict(), weights)  # other weights, same name
    proc = smk("-n", "--cores", "1", "--configfile", str(cfg_path))
    counts = job_counts(proc.stdout + proc.stderr)
    assert counts.get("train_representation") == 1 and counts.get("encode_eval") == 1
    assert counts.get("al_run") == 1


def test_adding_pretrained_touched_the_registry_and_its_own_file_only():
    """As for simclr: the name appears in the code, the schema and the rules only in the
    kind's own file and in one line of the kinds' registry."""
    assert "pretrained" in REPRESENTATION_KINDS
    found = {}
    for path in [REPO / "Snakefile", *(REPO / "src").rglob("*.py"),
                 *(REPO / "workflow").rglob("*.py"), *(REPO / "workflow").rglob("*.smk"),
                 *(REPO / "workflow").rglob("*.yaml")]:
        lines = [ln for ln in path.read_text().splitlines() if re.search(r'"pretrained"', ln)]
        if lines:
            found[str(Path(path).relative_to(REPO))] = lines
    found.pop("src/alvae/representations/pretrained.py", None)  # its own file
    assert set(found) == {"src/alvae/vocabulary.py"}, found
    assert len(found["src/alvae/vocabulary.py"]) == 1
