"""A real single-node SLURM cluster on this machine, for tests/test_slurm.py.

Debian's munge, slurmctld and slurmd (installed by .ci/install-slurm.sh) run as
plain background processes (there is no systemd) from a generated slurm.conf in
a private temp dir: state, spool, logs, the munge key and socket all live there
and the daemons listen on free ports, so nothing of the machine's own SLURM or
munge setup is used or touched. Client tools and Snakemake find the cluster
through the SLURM_CONF environment variable (`SlurmCluster.env()`).

The node has the machine's CPUs and memory, two partitions (`cpu`, the default,
and `gpu`, named as in profiles/slurm/config.yaml) and two fake GPUs: gres/gpu
needs device files, so gres.conf names two symlinks to /dev/null and /dev/zero.
SLURM then schedules `--gpus=N` and sets CUDA_VISIBLE_DEVICES in the job; the
code finds no CUDA device and runs on the CPU. There is no accounting (no
slurmdbd, so no sacct): job states come from squeue, and MinJobAge keeps
finished jobs visible to squeue and scontrol for an hour.

Use it as a context manager; leaving it (also on an exception) cancels the
cluster's jobs and stops the three daemons by their process ids.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

INSTALL_HINT = (
    "run `sudo .ci/install-slurm.sh .venv` (apt packages slurmctld, slurmd, "
    "slurm-client, munge + the pinned snakemake-executor-plugin-slurm)"
)
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sinfo", "sbatch", "squeue", "scontrol", "scancel", "srun")
PARTITIONS = ("cpu", "gpu")  # the partition names profiles/slurm uses
N_GPUS = 2


class SlurmUnavailable(RuntimeError):
    """SLURM is not installed here, or the cluster did not come up."""


def _which(name: str) -> str | None:
    # The daemons live in /usr/sbin, which a non-login PATH may lack.
    path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin"
    return shutil.which(name, path=path)


def missing_programs() -> list[str]:
    return [p for p in DAEMONS + CLIENTS + ("munge",) if _which(p) is None]


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it when the test process dies, so a
    killed pytest leaves no daemons behind (Linux prctl PR_SET_PDEATHSIG)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _real_memory_mb() -> int:
    """Memory the node may advertise: slurmd drains a node claiming more than it has."""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024 - 256
    raise SlurmUnavailable("cannot read MemTotal from /proc/meminfo")


def _tail(path: Path, n: int = 40) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"({path} missing)"
    return "\n".join(lines[-n:])


class SlurmCluster:
    """munged + slurmctld + slurmd of one node, all under `root`."""

    def __init__(self, root: Path | None = None, cpus: int | None = None):
        # Short path: the munge socket path must stay under 108 bytes.
        self.root = Path(root or tempfile.mkdtemp(prefix="alvae-slurm-"))
        self.root.chmod(0o755)  # munged wants the socket dir reachable by all
        self.node = socket.gethostname().split(".")[0]
        self.cpus = cpus or os.cpu_count() or 1
        self.mem_mb = _real_memory_mb()
        self.conf = self.root / "slurm.conf"
        self.log_dir = self.root / "log"
        self.munge_socket = self.root / "munge" / "munge.socket"
        self.procs: dict[str, subprocess.Popen] = {}

    # ----- configuration -------------------------------------------------
    def _write_config(self) -> None:
        r = self.root
        for d in ("log", "state", "spool", "munge", "dev", "bin"):
            (r / d).mkdir(parents=True, exist_ok=True)
        (r / "munge").chmod(0o755)
        key_dir = r / "munge-key"
        key_dir.mkdir(mode=0o700, exist_ok=True)
        key = key_dir / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        self.munge_key = key
        # gres/gpu drops GPUs without a device file; any char device will do.
        for i, dev in zip(range(N_GPUS), ("/dev/null", "/dev/zero")):
            link = r / "dev" / f"gpu{i}"
            if not link.is_symlink():
                link.symlink_to(dev)
        # The slurm-jobstep plugin drops every SLURM_* variable (SLURM_CONF too)
        # before its srun inside the job, so that srun would look for
        # /etc/slurm/slurm.conf, which a real cluster node has and this test
        # must not write. A PATH shim puts SLURM_CONF back for srun only.
        shim = r / "bin" / "srun"
        shim.write_text(
            f'#!/bin/sh\nSLURM_CONF={self.conf}; export SLURM_CONF\nexec {_which("srun")} "$@"\n'
        )
        shim.chmod(0o755)
        ctld_port, slurmd_port = _free_port(), _free_port()
        while slurmd_port == ctld_port:
            slurmd_port = _free_port()
        self.conf.write_text(
            f"""\
