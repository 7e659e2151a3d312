"""CDAN and CDAN+E: a domain discriminator conditioned on the classifier's predictions."""
import torch

import tlarena
from tlarena.adaptation import (AdaptationMethod, DomainDiscriminator, RandomMultilinearMap,
                                domain_adversarial_loss, entropy_weights, forward_source_and_target,
                                multilinear_map, reversal_schedule, reverse_gradient)

EXPLICIT_MAP_LIMIT = 4096   # the paper: f ⊗ g itself up to 4096 dimensions, a random map beyond


class CDAN(AdaptationMethod):
    """Conditional domain adversarial network.

    Paper: Long et al., "Conditional Adversarial Domain Adaptation", NeurIPS 2018, eq. 7–8, the
    min over G and max over D of E(G) − λ E(D, G), trained as one loss through a reversal layer R:
        L = CE(G(x_s), y_s) + λ · BCE_w(D(R_λp(T(f, g))), domain),
    T the multilinear map f ⊗ g of features f and softmax predictions g (section 3.2; when
    d_f · C > 4096, the randomized map (R_f f) ⊙ (R_g g) / √d with d = 1024, R Gaussian). CDAN+E
    (``cdan-e``) weighs each example by w = 1 + e^{−H(g)} (entropy conditioning); CDAN uses w = 1.
    R has DANN's schedule λ_p = 2 / (1 + exp(−10 p)) − 1 and g enters T detached, as in the
    authors' code, which also scales the weights w to mean 1 within each domain, as we do.
    Paper defaults: λ = 1, D of two hidden layers of 1024 units, d = 1024.
    Deviations: starts from the shared source model; the harness's learning-rate schedule, the same
    rate for D as for the network (the paper: ×10 for new layers).
    """

    name = "cdan"
    paper = "Long et al., 'Conditional Adversarial Domain Adaptation', NeurIPS 2018"
    entropy_conditioning = False
    hparams = {"lr": 0.01, "weight_decay": 5e-4, "trade_off": 1.0, "map_dim": 1024}
    search_space = {"lr": ("log", 1e-3, 0.05), "trade_off": ("log", 0.1, 1.0)}

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        joint = network.feature_dim * num_classes
        self.random_map = (RandomMultilinearMap(network.feature_dim, num_classes, hparams["map_dim"])
                           if joint > EXPLICIT_MAP_LIMIT else None)
        self.discriminator = DomainDiscriminator(hparams["map_dim"] if self.random_map else joint)

    def _conditioned(self, features: torch.Tensor, predictions: torch.Tensor) -> torch.Tensor:
        if self.random_map is not None:
            return self.random_map(features, predictions)
        return multilinear_map(features, predictions)

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        out = forward_source_and_target(self.network, batch)
        predictions = torch.cat([out.source_logits, out.target_logits]).softmax(1).detach()
        features = torch.cat([out.source_features, out.target_features])
        joint = reverse_gradient(self._conditioned(features, predictions), reversal_schedule(self.progress.p))
        n, weights = len(out.source_features), None
        if self.entropy_conditioning:
            weights = torch.cat([entropy_weights(predictions[:n]), entropy_weights(predictions[n:])])
        adversarial = domain_adversarial_loss(self.discriminator, joint[:n], joint[n:], weights)
        return out.classification + self.hp["trade_off"] * adversarial


# CDAN+E: the same math with entropy conditioning on (its docstring is CDAN's, through inspect.getdoc).
class CDANE(CDAN):
    name = "cdan-e"
    paper = "Long et al., 'Conditional Adversarial Domain Adaptation' (CDAN+E), NeurIPS 2018"
    entropy_conditioning = True
