"""GPU leases for Snakemake jobs.

Snakemake only *counts* the ``gpu`` resource; it does not say which GPU a job
may use. Each AL job therefore leases a slot itself: one lock file per GPU
slot, taken with a non-blocking ``flock``. The kernel releases the lock when
the process dies, even on SIGKILL, so a killed job never leaves a GPU taken.
``CUDA_VISIBLE_DEVICES`` is set before CUDA starts, so ``--resources gpu=4``
puts four jobs on four different GPUs (or ``jobs_per_gpu`` jobs on each).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional


def visible_gpus() -> list[str]:
    """GPU ids this process may use: those in ``CUDA_VISIBLE_DEVICES`` when it
    is set (SLURM sets it to the allocation), else those ``nvidia-smi`` lists.
    ``ALVAE_FAKE_GPUS=N`` pretends there are N GPUs (tests)."""
    fake = os.environ.get("ALVAE_FAKE_GPUS")
    if fake is not None:
        return [str(i) for i in range(int(fake))]
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [d.strip() for d in env.split(",") if d.strip() and d.strip() != "-1"]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(out.stdout.splitlines()) if line.startswith("GPU ")]


def default_lock_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"alvae-gpu-locks-{os.getuid()}"


class Lease:
    """A held GPU slot (``gpu`` is None for the CPU)."""

    def __init__(self, gpu: Optional[str], slot: Optional[int], fd: Optional[int]):
        self.gpu, self.slot, self._fd = gpu, slot, fd

    @property
    def device(self) -> str:
        return "cuda:0" if self.gpu is not None else "cpu"

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def try_lease(gpus: list[str], jobs_per_gpu: int, lock_dir: Path) -> Optional[Lease]:
    """Take the first free slot (GPU-major: fill every GPU once before sharing)."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    for slot in range(jobs_per_gpu):
        for gpu in gpus:
            fd = os.open(lock_dir / f"gpu{gpu}.slot{slot}.lock", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return Lease(gpu, slot, fd)
    return None


@contextlib.contextmanager
def lease_device(use_gpu: bool = True, jobs_per_gpu: int = 1, lock_dir: str | Path | None = None,
                 wait_s: float = 3600.0, log: Callable[[str], None] = print):
    """Lease a GPU slot and restrict CUDA to it; yield the torch device string.

    Falls back to the CPU (and says so) when no GPU is visible or ``use_gpu``
    is false (``--resources gpu=0``). Must run before CUDA is initialised.
    """
    gpus = visible_gpus() if use_gpu else []
    if not gpus:
        why = "gpu resource is 0" if not use_gpu else "no GPU visible"
        log(f"device: cpu ({why})")
        yield "cpu"
        return
    lock_dir = Path(lock_dir) if lock_dir else default_lock_dir()
    deadline = time.monotonic() + wait_s
    lease = try_lease(gpus, jobs_per_gpu, lock_dir)
    while lease is None:
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"no free GPU slot among GPUs {gpus} × {jobs_per_gpu} after {wait_s:.0f}s; is the "
                f"--resources gpu limit larger than GPUs × gpu.jobs_per_gpu?"
            )
        time.sleep(2.0)
        lease = try_lease(gpus, jobs_per_gpu, lock_dir)
    os.environ["CUDA_VISIBLE_DEVICES"] = lease.gpu
    log(f"device: GPU {lease.gpu} (slot {lease.slot} of {jobs_per_gpu}), lock in {lock_dir}")
    try:
        if not os.environ.get("ALVAE_FAKE_GPUS"):
            import torch

            if not torch.cuda.is_available():
                log("device: cpu (CUDA not available to torch)")
                yield "cpu"
                return
        yield lease.device
    finally:
        lease.release()


def job_device(gpu_resource: int, gpu_cfg: dict, log: Callable[[str], None] = print):
    """:func:`lease_device` for a workflow job: ``gpu_resource`` is the job's
    ``resources.gpu`` (0 means CPU), ``gpu_cfg`` the config's ``gpu`` section."""
    return lease_device(gpu_resource > 0, gpu_cfg["jobs_per_gpu"], gpu_cfg["lock_dir"], log=log)