# Generated by tests/slurm_cluster.py: a throwaway single-node test cluster.
ClusterName=alvaetest
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket}
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={self.log_dir}/slurmctld.log
SlurmdLogFile={self.log_dir}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
# squeue-based job status needs finished jobs kept (seconds); the test also
# reads finished jobs back with squeue/scontrol at the end of a run
MinJobAge=3600
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
GresTypes=gpu
NodeName={self.node} NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory={self.mem_mb} Gres=gpu:{N_GPUS} State=UNKNOWN
PartitionName={PARTITIONS[0]} Nodes={self.node} Default=YES MaxTime=INFINITE State=UP
PartitionName={PARTITIONS[1]} Nodes={self.node} MaxTime=INFINITE State=UP
"""
        )
        (r / "gres.conf").write_text(
            f"NodeName={self.node} Name=gpu File={r}/dev/gpu[0-{N_GPUS - 1}]\n"
        )

    def env(self) -> dict[str, str]:
        """os.environ plus SLURM_CONF, for the client tools and Snakemake."""
        env = dict(os.environ)
        env["SLURM_CONF"] = str(self.conf)
        env["PATH"] = f"{self.root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        # Settings of an enclosing allocation would leak into sbatch/srun.
        for k in list(env):
            if k.startswith(("SLURM_JOB", "SLURM_STEP", "SBATCH_", "SRUN_", "SALLOC_")):
                del env[k]
        return env

    # ----- processes ------------------------------------------------------
    def _spawn(self, name: str, argv: list[str]) -> None:
        out = open(self.log_dir / f"{name}.out", "wb")
        try:
            self.procs[name] = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env(),
                start_new_session=True,  # not hit by the terminal's Ctrl-C
                preexec_fn=_die_with_parent,
            )
        finally:
            out.close()

    def _check_alive(self) -> None:
        for name, p in self.procs.items():
            if p.poll() is not None:
                raise SlurmUnavailable(
                    f"{name} exited with status {p.returncode} while the cluster was "
                    f"coming up.\n{self.diagnostics()}"
                )

    def run(self, *argv: str, timeout: float = 30, check: bool = True) -> str:
        p = subprocess.run(
            list(argv), env=self.env(), capture_output=True, text=True, timeout=timeout
        )
        if check and p.returncode != 0:
            raise SlurmUnavailable(
                f"`{' '.join(argv)}` failed ({p.returncode}): {p.stderr.strip()}"
            )
        return p.stdout

    def start(self, timeout: float = 90) -> "SlurmCluster":
        missing = missing_programs()
        if missing:
            raise SlurmUnavailable(
                f"SLURM/munge programs not found: {', '.join(missing)}; {INSTALL_HINT}"
            )
        if os.geteuid() != 0:
            raise SlurmUnavailable("slurmd must run as root (SlurmdUser=root): run the test as root")
        self._write_config()
        r = self.root
        self._spawn(
            "munged",
            [
                _which("munged"), "--foreground", "--force",
                f"--key-file={self.munge_key}",
                f"--socket={self.munge_socket}",
                f"--pid-file={r}/munge/munged.pid",
                f"--seed-file={r}/munge/munged.seed",
                f"--log-file={self.log_dir}/munged.log",
            ],
        )
        self._wait(lambda: self.munge_socket.exists(), timeout=20, what="munged socket")
        self._spawn("slurmctld", [_which("slurmctld"), "-D", "-c", "-f", str(self.conf)])
        self._wait(
            lambda: self.run("scontrol", "ping", check=False).find("is UP") >= 0,
            timeout=timeout, what="slurmctld to answer `scontrol ping`",
        )
        self._spawn("slurmd", [_which("slurmd"), "-D", "-N", self.node, "-f", str(self.conf)])
        self._wait(self._node_idle, timeout=timeout, what=f"node {self.node} to be idle")
        return self

    def _node_idle(self) -> bool:
        out = self.run("sinfo", "-h", "-N", "-o", "%N %t", check=False)
        states = {line.split()[1] for line in out.splitlines() if len(line.split()) == 2}
        return states == {"idle"}

    def _wait(self, cond, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                if cond():
                    return
            except (subprocess.TimeoutExpired, SlurmUnavailable):
                pass
            time.sleep(0.5)
        raise SlurmUnavailable(f"timed out after {timeout:.0f}s waiting for {what}.\n"
                               f"{self.diagnostics()}")

    def diagnostics(self) -> str:
        parts = []
        for name in ("slurmctld.log", "slurmd.log", "munged.out", "slurmctld.out", "slurmd.out"):
            parts.append(f"--- {name} (tail) ---\n{_tail(self.log_dir / name, 25)}")
        return "\n".join(parts)

    def ctld_log(self) -> str:
        return (self.log_dir / "slurmctld.log").read_text(errors="replace")

    def allocated_jobs(self) -> dict[str, str]:
        """SLURM job id -> partition of every job slurmctld started, from its log
        (`sched: Allocate JobId=..` of the main scheduler, `Started JobId=.. in
        <partition>` of the backfill scheduler)."""
        log = self.ctld_log()
        jobs = dict(re.findall(r"sched: Allocate JobId=(\d+) .*?Partition=(\S+)", log))
        jobs.update(re.findall(r"Started JobId=(\d+) in (\S+) on ", log))
        return jobs

    def show_job(self, job_id: str) -> dict[str, str]:
        """`scontrol show job` of one job as a dict (finished jobs too, for MinJobAge)."""
        out = self.run("scontrol", "show", "job", "--oneliner", str(job_id))
        return dict(kv.split("=", 1) for kv in out.split() if "=" in kv)

    def job_states(self) -> dict[str, str]:
        """SLURM job id -> state of every job squeue still knows (MinJobAge)."""
        out = self.run("squeue", "--states=all", "--noheader", "--format=%i|%T", check=False)
        return dict(line.split("|", 1) for line in out.split() if "|" in line)

    def stop(self) -> None:
        """Cancel the jobs, then stop slurmd, slurmctld and munged by their PIDs."""
        if self.procs.get("slurmctld") and self.procs["slurmctld"].poll() is None:
            with contextlib.suppress(Exception):
                self.run("scancel", "--user", str(os.getuid()), timeout=10, check=False)
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    states = set(self.job_states().values())
                    if not states & {"RUNNING", "PENDING", "COMPLETING", "CONFIGURING"}:
                        break
                    time.sleep(0.5)
        for name in ("slurmd", "slurmctld", "munged"):
            p = self.procs.pop(name, None)
            if p is None or p.poll() is not None:
                continue
            with contextlib.suppress(ProcessLookupError):
                p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    p.kill()
                p.wait(timeout=5)

    def __enter__(self) -> "SlurmCluster":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
