"""Every ordered (source, target) pair of a suite's domains."""
from __future__ import annotations

from itertools import permutations
from typing import Sequence

import tlarena


def every_ordered_pair(domains: Sequence[tlarena.HubDataset], suite: str,
                       description: str) -> tuple[tlarena.DomainPair, ...]:
    """Object-photo suites all train with random crops and flips."""
    return tuple(tlarena.DomainPair(source, target, suite=suite, description=description,
                                    augment="flip-crop")
                 for source, target in permutations(domains, 2))
