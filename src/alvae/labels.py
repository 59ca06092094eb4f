"""Strategy labels: the names in ``strategies:`` and in every results table.

A label is ``<strategy>[@<scale>][+<retrain>]``:

- ``<strategy>`` is a registry name (:data:`alvae.strategies.STRATEGY_NAMES`),
  e.g. ``coreset_cvae``;
- ``@<scale>`` multiplies the α the config gives (the α sweep, :mod:`alvae.strategies.alpha`),
  e.g. ``coreset_vae@0.25``;
- ``+<retrain>`` sets when that run's representation is trained, overriding
  ``representation.retrain`` for this label alone: ``coreset_vae+per_round`` retrains the
  VAE inside the AL job after every round, ``coreset_vae+once`` keeps the
  latents of the ``train_representation`` job. With both kinds of label in one study the
  two schedules run on the same seeds, pools and initial labels, so they are
  compared by paired tests like any other pair.

Modifiers apply to the ``<base>_<kind>`` strategies (those reading a
representation); :func:`parse_label` only checks the spelling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

RETRAIN_MODES = ("once", "per_round")

_LABEL = re.compile(r"^(?P<name>[a-z0-9_]+)(?:@(?P<scale>\d+(?:\.\d+)?))?"
                    r"(?:\+(?P<retrain>[a-z_]+))?$")


@dataclass(frozen=True)
class StrategyLabel:
    """A parsed label: registry ``name``, α ``scale`` (1 when absent) and the
    ``retrain`` schedule it asks for (``None``: the config's ``representation.retrain``)."""

    name: str
    scale: float = 1.0
    retrain: Optional[str] = None

    @property
    def variant(self) -> str:
        """The label without its α scale: ``coreset_vae@0.5+per_round`` ->
        ``coreset_vae+per_round`` (what an α sweep draws one line for)."""
        return self.name + (f"+{self.retrain}" if self.retrain else "")

    @property
    def schedule_free(self) -> str:
        """The label without its retrain suffix: ``coreset_vae@0.5+per_round`` ->
        ``coreset_vae@0.5``."""
        return self.name + (f"@{self.scale_text}" if self.scale_text else "")

    #: the scale as written ("" when absent), so that "@0.50" round-trips
    scale_text: str = field(default="", repr=False, compare=False)


def parse_label(label: str) -> StrategyLabel:
    """``"coreset_vae@0.25+per_round"`` -> ``StrategyLabel("coreset_vae", 0.25, "per_round")``.

    Raises ``ValueError`` naming the label when it is not spelled
    ``<strategy>[@<scale>][+once|+per_round]``."""
    text = str(label)
    m = _LABEL.match(text)
    if m is None or (m.group("retrain") is not None and m.group("retrain") not in RETRAIN_MODES):
        raise ValueError(f"strategy label {text!r} is not <strategy>[@<scale>][+once|+per_round] "
                         f"(scale a non-negative number such as 0.25)")
    scale = m.group("scale")
    return StrategyLabel(m.group("name"), 1.0 if scale is None else float(scale),
                         m.group("retrain"), scale or "")


def strategy_of(label: str) -> str:
    """The registry name a label runs: ``coreset_cvae@0.5+per_round`` -> ``coreset_cvae``."""
    return parse_label(label).name


def without_retrain(label: str) -> str:
    """``coreset_cvae+per_round`` -> ``coreset_cvae`` (other labels unchanged)."""
    return parse_label(label).schedule_free


def retrain_of(label: str, default: str = "once") -> str:
    """The schedule a label's representation follows: its ``+<retrain>`` suffix,
    else ``default`` (the config's ``representation.retrain``)."""
    return parse_label(label).retrain or default
