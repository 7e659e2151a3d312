"""Why importance weighting does not help on MNIST → skewed USPS: do the weights follow the class prior?

Reads what ``benchmarks/reproduce_reweighting.py`` left in its work dir (decoded splits, source
models), fits the same domain classifier as the ``importance-weighting`` method does (its defaults),
once on each source model's class posteriors (the method's default, ``ratio_on = "posteriors"``) and
once on its frozen features (``"features"``), and prints, per source model and input: the weights'
effective sample size (as a share of the source), and per class the true prior ratio
p_T(y) / p_S(y) beside the class's mean weight. Weights that corrected the label shift would follow
the prior ratio.

    python benchmarks/reweighting_diagnosis.py [--work .repro-reweighting]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import timm
import torch
from safetensors.torch import load_file

import tlarena_plugins.backbones  # noqa: F401  registers lenet in timm
from tlarena.instance_transfer import (RATIO_INPUTS, effective_sample_size, fit_domain_classifier,
                                       importance_weights)
from tlarena_plugins.methods.importance_weighting import ImportanceWeighting
from tlarena.partition import Cut


def split(tensors: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    (images,) = tensors.glob(f"{name}-train-32x32-*.images.npy")
    return np.load(images), np.load(str(images).replace(".images.npy", ".labels.npy"))


@torch.no_grad()
def features(model: torch.nn.Module, images: np.ndarray) -> torch.Tensor:
    x = (torch.from_numpy(images).float() - 127.5) / 127.5       # lenet's mean and std, 0.5
    return torch.cat([model.forward_head(model.forward_features(x[i:i + 512]), pre_logits=True)
                      for i in range(0, len(x), 512)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path(__file__).resolve().parents[1] / ".repro-reweighting")
    args = parser.parse_args()
    torch.set_num_threads(1)
    tensors = args.work / "cache" / "tensors"
    source, source_labels = split(tensors, "mnist-full")
    target, target_labels = split(tensors, "usps-skewed")
    kept = Cut.of(source_labels).kept            # the source part the runs train on
    source, source_labels = source[kept], source_labels[kept]
    prior = np.bincount(target_labels, minlength=10) / len(target_labels)
    prior_ratio = prior / (np.bincount(source_labels, minlength=10) / len(source_labels))
    hp = ImportanceWeighting.hparams
    for path in sorted((args.work / "cache" / "source-models").glob("*.safetensors")):
        model = timm.create_model("lenet", num_classes=10)
        model.load_state_dict(load_file(path))
        model.eval()
        print(f"source model {path.stem}")
        print("  prior ratio p_T(y)/p_S(y):          ", " ".join(f"{v:.2f}" for v in prior_ratio))
        source_features, target_features = features(model, source), features(model, target)
        for ratio_on in RATIO_INPUTS:
            source_rows, target_rows = source_features, target_features
            if ratio_on == "posteriors":
                with torch.no_grad():
                    source_rows, target_rows = (model.get_classifier()(rows).softmax(1)
                                                for rows in (source_rows, target_rows))
            classifier = fit_domain_classifier(source_rows, target_rows, hp["domain_l2"])
            weights = importance_weights(classifier.density_ratio(source_rows), hp["flattening"], hp["clip"])
            per_class = np.array([float(weights[torch.from_numpy(source_labels == c)].mean()) for c in range(10)])
            print(f"  mean weight of the class ({ratio_on:>10}):", " ".join(f"{v:.2f}" for v in per_class),
                  f"  correlation {np.corrcoef(prior_ratio, per_class)[0, 1]:.2f}, effective sample size "
                  f"{effective_sample_size(weights) / len(weights):.2f} of the source")

if __name__ == "__main__":
    from _script import run   # beside this script, first on its sys.path

    run(main)
