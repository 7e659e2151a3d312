"""Backbone weights: from a safetensors file, or a clear message when they cannot be had."""
import pytest
import torch
from safetensors.torch import save_file

import tlarena_plugins.backbones  # noqa: F401  registers lenet in timm
from tlarena.backbones import WeightsUnavailable, create_model


def test_weights_from_a_safetensors_file_are_loaded_and_a_new_head_is_kept(tmp_path):
    trained = create_model("lenet", 10)
    save_file({k: v.contiguous() for k, v in trained.state_dict().items()}, str(tmp_path / "w.safetensors"))
    loaded = create_model("lenet", 26, f"file:{tmp_path / 'w.safetensors'}")
    assert torch.equal(loaded.features[0].weight, trained.features[0].weight)
    assert loaded.get_classifier().out_features == 26


def test_hub_weights_that_cannot_be_had_name_the_file_alternative():
    with pytest.raises(WeightsUnavailable, match="--weights file:PATH"):
        create_model("lenet", 10, "hub")


def test_a_missing_weights_file_is_named():
    with pytest.raises(WeightsUnavailable, match="does not exist"):
        create_model("lenet", 10, "file:/nonexistent/w.safetensors")
