"""What each setting lets a method see: one table (settings.VISIBILITY), and the matrix it decides."""
import numpy as np
import torch

from tlarena.backbones import create_model
from tlarena.data import ImageSpec, split_tensors
from tlarena.grid import incompatibility, pair_settings
from tlarena.models import build_method, resolve_backbone
from tlarena.plugins import load_arena
from tlarena.settings import VISIBILITY, Setting, settings_for
from tlarena.testing import _PAIRS


def test_the_table_gives_each_kind_of_pair_its_settings():
    assert settings_for(shared_label_space=True) == (Setting.UDA, Setting.FEW_SHOT, Setting.SUPERVISED,
                                                     Setting.SOURCE_FREE, Setting.TEST_TIME)
    assert Setting.DG in settings_for(shared_label_space=True, multi_source=True)
    assert settings_for(shared_label_space=False) == (Setting.TASK,)


def test_no_source_data_in_source_free_and_test_time_and_no_target_data_in_dg():
    assert not VISIBILITY[Setting.SOURCE_FREE].source_data and VISIBILITY[Setting.SOURCE_FREE].unlabeled_target
    assert not (VISIBILITY[Setting.TEST_TIME].source_data or VISIBILITY[Setting.TEST_TIME].unlabeled_target)
    assert VISIBILITY[Setting.DG].target_labels == "none" and not VISIBILITY[Setting.DG].unlabeled_target


def test_dg_applies_only_to_pairs_with_pooled_sources():
    fine_tune = load_arena().methods.get("fine-tune")
    single, _, pooled = _PAIRS
    assert Setting.DG in pair_settings(pooled) and Setting.DG not in pair_settings(single)
    assert incompatibility(fine_tune, single, Setting.DG) == \
        "conformance-source->conformance-target has one source domain, so setting dg does not apply"


def test_a_pooled_source_gives_each_image_its_domain():
    pooled = _PAIRS[2].source
    tensors = split_tensors(pooled, "train", ImageSpec(3, 8, 8))
    sizes = [len(split_tensors(part, "train", ImageSpec(3, 8, 8))) for part in pooled.parts]
    assert np.array_equal(tensors.domains, np.repeat([0, 1], sizes))


def test_in_task_a_method_keeps_the_source_head_only_when_it_asks(contract_v2):
    arena = load_arena()
    task = _PAIRS[1]
    backbone = resolve_backbone(arena, "dtn", "none")
    state = create_model(backbone.model, len(task.source.classes)).state_dict()
    fusion = build_method(contract_v2.TwoHeadFusion, task, backbone, 0, contract_v2.TwoHeadFusion.hparams, state)
    fine_tune = build_method(arena.methods.get("fine-tune"), task, backbone, 0, {"lr": 0.01}, state)
    assert fusion.network.head.out_features == 3 and fusion.network.source_classes == ("a", "b", "c")
    assert fine_tune.network.head.out_features == 2 and fine_tune.network.source_classes is None
    assert torch.equal(fusion.network.head.weight, state["head.weight"])   # dtn's classifier is `head`
