"""``task_model.deterministic``: reproducible kernels on a GPU.

On a GPU the same seed does not by itself give the same model: cuDNN picks
convolution algorithms by timing them (``benchmark``), some kernels add with
atomics in whatever order the threads finish, and cuBLAS splits its work
differently unless it gets a fixed workspace. The paired design (every
strategy of a seed starts from the same round-0 model) needs all three fixed:

* ``torch.use_deterministic_algorithms(True, warn_only=True)``: kernels with a
  deterministic variant use it; an op with none warns once in the job log
  instead of stopping a run that may have hours of work behind it;
* ``torch.backends.cudnn.deterministic = True`` and ``benchmark = False``;
* ``CUBLAS_WORKSPACE_CONFIG=:4096:8``, which cuBLAS reads when its handle is
  made, so :func:`configure` must run before CUDA starts (the AL job calls it
  before it leases a GPU; :func:`alvae.al.loop.run_loop` calls it again, which is
  harmless).

On the CPU these settings change no result of the engine (its kernels are
deterministic already); they are recorded either way, in the run's settings.
"""

from __future__ import annotations

import os
from typing import Callable

import torch

CUBLAS_WORKSPACE = ":4096:8"


def configure(deterministic: bool = True, log: Callable[[str], None] | None = None) -> dict:
    """Apply (or, with ``False``, release) the deterministic settings in this
    process and return them as recorded in the run's settings."""
    if deterministic:
        if os.environ.get("CUBLAS_WORKSPACE_CONFIG") not in (":4096:8", ":16:8"):
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = CUBLAS_WORKSPACE
        torch.use_deterministic_algorithms(True, warn_only=True)
        # correct code never reads memory it has not written: skip the NaN fill
        torch.utils.deterministic.fill_uninitialized_memory = False
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    else:
        torch.use_deterministic_algorithms(False)
        torch.backends.cudnn.deterministic = False
    state = current()
    if log is not None:
        log("determinism: " + ", ".join(f"{k}={v}" for k, v in state.items()))
    return state


def current() -> dict:
    """The settings in force in this process."""
    return {
        "deterministic": bool(torch.are_deterministic_algorithms_enabled()),
        "deterministic_warn_only": bool(torch.is_deterministic_algorithms_warn_only_enabled()),
        "cudnn_deterministic": bool(torch.backends.cudnn.deterministic),
        "cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
        "cublas_workspace_config": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
    }
