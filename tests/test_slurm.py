"""The workflow on a real single-node SLURM cluster, through profiles/slurm.

tests/slurm_cluster.py starts munged, slurmctld and slurmd from Debian's
packages (.ci/install-slurm.sh installs them and the executor plugin); the
workflow then runs with `snakemake --profile <profiles/slurm> --workflow-profile
none`, every rule job going through sbatch. Missing packages or a cluster that
does not come up FAIL these tests (they never skip).

The profile is used as written except that CPUs and memory are capped to what
this 2-core node can run two at a time (`capped_profile`); partitions, the GPU
request and all other keys are tested unchanged.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from slurm_cluster import INSTALL_HINT, SlurmCluster, SlurmUnavailable, missing_programs

pytestmark = pytest.mark.slurm

REPO = Path(__file__).resolve().parent.parent
PROFILE = REPO / "profiles" / "slurm" / "config.yaml"
TINY = REPO / "tests" / "configs" / "tiny.yaml"


def rules_asking_for_a_gpu() -> set[str]:
    """The rules whose `resources:` declare `gpu=N`, read from workflow/rules/*.smk, so
    that a new GPU rule is checked here without anyone listing it."""
    found = set()
    for smk in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"^(?=rule \w+:)", smk.read_text(), flags=re.M):
            head = re.match(r"rule (\w+):", block)
            if head and re.search(r"^ +gpu=\d", block, re.M):  # only `resources:` takes key=value
                found.add(head.group(1))
    return found


GPU_RULES = rules_asking_for_a_gpu()
# Per job on the test node: two jobs fit side by side on 2 CPUs.
CAPS = {"cpus_per_task": 1, "mem_mb": 3000}
# Test-only options on top of the profile: poll job states every few seconds
# (the profile's default first waits 40 s) and keep the logs of this run apart.
FAST = ["--slurm-init-seconds-before-status-checks", "2", "--verbose"]
RUN_TIMEOUT = 420

SBATCH_RE = re.compile(r"^sbatch call: (sbatch .*)$", re.M)
SUBMIT_RE = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (.+?)\)\.")


# ----- fixtures ---------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster():
    missing = missing_programs()
    if missing:
        pytest.fail(f"SLURM is not installed here (missing {', '.join(missing)}): {INSTALL_HINT}",
                    pytrace=False)
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.fail(f"snakemake-executor-plugin-slurm is not in {sys.prefix}: {INSTALL_HINT}",
                    pytrace=False)
    c = SlurmCluster()
    try:
        c.start()
    except SlurmUnavailable as e:
        c.stop()
        shutil.rmtree(c.root, ignore_errors=True)
        pytest.fail(f"the test SLURM cluster did not come up: {e}", pytrace=False)
    try:
        yield c
    finally:
        c.stop()
        shutil.rmtree(c.root, ignore_errors=True)


def capped_profile(dest: Path) -> Path:
    """profiles/slurm with cpus_per_task and mem_mb capped to the test node."""
    prof = yaml.safe_load(PROFILE.read_text())
    for res in [prof["default-resources"], *prof["set-resources"].values()]:
        for key, cap in CAPS.items():
            if key in res:
                res[key] = min(int(res[key]), cap)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "config.yaml").write_text(yaml.safe_dump(prof, sort_keys=False))
    return dest


def snakemake(cluster: SlurmCluster, args: list[str], log: Path, cwd: Path) -> str:
    """Run Snakemake (this interpreter, so the jobs use the same venv); return its log."""
    cmd = [sys.executable, "-m", "snakemake", *args]
    with open(log, "w") as f:
        try:
            p = subprocess.run(cmd, cwd=cwd, env=cluster.env(), stdout=f,
                               stderr=subprocess.STDOUT, timeout=RUN_TIMEOUT)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    text = log.read_text(errors="replace")
    if rc != 0:
        queue = cluster.run("squeue", "--states=all", "-o", "%i %j %P %T %R", check=False)
        pytest.fail(
            f"snakemake on SLURM ended with {rc}: {' '.join(cmd)}\n"
            f"--- snakemake log (tail) ---\n{_tail(text, 60)}\n"
            f"--- squeue ---\n{queue}\n{cluster.diagnostics()}",
            pytrace=False,
        )
    return text


def _tail(text: str, n: int) -> str:
    return "\n".join(text.splitlines()[-n:])


def sbatch_calls(log_text: str) -> list[tuple[str, str]]:
    """(rule, sbatch command line) of every submission, from the --verbose log."""
    calls = []
    for call in SBATCH_RE.findall(log_text):
        m = re.search(r"--output \S*?/rule_(\w+?)/", call)
        assert m, f"no rule_<name> log path in sbatch call: {call[:300]}"
        calls.append((m.group(1), call.split(" --wrap=")[0]))
    return calls


def job_stats(log_text: str) -> dict[str, int]:
    """Snakemake's 'Job stats' table: rule -> number of jobs."""
    m = re.search(r"Job stats:\n(.*?)\n\s*total\s+\d+", log_text, re.S)
    assert m, "no 'Job stats' table in the snakemake log"
    rows = [line.split() for line in m.group(1).splitlines()]
    return {r[0]: int(r[1]) for r in rows if len(r) == 2 and r[1].isdigit()}


def check_went_through_slurm(cluster: SlurmCluster, text: str, local_rules: set[str]):
    """Every non-local job was an sbatch job that SLURM allocated and completed,
    GPU rules on the gpu partition with --gpus=1, the others on cpu without."""
    stats = job_stats(text)
    calls = sbatch_calls(text)
    submitted = SUBMIT_RE.findall(text)
    expected = {r: n for r, n in stats.items() if r not in local_rules}
    got: dict[str, int] = {}
    for rule, _ in calls:
        got[rule] = got.get(rule, 0) + 1
    assert got == expected, f"sbatch submissions per rule {got} != jobs per rule {expected}"
    assert len(submitted) == len(calls)

    for rule, call in calls:
        for flag in ("-p ", "-t ", "--mem ", "--cpus-per-task="):
            assert f" {flag}" in call, f"{rule}: no {flag.strip()} in {call}"
        if rule in GPU_RULES:
            assert " --gpus=1" in call and " -p gpu " in call, f"{rule}: {call}"
            assert "--gres" not in call, f"{rule} asks for its GPU twice: {call}"
        else:
            assert "--gpus" not in call and " -p cpu " in call, f"{rule}: {call}"

    slurm_ids = {sid: Path(logf) for _, sid, logf in submitted}
    allocated = cluster.allocated_jobs()
    states = cluster.job_states()
    for sid, logf in slurm_ids.items():
        rule = re.search(r"/rule_(\w+?)/", str(logf)).group(1)
        assert allocated.get(sid) == ("gpu" if rule in GPU_RULES else "cpu"), (
            f"slurmctld did not allocate job {sid} ({rule}) on the right partition: "
            f"{allocated.get(sid)}"
        )
        assert states.get(sid) == "COMPLETED", f"SLURM job {sid} ({rule}): {states.get(sid)}"
        assert logf.is_file() and logf.stat().st_size > 0, f"no SLURM log {logf}"
        job = cluster.show_job(sid)
        assert job["JobState"] == "COMPLETED" and job["ExitCode"] == "0:0", job
        assert job["Comment"].startswith(f"rule_{rule}"), job
        tres = job.get("TresPerJob", "")
        if rule in GPU_RULES:
            assert "gpu:1" in tres, f"{rule}: SLURM job {sid} has no GPU: {job}"
        else:
            assert "gpu" not in tres, f"{rule}: SLURM job {sid} got a GPU: {job}"
    return calls


# ----- tests --------------------------------------------------------------------
def test_profile_maps_resources_to_plugin_keys():
    """The profile's keys are the ones snakemake-executor-plugin-slurm reads."""
    prof = yaml.safe_load(PROFILE.read_text())
    assert prof["executor"] == "slurm"
    assert prof["slurm-status-command"] == "squeue"
    assert int(prof["jobs"]) > 0 and int(prof["latency-wait"]) > 0
    for key in ("slurm_partition", "runtime", "mem_mb", "cpus_per_task"):
        assert key in prof["default-resources"], key
    assert "gpu" not in prof["default-resources"]
    assert {"al_run", "train_representation", "tsne_select", "ceiling"} <= GPU_RULES, GPU_RULES
    missing = GPU_RULES - set(prof["set-resources"])
    assert not missing, f"GPU rules with no set-resources entry (they would go to the cpu partition): {missing}"
    for rule in GPU_RULES:
        res = prof["set-resources"][rule]
        assert res["gpu"] == 1 and res["slurm_partition"] != prof["default-resources"]["slurm_partition"]
        assert "gres" not in res, "gpu and gres together make sbatch ask for GPUs twice"
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.fail(f"snakemake-executor-plugin-slurm is not installed: {INSTALL_HINT}")
    help_text = subprocess.run([sys.executable, "-m", "snakemake", "--help"],
                               capture_output=True, text=True, timeout=120).stdout
    for key in prof:
        if key.startswith("slurm-"):
            assert f"--{key}" in help_text, f"the installed plugin has no --{key}"


def test_toy_workflow_gets_slurm_allocations_and_a_gpu(cluster, tmp_path):
    """A two-rule workflow: the jobs run inside SLURM allocations, the GPU rule
    (named like ours) in the gpu partition with one (fake) GPU bound to it."""
    wd = tmp_path / "toy"
    wd.mkdir()
    (wd / "Snakefile").write_text(
        "localrules: all\n"
        "rule all:\n    input: 'cpu.txt', 'gpu.txt'\n"
        "rule cpu_job:\n    output: 'cpu.txt'\n"
        "    shell: 'echo $SLURM_JOB_ID $SLURM_JOB_PARTITION gpus=${{SLURM_GPUS_ON_NODE:-none}} > {output}'\n"
        "rule al_run:\n    input: 'cpu.txt'\n    output: 'gpu.txt'\n    resources: gpu=1\n"
        "    shell: 'echo $SLURM_JOB_ID $SLURM_JOB_PARTITION gpus=${{SLURM_GPUS_ON_NODE:-none}}"
        " cuda=${{CUDA_VISIBLE_DEVICES:-none}} > {output}'\n"
    )
    profile = capped_profile(tmp_path / "profile")
    text = snakemake(
        cluster,
        ["--profile", str(profile), "--workflow-profile", "none", *FAST,
         "--slurm-logdir", str(tmp_path / "slurm_logs"), "--directory", str(wd),
         "--snakefile", str(wd / "Snakefile")],
        tmp_path / "snakemake.log", cwd=wd,
    )
    check_went_through_slurm(cluster, text, local_rules={"all"})
    cpu_id, cpu_part, cpu_gpus = (wd / "cpu.txt").read_text().split()
    gpu_id, gpu_part, gpus, cuda = (wd / "gpu.txt").read_text().split()
    assert cpu_id.isdigit() and (cpu_part, cpu_gpus) == ("cpu", "gpus=none")
    assert gpu_id.isdigit() and gpu_id != cpu_id
    assert (gpu_part, gpus, cuda) == ("gpu", "gpus=1", "cuda=0")


def test_workflow_runs_on_slurm(cluster, tmp_path):
    """The real workflow, tests/configs/tiny.yaml, to the end through sbatch."""
    for f in (REPO / "Snakefile", TINY):
        assert f.is_file(), f"{f} is missing"
    out = tmp_path / "out"
    profile = capped_profile(tmp_path / "profile")
    common = ["--profile", str(profile), "--workflow-profile", "none",
              "--configfile", str(TINY), "--config", f"out_dir={out}"]
    text = snakemake(
        cluster,
        [*common, *FAST, "--slurm-logdir", str(tmp_path / "slurm_logs")],
        tmp_path / "snakemake.log", cwd=REPO,
    )
    local = set(re.findall(r"^localrule (\w+):", text, re.M)) | {"all"}
    calls = check_went_through_slurm(cluster, text, local_rules=local)
    rules = {rule for rule, _ in calls}
    assert {"al_run", "train_representation"} <= rules, f"no GPU rule ran on the cluster: {rules}"
    # Everything is up to date now: the run really produced all targets.
    dry = subprocess.run([sys.executable, "-m", "snakemake", *common, "--dry-run"],
                         cwd=REPO, env=cluster.env(), capture_output=True, text=True,
                         timeout=180)
    assert dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr, (
        _tail(dry.stdout + dry.stderr, 30))
