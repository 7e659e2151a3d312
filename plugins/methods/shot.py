"""SHOT: source hypothesis transfer. The source head stays fixed; the features adapt to the target."""
import copy

import torch
import torch.nn.functional as F

import tlarena
from tlarena import Setting
from tlarena.self_training import class_centroids, information_maximization, nearest_centroid


class SHOT(tlarena.TransferMethod):
    """Source hypothesis transfer with information maximization and self-supervised pseudo-labels.

    Paper: Liang et al., "Do We Really Need to Access the Source Data? Source Hypothesis Transfer for
    Unsupervised Domain Adaptation", ICML 2020, eq. 2–6. The source head h (the hypothesis) is frozen
    and the feature extractor g trained on unlabeled target images, p = softmax(h(g(x))):
        L = E[H(p)] − H(p̄) + β · CE(p, ŷ),   p̄ the batch's mean prediction, β = 0.3,
    ŷ the self-supervised pseudo-label: over every target image, class centroids weighted by p in
    the cosine space of g (features with a 1 appended, normalized), one refinement with the hard
    labels of the nearest centroid, then each image's nearest centroid. The pseudo-labels are
    relabelled in a phase every 50 steps, about an epoch of the embedded targets (the paper:
    every epoch).
    Paper defaults (digits code): β = 0.3, SGD at 0.01, ε = 1e-5 in log(p̄ + ε).
    Deviations: an image takes the label its features had at the last phase (a frozen copy of g from
    then labels each batch, one extra forward per step, where the paper stores the labels by image
    index); no bottleneck layer with batch norm, no weight-normalized head, no label smoothing: the
    source model is the harness's shared one; the harness's learning-rate schedule.
    """

    name = "shot"
    family = "domain adaptation"
    paper = "Liang et al., 'Do We Really Need to Access the Source Data? Source Hypothesis Transfer', ICML 2020"
    settings = frozenset({Setting.SOURCE_FREE})
    init = "source"
    uses_unlabeled_target = True
    phase_every = 50   # about an epoch of the embedded targets: 1,000–3,000 images in batches of 32
    hparams = {"lr": 0.01, "weight_decay": 5e-4, "pseudo_weight": 0.3}
    search_space = {"lr": ("log", 1e-3, 0.05), "pseudo_weight": ("uniform", 0.0, 0.6)}

    def __init__(self, network, num_classes, hparams):
        super().__init__(network, num_classes, hparams)
        network.head.requires_grad_(False)
        self.labeler = copy.deepcopy(network).requires_grad_(False)
        self.register_buffer("centroids", torch.zeros(num_classes, network.feature_dim + 1))

    def train(self, mode: bool = True):
        super().train(mode)
        self.labeler.eval()
        return self

    def phase(self, target: tlarena.TargetImages) -> None:
        self.network.eval()
        self.labeler.load_state_dict(self.network.state_dict())
        features = torch.cat([self.network.features(x).float() for x in target.batches()])
        self.centroids = class_centroids(features, self.network.head(features).softmax(1))

    def training_step(self, batch: tlarena.Batch) -> torch.Tensor:
        logits = self.network(batch.unlabeled)
        with torch.no_grad():
            pseudo = nearest_centroid(self.labeler.features(batch.unlabeled), self.centroids)
        return information_maximization(logits) + self.hp["pseudo_weight"] * F.cross_entropy(logits, pseudo)
