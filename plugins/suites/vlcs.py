"""VLCS (Fang et al., ICCV 2013): 5 classes in 4 photo datasets, 12 pairs. Local data only.

No hub copy with a domain column was found, so none is used: put DomainBed's ``VLCS`` folder in the
data dir as

    <data_dir>/local__vlcs/<domain>/<class>/*.jpg      domains: Caltech101 LabelMe SUN09 VOC2007

with class folders named as in ``CLASSES``, and pass ``--data-dir <data_dir>``. Whole domains are
used, as for Office-31. Leave-one-domain-out with several sources is not supported yet (a
``DomainPair`` has one source).
"""
import tlarena

from tlarena_plugins.suites._grid import every_ordered_pair

CLASSES = ("bird", "car", "chair", "dog", "person")
DOMAINS = ("Caltech101", "LabelMe", "SUN09", "VOC2007")


def domain(value: str) -> tlarena.HubDataset:
    return tlarena.HubDataset(f"vlcs-{value.lower()}", "local/vlcs", CLASSES,
                              splits={"train": value, "test": value}, local_only=True)


PAIRS = every_ordered_pair([domain(value) for value in DOMAINS], "vlcs",
                           "VLCS: Caltech101, LabelMe, SUN09 and VOC2007 photos")
