"""A suite's defaults: the backbone, weights and budget its pairs run with unless flags say otherwise.

A suite is the set of pairs registered with one ``DomainPair.suite`` name. Its ``Suite`` says how
the literature runs it: Office-Home at 224 px on an ImageNet ResNet-50, digits on LeNet at 32 px.
The input size is the backbone's own (its timm config), so a suite states it through the backbone.
A suite that registers no ``Suite`` runs with ``DEFAULT``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from tlarena.spec import Budget


@dataclass(frozen=True)
class Suite:
    """``backbone``: a registered backbone or timm model name; ``weights``: hub, none or
    file:PATH (None: the backbone's own); ``budget``: the grid's budget (each flag given replaces
    one of its fields); ``source``: where these defaults come from, for ``tlarena list suites``."""

    name: str
    backbone: str = "lenet"
    weights: str | None = None
    budget: Budget = field(default_factory=Budget)
    source: str = ""


DEFAULT = Suite("", source="tlarena's defaults")


def defaults_of(suites, name: str) -> Suite:
    """The registered defaults of suite ``name``, else tlarena's."""
    return suites.get(name) if name in suites else DEFAULT
