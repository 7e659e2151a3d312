"""The training streams of one run: what the setting allows (``settings.VISIBILITY``) and the
method asks for, at the method's unlabeled ratio, with the views it declares."""
from __future__ import annotations

import torch

from tlarena.data import BatchStream, SplitTensors
from tlarena.data.augment import NONE, Augment, Augmentation
from tlarena.methods import TransferMethod
from tlarena.partition import Parts
from tlarena.registry import Registry
from tlarena.settings import Setting
from tlarena.trainer import Streams


def training_streams(method_cls: type[TransferMethod], setting: Setting, parts: Parts, augment: str,
                     augmentations: Registry[Augmentation], seed: int, batch_size: int,
                     device: torch.device) -> Streams:
    """Each stream seeded apart; ``augment`` is the pair's augmentation, the views the method's.
    A method never sees a test part."""
    if not method_cls.trains:
        return Streams()
    sees = setting.sees

    def stream(name: str, split: SplitTensors, stream_seed: int, size: int) -> BatchStream:
        views = {view: _apply(view, augmentations) for view in method_cls.views.get(name, ())}
        return BatchStream(split, size, stream_seed, device, _apply(augment, augmentations), views=views)

    streams = Streams()
    if method_cls.uses_source_data and sees.source_data:
        streams.source = stream("source", parts.source_fit, seed, batch_size)
    if sees.target_labels != "none" and parts.target_labeled is not None:
        streams.target = stream("target", parts.target_labeled, seed + 1, batch_size)
    if method_cls.uses_unlabeled_target and sees.unlabeled_target:
        streams.unlabeled = stream("unlabeled", parts.target_pool, seed + 2,
                                   batch_size * method_cls.unlabeled_ratio)
    return streams


def _apply(name: str, augmentations: Registry[Augmentation]) -> Augment | None:
    return None if name == NONE else augmentations.get(name).apply
