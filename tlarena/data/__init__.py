"""tlarena's data path, from a data source to batches on the device.

- ``hub``: a source's split as a ``datasets.Dataset`` with ``image`` and ``label`` columns, read
  from a local copy in the data dir or from the Hugging Face Hub;
- ``importer``: ``tlarena data import``, files you have → a local copy;
- ``tensors``: a split decoded to uint8 tensors at the backbone's size, cached on disk;
- ``stream``: seeded, endless batches of decoded tensors;
- ``augment``: train-time augmentation of uint8 batches.
"""
from tlarena.data.hub import DataUnavailable, cache_root, dataset_dir, load_split
from tlarena.data.stream import BatchStream, Draw
from tlarena.data.tensors import ImageSpec, SplitTensors, split_tensors

__all__ = ["BatchStream", "DataUnavailable", "Draw", "ImageSpec", "SplitTensors", "cache_root",
           "dataset_dir", "load_split", "split_tensors"]
