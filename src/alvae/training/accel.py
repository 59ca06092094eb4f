"""``task_model.compile``: the task model's forward through ``torch.compile``.

At 28×28 a ResNet-18 step is bound by kernel launches, not arithmetic, so
fusing kernels (``default``) and replaying whole steps as CUDA graphs
(``cudagraphs``, torch.compile's ``mode="reduce-overhead"``) are where GPU speed
comes from. ``none`` (the default) keeps eager PyTorch.

Design (compile once per job, reuse every round). Algorithm 1 trains a fresh
model each round. Compiling each fresh model would pay the compile time every
round (a minute and more for ResNet-18). Instead one :class:`Compiled` holder
per job keeps ONE module and its compiled forward: each round's freshly built,
seeded model only lends its initial weights, which are copied in place into
that module (:meth:`Compiled.adopt`). The weights a round starts from are then
exactly eager's, the compiled callable's guards still hold (same parameter
objects), and nothing is recompiled across rounds.

Shapes. Only full batches (the training batch size and the evaluation batch
size) go through the compiled callable, each shape compiled once; the ragged
last batch of an epoch or pass runs the same module eagerly. So the labeled set
growing each round costs no recompilation, and a CUDA graph is recorded for
two shapes only. With ``cudagraphs`` the outputs are cloned (a replay reuses
its output memory) and each call starts a new graph step.

On the CPU ``cudagraphs`` falls back to ``default`` (CUDA graphs need CUDA) and
says so in the log. The loss-prediction module stays eager (it is small).
"""

from __future__ import annotations

from typing import Callable, Iterable, Optional

import torch

COMPILE_MODES = ("none", "default", "cudagraphs")


def effective_mode(mode: str, device, log: Callable[[str], None] = print) -> str:
    """The mode that runs on ``device`` (``cudagraphs`` becomes ``default`` off CUDA)."""
    if mode not in COMPILE_MODES:
        raise ValueError(f"task_model.compile must be one of {', '.join(COMPILE_MODES)}, "
                         f"got {mode!r}")
    if mode == "cudagraphs" and torch.device(device).type != "cuda":
        log("compile: cudagraphs needs CUDA; using torch.compile's default mode on "
            f"{torch.device(device).type}")
        return "default"
    return mode


class Compiled:
    """One compiled task model per job, reused every round (see module docstring)."""

    def __init__(self, mode: str, device, batch_sizes: Iterable[int],
                 log: Callable[[str], None] = print, backend: str = "inductor"):
        self.mode = effective_mode(mode, device, log)
        self.backend = backend  # tests may pass "aot_eager" (same graph capture, no codegen)
        self.batch_sizes = frozenset(int(b) for b in batch_sizes)
        self.log = log
        self.module: Optional[torch.nn.Module] = None
        self.fn = None

    def adopt(self, model: torch.nn.Module) -> torch.nn.Module:
        """Return the job's module, holding ``model``'s weights and buffers.

        The first call keeps ``model`` itself and compiles its forward; later
        calls copy ``model``'s state into it in place (no recompilation).
        """
        if self.mode == "none":
            return model
        if self.module is None:
            self.module = model
            options = {"mode": "reduce-overhead"} if self.mode == "cudagraphs" else {}
            self.fn = torch.compile(model, dynamic=False, backend=self.backend, **options)
            _REGISTRY[id(model)] = self
            self.log(f"compile: task model through torch.compile ({self.mode}), batch sizes "
                     f"{sorted(self.batch_sizes)}; compiled once, reused every round")
            return model
        with torch.no_grad():
            self.module.load_state_dict(model.state_dict())
        return self.module

    def __call__(self, x: torch.Tensor):
        if x.shape[0] not in self.batch_sizes:
            return self.module(x)  # ragged batch: eager, same weights
        if self.mode == "cudagraphs":
            torch.compiler.cudagraph_mark_step_begin()
            logits, feats, blocks = self.fn(x)
            return logits.clone(), feats.clone(), [b.clone() for b in blocks]
        return self.fn(x)


# module id -> its Compiled holder (a holder lives as long as its job's loop)
_REGISTRY: dict[int, Compiled] = {}


def forward(model: torch.nn.Module, x: torch.Tensor):
    """``model(x)``, through its compiled callable when it has one."""
    holder = _REGISTRY.get(id(model))
    if holder is not None and holder.module is model:
        return holder(x)
    return model(x)


def release(holder: Optional[Compiled]) -> None:
    """Forget ``holder``'s module (end of a job's loop)."""
    if holder is not None and holder.module is not None:
        _REGISTRY.pop(id(holder.module), None)
