"""Built-in benchmark suites of real datasets, registered like any plugin's pairs.

Suites (one module each): ``digits`` and ``fashion-mnist`` (``digits``), ``office-home``, ``pacs``,
``domainnet``, ``cifar-stl``, and the local-only ``office-31``, ``visda-2017`` and ``vlcs``. Hub
datasets download on first use at a pinned revision, or are read from a local copy under the data
dir (``--data-dir`` / ``TLARENA_DATA_DIR``); the local-only suites document their folder layout in
their module. See ``tlarena.data.hub`` for the local layouts and ``tlarena data import`` for
converting files you have.
"""
import tlarena

from tlarena_plugins.suites import cifar_stl, digits, domainnet, office31, office_home, pacs, visda, vlcs

SUITES = (digits, office_home, pacs, domainnet, cifar_stl, office31, visda, vlcs)


@tlarena.hookimpl
def register_pairs(register):
    for module in SUITES:
        for pair in module.PAIRS:
            register(pair)


@tlarena.hookimpl
def register_suites(register):
    for module in SUITES:
        for suite in module.DEFAULTS:
            register(suite)
