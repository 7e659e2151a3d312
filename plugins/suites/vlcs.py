"""VLCS (Fang et al., ICCV 2013): 5 classes in 4 photo datasets. Local data only.

12 single-source pairs, plus the domain-generalization protocol of DomainBed (Gulrajani and
Lopez-Paz, ICLR 2021): leave one domain out, the other three pooled as the source (4 pairs).

No hub copy with a domain column was found, so none is used: put DomainBed's ``VLCS`` folder in the
data dir as

    <data_dir>/local__vlcs/<domain>/<class>/*.jpg      domains: Caltech101 LabelMe SUN09 VOC2007

with class folders named as in ``CLASSES``, and pass ``--data-dir <data_dir>``. Whole domains are
used, as for Office-31.
"""
import tlarena

from tlarena_plugins.suites._grid import every_ordered_pair, leave_one_domain_out, imagenet_suite

CLASSES = ("bird", "car", "chair", "dog", "person")
DOMAINS = ("Caltech101", "LabelMe", "SUN09", "VOC2007")


def domain(value: str) -> tlarena.HubDataset:
    return tlarena.HubDataset(f"vlcs-{value.lower()}", "local/vlcs", CLASSES,
                              splits={"train": value, "test": value}, local_only=True)


PAIRS = every_ordered_pair([domain(value) for value in DOMAINS], "vlcs",
                           "VLCS: Caltech101, LabelMe, SUN09 and VOC2007 photos") + leave_one_domain_out(
    [domain(value) for value in DOMAINS], "vlcs", "VLCS: three photo datasets pooled → the fourth")

DEFAULTS = (imagenet_suite("vlcs"),)
