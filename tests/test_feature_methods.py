"""JAN, MDD and the frozen-feature methods (shallow CORAL, TCA): their math against known answers,
that each learns on an embedded pair in uda, and how `tlarena list methods` shows them.

Each also passes the conformance kit: tests/test_conformance.py runs it over every registered method.
"""
import inspect
from pathlib import Path

import pytest
import torch

from tlarena import Setting
from tlarena.adaptation import jmmd, mk_mmd
from tlarena.feature_transfer import FeatureTable, coral_recolouring, transfer_components
from tlarena.grid import grid
from tlarena.methods import Batch, Network, SourceImages, TargetImages
from tlarena.plugins import load_arena
from tlarena.runner import Runner
from tlarena.spec import Budget
from tlarena_plugins.methods.mdd import margin_disparity
from tlarena_plugins.methods.tca import TCA

from conftest import IdentityTrunk, table_rows

METHODS = {"jan": "domain adaptation", "mdd": "domain adaptation", "coral-linear": "feature transfer",
           "tca": "feature transfer"}
CHANCE = 0.1   # 10 classes


def _gaussian(rows: int, dim: int, seed: int) -> torch.Tensor:
    return torch.randn(rows, dim, generator=torch.Generator().manual_seed(seed))


def test_coral_recolouring_maps_the_regularized_source_covariance_onto_the_targets():
    source = _gaussian(500, 6, 0) * torch.tensor([3.0, 1.0, 0.5, 2.0, 1.0, 0.2])
    target = _gaussian(500, 6, 1) @ torch.randn(6, 6, generator=torch.Generator().manual_seed(2))
    a, eye = coral_recolouring(source, target), torch.eye(6)
    recoloured = a.T @ (torch.cov(source.T) + eye) @ a
    assert torch.allclose(recoloured, torch.cov(target.T) + eye, atol=1e-3)
    assert torch.allclose(torch.cov((source @ a).T) + a.T @ a, torch.cov(target.T) + eye, atol=1e-3)


def test_tca_brings_two_shifted_domains_closer_in_mmd():
    source, target = _gaussian(200, 8, 0), _gaussian(200, 8, 1) + torch.tensor([3.0] + [0.0] * 7)
    components = transfer_components(source, target, components=4, mu=1.0)
    before, after = mk_mmd(source, target), mk_mmd(components(source), components(target))
    assert after < 0.5 * before


def test_jmmd_is_near_0_for_one_distribution_and_larger_for_a_shifted_one():
    x, y = _gaussian(200, 16, 0), _gaussian(200, 16, 1)
    px, py = _gaussian(200, 4, 2).softmax(1), _gaussian(200, 4, 3).softmax(1)
    scales = [(0.5, 1.0, 2.0), (1.0,)]
    same, shifted = jmmd([x, px], [y, py], scales), jmmd([x, px], [y + 1.0, py], scales)
    assert abs(same) < 0.02 and shifted > 10 * abs(same)


def test_the_margin_disparity_is_small_when_the_auxiliary_head_agrees_on_the_source_and_not_on_the_target():
    main = torch.eye(3) * 10                      # f predicts class i for row i, in both domains
    agrees, disagrees = torch.eye(3) * 10, torch.eye(3).roll(1, dims=1) * 10
    best = margin_disparity(agrees, disagrees, main, main, margin=4.0)
    worst = margin_disparity(disagrees, agrees, main, main, margin=4.0)
    assert best < 0.01 and worst > 10


def test_a_feature_table_computes_each_row_once_and_gives_the_same_features_as_recomputing():
    calls = []

    def extract(images):
        calls.append(len(images))
        return images * 2

    table, images = FeatureTable(extract), torch.arange(8.0).view(4, 2)
    first = table(images, torch.tensor([5, 1, 7, 2]))
    again = table(images[[1, 0]], torch.tensor([1, 5]))
    assert torch.equal(first, images * 2) and torch.equal(again, images[[1, 0]] * 2) and calls == [4]


def test_tca_reusing_features_maps_each_source_row_once_and_steps_as_recomputing_does():
    source, target = _gaussian(300, 8, 0), _gaussian(200, 8, 1) + 1.0
    labels = (source[:, 0] > 0).long()

    def fitted(method_cls):
        torch.manual_seed(0)
        method = method_cls(Network(IdentityTrunk(torch.nn.Linear(8, 2))), 2, dict(TCA.hparams))
        with torch.no_grad():
            method.phase(TargetImages(len(target), lambda size: iter([target])),
                         SourceImages(len(source), lambda size: iter([(source, labels)])))
        return method

    reusing, recomputing = fitted(TCA), fitted(type("Recomputing", (TCA,), {"reuse_features": False}))
    rows = torch.tensor([4, 17, 250, 3])
    batch = Batch(source=(source[rows], labels[rows]), rows={"source": rows})
    reusing.components = None          # a step that mapped its batch again would fail here
    assert torch.allclose(reusing.training_step(batch), recomputing.training_step(batch), atol=1e-5)


def test_each_method_runs_in_uda_only_in_its_family():
    arena = load_arena()
    for name, family in METHODS.items():
        method = arena.methods.get(name)
        assert method.settings == {Setting.UDA} and method.family == family


@pytest.fixture(scope="module")
def uda_records():
    """Each method once on one embedded pair at a small budget, from one shared source model."""
    arena = load_arena()
    budget = Budget(steps=100, source_steps=300, eval_points=1)
    specs = grid(arena, list(METHODS), ["synth-digits->synth-digits-colour"], "lenet", "none", [0], budget,
                 [Setting.UDA])
    runner = Runner(arena, torch.device("cpu"))
    return {spec.method: runner.execute(spec) for spec in specs}


@pytest.mark.parametrize("name", list(METHODS))
def test_each_method_learns_the_target_well_above_chance(uda_records, name):
    record = uda_records[name]
    assert record.status == "ok", record.traceback
    assert record.metrics.top1 > 3 * CHANCE


def test_list_methods_shows_each_method_with_its_family_and_paper(cli):
    out = cli("list", "methods").out
    rows = table_rows(out)
    assert all(name in rows and family in rows[name] for name, family in METHODS.items())
    assert "Pan et al." in rows["tca"] and "margin=4" in rows["mdd"]


def test_the_method_files_stay_under_150_lines_and_state_paper_equation_and_deviations():
    arena = load_arena()
    for name in METHODS:
        module = __import__(arena.methods.get(name).__module__, fromlist=["_"])
        doc = inspect.getdoc(arena.methods.get(name))
        assert len(Path(module.__file__).read_text().splitlines()) < 150
        assert "Paper:" in doc and "Deviation" in doc and ("L =" in doc or "closed form" in doc)
