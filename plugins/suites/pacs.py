"""PACS (Li et al., ICCV 2017): 7 classes in 4 domains (photo, art painting, cartoon, sketch).

Hub dataset ``flwrlabs/pacs``: one ``train`` split with columns ``image`` (Image), ``domain``
(string: ``art_painting``, ``cartoon``, ``photo``, ``sketch``) and ``label`` (ClassLabel, 7). The 12
single-source pairs use whole domains, as for Office-Home. The usual PACS protocol, leave one domain
out with the other three pooled as the source (``pacs-except-sketch->pacs-sketch``, …), adds 4 pairs.
"""
import tlarena

from tlarena_plugins.suites._grid import every_ordered_pair, leave_one_domain_out, imagenet_suite

CLASSES = ("dog", "elephant", "giraffe", "guitar", "horse", "house", "person")
DOMAINS = ("art_painting", "cartoon", "photo", "sketch")
REVISION = "394113073258ead631f617d2e13bb377c0715c4b"


def domain(value: str) -> tlarena.HubDataset:
    return tlarena.HubDataset(f"pacs-{value.replace('_', '-')}", "flwrlabs/pacs", CLASSES,
                              revision=REVISION, splits={"train": "train", "test": "train"},
                              filter={"domain": value})


PAIRS = every_ordered_pair([domain(value) for value in DOMAINS], "pacs",
                           "PACS: photo, art painting, cartoon and sketch") + leave_one_domain_out(
    [domain(value) for value in DOMAINS], "pacs", "PACS: three domains pooled → the fourth")

DEFAULTS = (imagenet_suite("pacs"),)
