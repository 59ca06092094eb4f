"""Snakemake adapter: the test (and val) images of a dataset encoded by one trained
representation (rule encode_eval), for a frozen-feature task model
(task_model.features)."""

import numpy as np
import torch

from alvae.data.loaders import read_npz
from alvae.logs import job_logger
from alvae.representations import encode_images
from alvae.representations.diagnostics import load_model
from alvae.training.devices import job_device

log = job_logger(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
p, wc = snakemake.params, snakemake.wildcards
ev = read_npz(snakemake.input.evaluation)
state = torch.load(snakemake.input.model, map_location="cpu", weights_only=False)
with job_device(snakemake.resources.get("gpu", 1), snakemake.config["gpu"], log) as device:  # not config
    model = load_model(state, device)
    out = {"test": encode_images(wc.kind, model, ev["test_images"], rep_cfg=p.representation, device=device)}
    if ev.get("val_images") is not None:
        out["val"] = encode_images(wc.kind, model, ev["val_images"], rep_cfg=p.representation, device=device)
np.savez(snakemake.output[0], **out)
log(f"{wc.kind} features of the evaluation splits: "
    + ", ".join(f"{k} {v.shape}" for k, v in out.items()))
