"""tlarena: the transfer-learning arena.

The public API for plugin authors is what this module exports.
"""
import pluggy

from tlarena.backbones import Backbone
from tlarena.methods import FAMILIES, Batch, Network, TransferMethod
from tlarena.pairs import BuiltDataset, DataSource, DomainPair, HubDataset, MultiSource
from tlarena.settings import Setting

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("tlarena")

__all__ = [
    "FAMILIES",
    "Backbone",
    "Batch",
    "BuiltDataset",
    "DataSource",
    "DomainPair",
    "HubDataset",
    "MultiSource",
    "Network",
    "Setting",
    "TransferMethod",
    "hookimpl",
]
