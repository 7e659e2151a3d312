"""tlarena: the transfer-learning arena.

The public API for plugin authors is what this module exports.
"""
import pluggy

from tlarena.backbones import Backbone
from tlarena.data.augment import Augmentation
from tlarena.methods import FAMILIES, Batch, ContractError, Network, Progress, SourceImages, TargetImages, TransferMethod, Update
from tlarena.pairs import BuiltDataset, DataSource, DomainPair, HubDataset, MultiSource
from tlarena.settings import Setting

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("tlarena")

__all__ = [
    "FAMILIES",
    "Augmentation",
    "Backbone",
    "Batch",
    "BuiltDataset",
    "ContractError",
    "DataSource",
    "DomainPair",
    "HubDataset",
    "MultiSource",
    "Network",
    "Progress",
    "Setting",
    "SourceImages",
    "TargetImages",
    "TransferMethod",
    "Update",
    "hookimpl",
]
