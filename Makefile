# Two commands take a fresh clone to results: `make demo` and `make test`.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
CORES   ?= 2
DEMO_OUT ?= results/demo

.PHONY: venv demo test check report bench clean-demo lint sysdeps

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

# The whole workflow on the embedded digits data (CPU), ending in the HTML report.
demo: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --resources gpu=$(CORES) --configfile presets/demo.yaml
	$(BIN)/snakemake --cores $(CORES) --configfile presets/demo.yaml \
		--report $(DEMO_OUT)/report.html
	@echo "report: $(DEMO_OUT)/report.html"

# The report of the thesis run (config.yaml) once it has finished.
report: $(STAMP)
	$(BIN)/snakemake --report results/thesis/report.html

# The whole suite, CI's command: $(CORES) pytest workers (pytest-xdist; a test file's tests
# stay on one worker, so its module fixtures run once), one torch thread each.
test: $(STAMP) sysdeps
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n $(CORES) --dist loadfile

# The fast check while developing: the library's tests without a Snakemake, SLURM or
# other slow run, after the linters, on $(CORES) workers with one torch thread each (on a
# busy 2-core machine torch's own threads fought over the cores: 27 min). Measured on this
# 2-core machine, quiet, 2026-12-06: pytest 3 min 5 s on one worker, 1 min 33 s on two;
# make check in all (lint included) 1 min 54 s.
# `make test` is the full suite, CI's command.
check: lint
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n $(CORES) --dist loadfile -m "not workflow and not slurm and not slow"

# System packages the tests need (Fashion-MNIST, SLURM): installed with apt as root,
# else the one command to run is printed. Quick when they are there.
sysdeps: $(STAMP)
	bash .ci/setup-system.sh $(VENV)

# ruff (unused or undefined names, import order: pyproject.toml) and Snakemake's own lints
lint: $(STAMP)
	$(BIN)/ruff check src workflow/scripts tests bench
	$(BIN)/snakemake --lint --configfile tests/configs/tiny.yaml

bench: $(STAMP)
	$(BIN)/python bench/bench_coreset.py
	$(BIN)/python bench/bench_training.py
	$(BIN)/python bench/bench_workflow.py

clean-demo:
	rm -rf $(DEMO_OUT)

# The GPU path proved and measured in one command (bench/gpu_check.sh; results and
# summary.md in bench/results/gpu/). One part alone: make gpu-check PART=tests|bench|coreset|grid.
# Uses the venv's python when there is one, else GPU_PY (a GPU machine's own python3).
.PHONY: gpu-check
PART   ?= all
GPU_PY ?= $(if $(wildcard $(BIN)/python),$(BIN)/python,$(PY))
gpu-check:
	PY=$(GPU_PY) PART=$(PART) bash bench/gpu_check.sh
