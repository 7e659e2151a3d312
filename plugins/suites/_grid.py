"""Every ordered (source, target) pair of a suite's domains."""
from __future__ import annotations

from itertools import permutations
from typing import Sequence

import tlarena


def every_ordered_pair(domains: Sequence[tlarena.HubDataset], suite: str,
                       description: str) -> tuple[tlarena.DomainPair, ...]:
    return tuple(tlarena.DomainPair(source, target, suite=suite, description=description)
                 for source, target in permutations(domains, 2))
