"""tlarena's data path, from a data source to batches on the device.

- ``paths``: where data lives (the cache, the data dir's local copies), ``DataUnavailable`` and
  ``BuildFailed``;
- ``hub``: a source's split as a ``datasets.Dataset``, from a local copy in the data dir or from
  the Hugging Face Hub;
- ``columns``: the one form every split takes, ``image`` and ``label`` (our class ids);
- ``importer``: ``tlarena data import``, files you have → a local copy in a suite's hub schema;
- ``tensors``: a split decoded to uint8 tensors at the backbone's size, cached on disk;
- ``stream``: seeded, endless batches of decoded tensors;
- ``augment``: train-time augmentation of uint8 batches.

The data dir is an argument (``data_dir=``) wherever data is loaded; only the command line reads
``--data-dir`` or ``$TLARENA_DATA_DIR``.
"""
import importlib

# name -> the submodule that defines it, imported when first used (PEP 562): reading a path or
# catching DataUnavailable must not import torch and datasets
_EXPORTS = {"load_split": "hub", "DataUnavailable": "paths", "BuildFailed": "paths",
            "cache_root": "paths", "dataset_dir": "paths", "BatchStream": "stream", "Draw": "stream",
            "ImageSpec": "tensors", "SplitTensors": "tensors", "split_tensors": "tensors"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tlarena.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"tlarena.data.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value
