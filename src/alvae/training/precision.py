"""``task_model.precision``: the number format the task model trains and infers in.

* ``fp32``: plain float32 everywhere.
* ``bf16``: ``torch.autocast`` to bfloat16 (the loss and the scores stay float32)
  and channels-last tensors. On CUDA it needs a GPU with bf16 (Ampere or newer);
  on the CPU it needs native bf16 instructions, AMX (``amx_bf16``) or AVX-512 BF16
  (``avx512_bf16``). Without them PyTorch still runs bf16, by conversion, many
  times slower than float32 (measured on an AMD EPYC without either: 30-40x,
  bench/bench_precision.py), so the job refuses it with one line before any
  training instead.
* ``auto`` (the default): bf16 on CUDA where the GPU has it; on the CPU bf16 only
  where the CPU has native bf16 *and* the stem makes it pay (a stride-1 stem:
  ``small``/``small_pool``; with the ImageNet stem at 28 px the convolutions are
  too small for bf16 to gain, issue #26's measurement), else fp32.

The resolved precision (never ``auto``) is what a job records in its log and in
its run key, so a run resumed on a machine that resolves ``auto`` otherwise starts
over instead of mixing rounds of two number formats.

``ALVAE_CPU_BF16=0|1`` overrides the CPU probe (tests; a CPU the probe misreads).
"""

from __future__ import annotations

import contextlib
import functools
import os
from typing import Callable, Optional

import torch

from ..errors import UserError

PRECISIONS = ("auto", "fp32", "bf16")
# stems whose first stage runs at full resolution: large enough convolutions for bf16
BF16_STEMS = ("small", "small_pool")


class PrecisionError(UserError, RuntimeError):
    """``task_model.precision: bf16`` on a device that has no native bf16."""


@functools.lru_cache(maxsize=None)
def _cpu_flags() -> dict:
    caps = getattr(torch.cpu, "get_capabilities", None)
    if caps is not None:
        try:
            return dict(caps())
        except Exception:  # an old or unusual build: fall back to /proc/cpuinfo
            pass
    flags = set()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags.update(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    return {"amx_bf16": "amx_bf16" in flags, "avx512_bf16": "avx512_bf16" in flags,
            "cpu_name": "this CPU"}


def cpu_bf16() -> tuple[bool, str]:
    """Whether this CPU has native bf16, and the words that say why."""
    forced = os.environ.get("ALVAE_CPU_BF16")
    if forced is not None:
        on = forced.strip().lower() in ("1", "true", "yes")
        return on, f"ALVAE_CPU_BF16={forced}"
    flags = _cpu_flags()
    have = [f for f in ("amx_bf16", "avx512_bf16") if flags.get(f)]
    name = flags.get("cpu_name") or "this CPU"
    if have:
        return True, f"{name} has {' and '.join(have)}"
    return False, f"{name} has neither amx_bf16 nor avx512_bf16"


def resolve(setting: str, device, stem: str = "imagenet",
            log: Optional[Callable[[str], None]] = None) -> str:
    """``fp32`` or ``bf16``: what ``setting`` means on ``device`` for a model with ``stem``.

    Raises :class:`PrecisionError` (one line naming ``task_model.precision``) when
    ``bf16`` is asked for and the device has no native bf16."""
    if setting not in PRECISIONS:
        raise PrecisionError(f"task_model.precision must be one of {', '.join(PRECISIONS)}, "
                             f"got {setting!r}")
    dev = torch.device(device)
    if dev.type == "cuda":
        ok = bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
        why = "the GPU supports bf16" if ok else "the GPU has no bf16 (it needs Ampere or newer)"
    elif dev.type == "cpu":
        ok, why = cpu_bf16()
    else:
        ok, why = False, f"no bf16 path for device type {dev.type}"
    if setting == "bf16" and not ok:
        raise PrecisionError(f"task_model.precision: bf16 needs native bf16 on the {dev.type}, "
                             f"and {why}; set task_model.precision: auto or fp32")
    if setting == "auto":
        pays = dev.type == "cuda" or stem in BF16_STEMS
        chosen = "bf16" if ok and pays else "fp32"
        if ok and not pays:  # the reason fp32 was chosen although the CPU has bf16
            why += f"; the {stem} stem gains nothing from bf16"
    else:
        chosen = setting
    if log is not None:
        log(f"precision: {chosen} on {dev.type} (task_model.precision: {setting}; {why})")
    return chosen


def autocast(device, precision: str):
    """The autocast context of a resolved ``precision`` on ``device``."""
    if precision == "bf16":
        return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def channels_last(device, precision: str) -> bool:
    """Whether tensors go channels-last: on CUDA always (as before), on the CPU with bf16
    (oneDNN's bf16 convolutions want it; fp32 on the CPU keeps the default layout, so
    its results stay bit for bit those of earlier releases)."""
    return torch.device(device).type == "cuda" or precision == "bf16"
