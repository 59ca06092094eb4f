"""The key a checkpointed AL run is resumed under: one digest per input its results
depend on. A saved state is used only when every field matches; otherwise the run
says which inputs changed and starts from round 0.

To make a new input part of the key (per-round latents, a new setting), add a field
in :func:`run_key`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping, Optional

import numpy as np


def config_hash(params: Mapping[str, Any]) -> str:
    """Stable short hash of a JSON-able mapping (the settings a job depends on)."""
    blob = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def array_digest(array) -> str:
    """Short content hash of an array (identifies a pool or a latents file)."""
    data = np.ascontiguousarray(array)
    return hashlib.sha256(str(data.dtype).encode() + str(data.shape).encode() + data.tobytes()).hexdigest()[:16]


def arrays_digest(*arrays) -> Optional[str]:
    """Content digest of several arrays (None when the first is None: no such input)."""
    if arrays[0] is None:
        return None
    return config_hash({str(i): array_digest(np.asarray(a)) for i, a in enumerate(arrays)})


def run_key(settings: Mapping[str, Any], subset, latents=None) -> dict:
    """Field -> digest for everything one run's results depend on: the settings, the
    pool, the test and val splits (their content), and the latents it reads."""
    return {
        "settings": config_hash(settings),
        "pool": arrays_digest(subset.pool_indices, subset.pool_images, subset.pool_labels),
        "classes": config_hash({"task": subset.task, "names": list(subset.class_names)}),
        "test": arrays_digest(subset.test_images, subset.test_labels),
        "val": arrays_digest(subset.val_images, subset.val_labels),
        "latents": arrays_digest(latents),
    }


def key_hash(key: Mapping[str, Any]) -> str:
    return config_hash(key)


def changed_fields(saved: Mapping[str, Any] | None, current: Mapping[str, Any]) -> list[str]:
    """The fields whose digest differs (all of them when nothing was saved)."""
    if not isinstance(saved, Mapping):
        return sorted(current)
    return sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k))
