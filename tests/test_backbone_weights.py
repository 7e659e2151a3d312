"""Backbone weights: from a safetensors file, or a clear message when they cannot be had."""
import pytest
import torch
from safetensors.torch import save_file

import tlarena_plugins.backbones  # noqa: F401  registers lenet in timm
from tlarena.backbones import WeightsUnavailable, create_model


def _save(model, path, rename=lambda key: key):
    save_file({rename(k): v.contiguous() for k, v in model.state_dict().items()}, str(path))
    return f"file:{path}"


def test_weights_from_a_safetensors_file_are_loaded_and_a_new_head_is_kept(tmp_path):
    trained = create_model("lenet", 10)
    save_file({k: v.contiguous() for k, v in trained.state_dict().items()}, str(tmp_path / "w.safetensors"))
    loaded = create_model("lenet", 26, f"file:{tmp_path / 'w.safetensors'}")
    assert torch.equal(loaded.features[0].weight, trained.features[0].weight)
    assert loaded.get_classifier().out_features == 26


def test_a_file_with_more_classes_loads_into_a_model_with_fewer(tmp_path):
    trained = create_model("lenet", 26)

    loaded = create_model("lenet", 10, _save(trained, tmp_path / "w.safetensors"))

    assert torch.equal(loaded.neck[1].weight, trained.neck[1].weight)


def test_a_file_with_as_many_classes_loads_the_classifier_too(tmp_path):
    trained = create_model("lenet", 26)

    loaded = create_model("lenet", 26, _save(trained, tmp_path / "w.safetensors"))

    assert torch.equal(loaded.get_classifier().weight, trained.get_classifier().weight)


@pytest.mark.parametrize("model", ["lenet", "resnet18"])
def test_a_file_whose_keys_do_not_match_is_refused_naming_them(tmp_path, model):
    path = tmp_path / "wrapped.safetensors"
    weights = _save(create_model(model, 10), path, rename=lambda key: f"backbone.{key}")

    with pytest.raises(WeightsUnavailable) as refused:
        create_model(model, 26, weights)

    message = str(refused.value)
    assert str(path) in message and "missing" in message and "unexpected" in message
    assert "'backbone." in message and "more" in message


def test_a_file_of_another_architecture_is_refused(tmp_path):
    weights = _save(create_model("dtn", 10), tmp_path / "dtn.safetensors")

    with pytest.raises(WeightsUnavailable, match="'features.0.weight'"):
        create_model("lenet", 10, weights)


def test_hub_weights_that_cannot_be_had_name_the_file_alternative():
    with pytest.raises(WeightsUnavailable, match="--weights file:PATH"):
        create_model("lenet", 10, "hub")


def test_a_missing_weights_file_is_named():
    with pytest.raises(WeightsUnavailable, match="does not exist"):
        create_model("lenet", 10, "file:/nonexistent/w.safetensors")
