"""GPU leases: different jobs get different devices; SIGKILL frees the slot."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from alvae.training.devices import lease_device, try_lease, visible_gpus
from conftest import REPO


def test_two_leases_get_different_gpus(tmp_path):
    a = try_lease(["0", "1"], 1, tmp_path)
    b = try_lease(["0", "1"], 1, tmp_path)
    assert {a.gpu, b.gpu} == {"0", "1"}
    assert try_lease(["0", "1"], 1, tmp_path) is None  # both taken
    a.release()
    c = try_lease(["0", "1"], 1, tmp_path)
    assert c.gpu == a.gpu
    b.release(), c.release()


def test_jobs_per_gpu_fills_each_gpu_before_sharing(tmp_path):
    leases = [try_lease(["0", "1"], 2, tmp_path) for _ in range(4)]
    assert [(l.gpu, l.slot) for l in leases] == [("0", 0), ("1", 0), ("0", 1), ("1", 1)]
    assert try_lease(["0", "1"], 2, tmp_path) is None
    for lease in leases:
        lease.release()


HOLD = r"""
import sys, time
from alvae.training.devices import lease_device
with lease_device(True, 1, sys.argv[1], log=lambda m: print(m, flush=True)) as dev:
    import os
    print("VISIBLE", os.environ["CUDA_VISIBLE_DEVICES"], flush=True)
    time.sleep(60)
"""


def _holder(lock_dir):
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), ALVAE_FAKE_GPUS="2")
    env.pop("CUDA_VISIBLE_DEVICES", None)
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(lock_dir)], stdout=subprocess.PIPE,
                            text=True, env=env)
    for line in proc.stdout:
        if line.startswith("VISIBLE"):
            return proc, line.split()[1]
    raise AssertionError("holder never leased a device")


def test_concurrent_processes_get_different_devices_and_sigkill_frees(tmp_path):
    p1, g1 = _holder(tmp_path)
    p2, g2 = _holder(tmp_path)
    try:
        assert {g1, g2} == {"0", "1"}
        assert try_lease(["0", "1"], 1, tmp_path) is None
        p1.send_signal(signal.SIGKILL)
        p1.wait()
        time.sleep(0.1)
        lease = try_lease(["0", "1"], 1, tmp_path)  # the kernel released the killed job's lock
        assert lease is not None and lease.gpu == g1
        lease.release()
    finally:
        for p in (p1, p2):
            p.kill()
            p.wait()


def test_cpu_fallback_says_so(monkeypatch):
    monkeypatch.setenv("ALVAE_FAKE_GPUS", "0")
    lines = []
    with lease_device(True, log=lines.append) as dev:
        assert dev == "cpu"
    assert lines == ["device: cpu (no GPU visible)"]
    with lease_device(False, log=lines.append) as dev:
        assert dev == "cpu"
    assert lines[-1] == "device: cpu (gpu resource is 0)"


def test_slurm_allocation_respected(monkeypatch):
    monkeypatch.delenv("ALVAE_FAKE_GPUS", raising=False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,5")
    assert visible_gpus() == ["2", "5"]
