"""tlarena: the transfer-learning arena.

The public API for plugin authors is what this module exports. Each name is imported when first
used (PEP 562), so `tlarena --help` and `tlarena show` never import torch, timm or datasets.
"""
import importlib

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("tlarena")

# public name -> the module that defines it
_EXPORTS = {
    "Backbone": "tlarena.backbones",
    "Augmentation": "tlarena.data.augment",
    **dict.fromkeys(["FAMILIES", "Batch", "ContractError", "Network", "Progress", "SourceImages", "TargetImages",
                     "TransferMethod", "Update"], "tlarena.methods"),
    **dict.fromkeys(["BuiltDataset", "DataSource", "DomainPair", "HubDataset", "MultiSource"],
                    "tlarena.pairs"),
    "Setting": "tlarena.settings",
    "Budget": "tlarena.spec",
    "Suite": "tlarena.suites",
    **dict.fromkeys(["Executor", "ExecutorRequest", "ExecutorType", "Lost", "Remote", "RunnerRecipe",
                     "run_remote"], "tlarena.executors"),
}

__all__ = sorted([*_EXPORTS, "hookimpl"])


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tlarena' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value   # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
