"""How dataset files are obtained and what they hold, through Snakemake (issue 17):
`download`, `check_md5` and `url` reach the job without being rerun triggers, and the
content of the source files is an input of the pool and evaluation-split rules."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import REPO, medmnist_arrays, write_idx

pytestmark = pytest.mark.workflow


def smk(*args, timeout=600):
    env = {**os.environ, "no_proxy": "127.0.0.1,localhost", "NO_PROXY": "127.0.0.1,localhost"}
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def data_targets(out: Path, name: str) -> list[str]:
    return [str(out / "data" / name / "subset.npz"), str(out / "data" / name / "eval.npz")]


def write_config(tmp: Path, dataset: dict, name: str = "chest") -> Path:
    cfg = {"out_dir": str(tmp / "out"), "strategies": ["random"],
           "datasets": {name: {"subset_size": 40, **dataset}},
           "al": {"initial_labels": 10, "labels_per_round": 10, "final_labels": 20, "seeds": [0]},
           "tsne": {"datasets": []}}
    path = tmp / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def run_data(cfg: Path, name: str = "chest", *extra):
    out = Path(yaml.safe_load(cfg.read_text())["out_dir"])
    return smk(*data_targets(out, name), "--cores", "1", "--configfile", str(cfg), *extra)


def planned(proc) -> str:
    text = proc.stdout + proc.stderr
    return "nothing" if "Nothing to be done" in text else text


@pytest.fixture
def server(tmp_path):
    """A local HTTP server on 127.0.0.1 serving a folder; yields (folder, base URL, hits)."""
    folder = tmp_path / "served"
    folder.mkdir()
    hits = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def do_GET(self):
            hits.append(self.path)
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{httpd.server_address[1]}", hits
    httpd.shutdown()


def serve_chestmnist(folder: Path) -> Path:
    """A small ChestMNIST-layout file (14 labels): another version than the official one."""
    path = folder / "chestmnist.npz"
    np.savez(path, **medmnist_arrays(14, seed=3))
    return path


def test_download_reaches_the_job_and_check_md5_false_accepts_another_version(tmp_path, server):
    folder, base, hits = server
    served = serve_chestmnist(folder)
    root = tmp_path / "data"
    cfg = write_config(tmp_path, {"source": "medmnist", "flag": "chestmnist", "root": str(root),
                                  "download": True, "check_md5": False,
                                  "url": f"{base}/chestmnist.npz"})
    proc = run_data(cfg)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert hits and set(hits) == {"/chestmnist.npz"}
    logs = [(tmp_path / "out" / "logs" / rule / "chest.log").read_text() for rule in ("subset", "eval_split")]
    assert sum("downloading http://127.0.0.1" in log for log in logs) == 1  # the jobs took turns
    assert (root / "chestmnist.npz").read_bytes() == served.read_bytes()
    with np.load(tmp_path / "out" / "data" / "chest" / "eval.npz") as ev:
        assert ev["test_labels"].shape == (30, 14)
    # the next invocation reruns nothing: the downloaded file keeps the identity it was planned with
    assert planned(run_data(cfg, "chest", "-n")) == "nothing"
    # toggling how the file is obtained reruns nothing either
    for change in ({"download": False}, {"url": None}, {"download": False, "url": None}):
        c = yaml.safe_load(cfg.read_text())
        c["datasets"]["chest"].update(change)
        cfg2 = tmp_path / "toggled.yaml"
        cfg2.write_text(yaml.safe_dump(c))
        assert planned(run_data(cfg2, "chest", "-n")) == "nothing", change


def test_check_md5_true_refuses_another_version_naming_the_key(tmp_path, server):
    folder, base, _ = server
    serve_chestmnist(folder)
    root = tmp_path / "data"
    cfg = write_config(tmp_path, {"source": "medmnist", "flag": "chestmnist", "root": str(root),
                                  "download": True, "url": f"{base}/chestmnist.npz"})
    proc = run_data(cfg)  # the download itself fails its MD5 check, in the job
    assert proc.returncode != 0
    # subset and eval_split both fetch; whichever Snakemake started first failed on the MD5
    logs = [f.read_text() for f in sorted((tmp_path / "out" / "logs").glob("*/chest.log"))]
    assert logs and all("Traceback" not in log for log in logs), logs
    assert any("downloaded from" in log and "fails its MD5 check" in log and "check_md5: false" in log
               for log in logs), logs
    assert not (root / "chestmnist.npz").exists() and not list(root.glob(".*.part"))
    # a present file of another version stops the workflow before any job, naming the key
    serve_chestmnist(root)
    proc = run_data(cfg, "chest", "-n")
    assert proc.returncode != 0
    err = proc.stdout + proc.stderr
    assert "MD5 mismatch" in err and "datasets.chest.check_md5: false" in err
    assert "Traceback" not in err


def test_missing_file_without_download_stops_before_any_job(tmp_path):
    cfg = write_config(tmp_path, {"source": "medmnist", "flag": "chestmnist", "root": str(tmp_path / "nope")})
    proc = run_data(cfg, "chest", "-n")
    assert proc.returncode != 0
    err = [l for l in (proc.stdout + proc.stderr).splitlines()
           if l.strip() and not l.startswith("Using workflow specific profile")]
    assert len(err) == 1 and "chestmnist.npz: file not found" in err[0], err
    assert "datasets.chest.download: true" in err[0]


def _write_npz(path: Path, seed: int) -> None:
    np.savez(path, **medmnist_arrays(3, seed=seed))


@pytest.mark.parametrize("source", ["npz", "mnist"])
def test_a_replaced_file_reruns_the_pool_and_a_touch_reruns_nothing(tmp_path, source):
    if source == "npz":
        data = tmp_path / "mine.npz"
        _write_npz(data, seed=0)
        spec = {"source": "npz", "path": str(data)}
    else:
        root = tmp_path / "idx"
        root.mkdir()
        rng = np.random.default_rng(0)
        write_idx(root / "train-images-idx3-ubyte", rng.integers(0, 256, (60, 28, 28), dtype=np.uint8))
        write_idx(root / "train-labels-idx1-ubyte", rng.integers(0, 10, 60).astype(np.uint8))
        write_idx(root / "t10k-images-idx3-ubyte", rng.integers(0, 256, (20, 28, 28), dtype=np.uint8))
        write_idx(root / "t10k-labels-idx1-ubyte", rng.integers(0, 10, 20).astype(np.uint8))
        data = root / "t10k-images-idx3-ubyte.gz"
        spec = {"source": "mnist", "root": str(root)}
    cfg = write_config(tmp_path, spec, name="d")
    proc = run_data(cfg, "d")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert planned(run_data(cfg, "d", "-n")) == "nothing"
    # touched, same content: nothing
    os.utime(data, None)
    assert planned(run_data(cfg, "d", "-n")) == "nothing"
    # replaced by other content: exactly the pool and the evaluation split rerun
    before = hashlib.md5(data.read_bytes()).hexdigest()
    if source == "npz":
        _write_npz(data, seed=1)
    else:
        write_idx(root / "t10k-images-idx3-ubyte", np.random.default_rng(5).integers(0, 256, (20, 28, 28), dtype=np.uint8))
    assert hashlib.md5(data.read_bytes()).hexdigest() != before
    text = planned(run_data(cfg, "d", "-n"))
    assert "rule subset:" in text and "rule eval_split:" in text, text[-2000:]
    assert "params have changed" in text or "Params have changed" in text
