"""Source-only: the source model applied to the target as it is (fixed parameter transfer)."""
import tlarena
from tlarena import Setting


class SourceOnly(tlarena.TransferMethod):
    """The lower bound of domain adaptation: no target data at all.

    Paper: Pan & Yang, "A Survey on Transfer Learning", IEEE TKDE 22(10), 2010 — parameter transfer
    with the source parameters kept fixed. The harness trains the shared source model (ERM on the
    labeled source); this method only evaluates it on the target test split.
    """

    name = "source-only"
    family = "parameter transfer"
    paper = "Pan & Yang, 'A Survey on Transfer Learning', IEEE TKDE 2010"
    settings = frozenset({Setting.UDA})
    init = "source"
    trains = False
    hparams = {}
