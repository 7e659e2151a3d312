"""tlarena's data path, from a data source to batches on the device.

- ``paths``: where data lives (the cache, the data dir's local copies) and ``DataUnavailable``;
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
from tlarena.data.hub import load_split
from tlarena.data.paths import DataUnavailable, cache_root, dataset_dir
from tlarena.data.stream import BatchStream, Draw
from tlarena.data.tensors import ImageSpec, SplitTensors, split_tensors

__all__ = ["BatchStream", "DataUnavailable", "Draw", "ImageSpec", "SplitTensors", "cache_root",
           "dataset_dir", "load_split", "split_tensors"]
