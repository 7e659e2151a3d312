"""Acceptance plugins of the method contract v2: five methods, each written against the public API.

Load with ``tlarena --plugin contract_v2`` from ``tests/plugin_fixtures``. They test the contract;
the method library's own implementations come with the method issues.
"""
import tlarena

from contract_v2.dann import DANN
from contract_v2.fixmatch import FixMatch
from contract_v2.shot import SHOT
from contract_v2.task_fusion import TwoHeadFusion
from contract_v2.tent import TENT

METHODS = (DANN, FixMatch, SHOT, TENT, TwoHeadFusion)


@tlarena.hookimpl
def register_methods(register):
    for method in METHODS:
        register(method)
