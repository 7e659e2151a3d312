"""The pairs of a suite's domains: every ordered (source, target), and leave one domain out."""
from __future__ import annotations

from itertools import permutations
from typing import Sequence

import tlarena


def imagenet_suite(name: str, backbone: str = "resnet50-imagenet") -> tlarena.Suite:
    """An object-photo suite's defaults: an ImageNet ResNet at 224 px, fine-tuned for DomainBed's
    5,000 steps of batch 32 (Gulrajani and Lopez-Paz, ICLR 2021), the source model as long."""
    return tlarena.Suite(name, backbone=backbone, budget=tlarena.Budget(steps=5000, source_steps=5000),
                         source="ImageNet ResNet at 224 px; DomainBed's 5,000 steps of batch 32")


def every_ordered_pair(domains: Sequence[tlarena.HubDataset], suite: str,
                       description: str) -> tuple[tlarena.DomainPair, ...]:
    """Object-photo suites all train with random crops and flips."""
    return tuple(tlarena.DomainPair(source, target, suite=suite, description=description,
                                    augment="flip-crop")
                 for source, target in permutations(domains, 2))


def leave_one_domain_out(domains: Sequence[tlarena.HubDataset], suite: str,
                         description: str) -> tuple[tlarena.DomainPair, ...]:
    """Each domain as the target of the others pooled (the domain-generalization protocol)."""
    def pooled(target):
        left_out = target.name.removeprefix(f"{suite}-")
        return tlarena.MultiSource(f"{suite}-except-{left_out}", tuple(d for d in domains if d is not target))

    return tuple(tlarena.DomainPair(pooled(target), target, suite=suite, description=description,
                                    augment="flip-crop")
                 for target in domains)
