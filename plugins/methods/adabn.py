"""AdaBN: the source model with its batch-norm statistics re-estimated on the target."""
import tlarena
from tlarena import Setting
from tlarena.adaptation import BATCH_NORM, reestimate_batch_norm


class AdaBN(tlarena.TransferMethod):
    """Adaptive batch normalization.

    Paper: Li et al., "Revisiting Batch Normalization For Practical Domain Adaptation", ICLR-W 2017
    (Pattern Recognition 80, 2018), Algorithm 1. Every weight stays the source model's; each
    batch-norm layer j normalizes with the target's statistics instead of the source's:
        y_j = γ_j (x_j − μ_j^t) / σ_j^t + β_j,   μ_j^t = E_t[x_j],  (σ_j^t)² = Var_t[x_j],
    the mean and variance of the layer's inputs over every target image. No loss, no optimizer step:
    the statistics come from a phase over the unlabeled target training images, then the model is
    evaluated as it is. The source-free setting is the one that gives what it needs (the source
    model and unlabeled target images, no source data).
    Deviations: the statistics are those of the target training images (the paper computes them on
    the images it tests on); while they are summed, the layers upstream normalize each batch of 256
    by its own statistics, not yet by the target's. On a backbone without batch norm (``lenet``)
    there is nothing to adapt and its cells are n/a.
    """

    name = "adabn"
    family = "domain adaptation"
    paper = "Li et al., 'Revisiting Batch Normalization For Practical Domain Adaptation', ICLR-W 2017"
    settings = frozenset({Setting.SOURCE_FREE})
    init = "source"
    uses_unlabeled_target = True
    trains = False
    requires_layers = BATCH_NORM
    hparams = {}

    def phase(self, target: tlarena.TargetImages) -> None:
        reestimate_batch_norm(self.network, target.batches())
