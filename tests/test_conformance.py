"""The conformance kit: every registered method and every acceptance plugin passes
``tlarena.testing.check_method`` in each of its settings, and the kit catches a broken method."""
import pytest
import torch.nn.functional as F
from torch import nn

import tlarena
from tlarena import Setting
from tlarena.plugins import load_arena
from tlarena.testing import ConformanceError, check_method

REGISTERED = load_arena().methods.names()
ACCEPTANCE = ["dann-fixture", "fixmatch-fixture", "shot-fixture", "tent-fixture", "two-head-fusion"]


@pytest.mark.parametrize("name", REGISTERED)
def test_every_registered_method_passes_the_conformance_kit(name):
    method = load_arena().methods.get(name)
    assert [checked.setting for checked in check_method(method)] == sorted(s.value for s in method.settings)


@pytest.mark.parametrize("name", ACCEPTANCE)
def test_every_acceptance_plugin_passes_the_conformance_kit_in_its_setting(name, contract_v2):
    method = next(m for m in contract_v2.METHODS if m.name == name)
    assert [checked.setting for checked in check_method(method)] == sorted(s.value for s in method.settings)


@pytest.mark.parametrize("name", ACCEPTANCE)
def test_every_acceptance_plugin_is_under_80_lines_and_cites_its_paper(name, contract_v2):
    method = next(m for m in contract_v2.METHODS if m.name == name)
    module = __import__(method.__module__, fromlist=["_"])
    with open(module.__file__) as source:
        lines = source.read().splitlines()
    assert len(lines) < 80 and "Paper:" in module.__doc__ and "Deviation" in module.__doc__


class PooledERM(tlarena.TransferMethod):
    """Empirical risk minimization over pooled source domains, reading each image's domain."""

    name, family, paper = "pooled-erm-stub", "domain generalization", "none: a test stub"
    settings = frozenset({Setting.DG})
    init = "backbone"
    uses_source_data = True

    def training_step(self, batch):
        (images, labels), domains = batch.source, batch.source_domains
        assert batch.target is None and set(domains.tolist()) <= {0, 1}
        return F.cross_entropy(self.network(images), labels)


def test_a_dg_method_trains_on_pooled_sources_with_their_domains_and_no_target_data():
    assert [checked.setting for checked in check_method(PooledERM)] == ["dg"]


class ForgetsAModule(PooledERM):
    name = "forgets-a-module"

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        self.extra = nn.Linear(4, 4)

    def parameter_groups(self):
        return [{"params": self.network.parameters()}]


def test_the_kit_fails_a_method_whose_module_is_in_no_optimizer_group():
    with pytest.raises(ConformanceError, match="trainable parameters of extra are in no optimizer group"):
        check_method(ForgetsAModule)


class RaisesInInit(PooledERM):
    name = "raises-in-init"

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        raise KeyError("margin")


def test_an_exception_in_the_constructor_is_reported_as_the_constructors():
    with pytest.raises(ConformanceError, match=r"MethodConstructorError: the constructor of method "
                                               r"'raises-in-init' \(RaisesInInit.__init__\) raised KeyError"):
        check_method(RaisesInInit)
