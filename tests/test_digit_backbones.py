"""The digit backbones plugin: LeNet and DTN are ordinary timm models once the plugin is imported."""
import importlib.util
import warnings

import pytest
import timm
import torch
import torch.nn.functional as F

import tlarena
import tlarena_plugins.backbones as digit_backbones

MODELS = ["lenet", "dtn"]


@pytest.fixture(autouse=True)
def one_thread():
    """The CI machine is shared; these models are small enough for one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def digits(batch: int = 4) -> torch.Tensor:
    return torch.randn(batch, 3, 32, 32, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("num_classes", [10, 26])
@pytest.mark.parametrize("name", MODELS)
def test_create_model_gives_one_logit_per_class(name, num_classes):
    model = timm.create_model(name, num_classes=num_classes).eval()

    assert model(digits()).shape == (4, num_classes)


@pytest.mark.parametrize("name", MODELS)
def test_pre_logits_are_the_feature_vector_tlarena_works_on(name):
    network = tlarena.Network(timm.create_model(name, num_classes=10).eval())

    assert network.features(digits()).shape == (4, network.feature_dim)


@pytest.mark.parametrize("name", MODELS)
def test_reset_classifier_gives_a_new_head(name):
    model = timm.create_model(name, num_classes=10).eval()
    old_head = model.get_classifier()

    model.reset_classifier(26)

    assert model.get_classifier() is not old_head and model(digits()).shape == (4, 26)


@pytest.mark.parametrize("name", MODELS)
def test_data_config_asks_for_32px_digits_scaled_to_minus_one_one(name):
    config = timm.data.resolve_data_config({}, model=timm.create_model(name))

    assert (config["input_size"], config["mean"], config["std"], config["interpolation"]) == (
        (3, 32, 32), (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), "bilinear")


def test_grayscale_variant_asks_for_one_channel():
    config = timm.data.resolve_data_config({}, model=timm.create_model("lenet", in_chans=1))

    assert (config["input_size"], config["mean"]) == ((1, 32, 32), (0.5,))


@pytest.mark.parametrize("name", MODELS)
def test_pretrained_weights_are_refused_because_none_exist(name):
    with pytest.raises(RuntimeError, match="No pretrained weights exist"):
        timm.create_model(name, pretrained=True)


@pytest.mark.parametrize("name", MODELS)
def test_a_few_sgd_steps_fit_a_fixed_batch(name):
    torch.manual_seed(0)
    model = timm.create_model(name, num_classes=10)
    images, labels = digits(8), torch.arange(8)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    def eval_loss() -> float:
        model.eval()
        with torch.no_grad():
            return F.cross_entropy(model(images), labels).item()

    before = eval_loss()
    model.train()
    for _ in range(30):
        optimizer.zero_grad()
        F.cross_entropy(model(images), labels).backward()
        optimizer.step()

    assert eval_loss() < 0.5 * before


def test_plugin_offers_both_digit_backbones_without_pretrained_weights_and_the_suites_resnets_with():
    registered = []

    digit_backbones.register_backbones(register=registered.append)

    assert [(b.name, b.model, b.weights) for b in registered] == [
        ("lenet", "lenet", "none"), ("dtn", "dtn", "none"),
        ("resnet50-imagenet", "resnet50.tv_in1k", "hub"), ("resnet101-imagenet", "resnet101.tv_in1k", "hub")]


def test_importing_the_file_again_keeps_the_registration_silently():
    spec = importlib.util.spec_from_file_location("digit_backbones_again", digit_backbones.__file__)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spec.loader.exec_module(importlib.util.module_from_spec(spec))

    assert timm.models.model_entrypoint("lenet") is digit_backbones.lenet
