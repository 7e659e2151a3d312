"""The embedded-domains suite: domain generalization on digits, built from installed packages.

Four domains of one base, digits drawn in this machine's fonts (``sources.digit_domain``): plain
(light on dark), rotated 25°–45° either way, coloured on textured backgrounds, and noisy. Each is
its own draw, so the domains share the digits' distribution and differ only in their look. The
pairs are leave one domain out, as DomainBed's protocol (Gulrajani & Lopez-Paz, ICLR 2021): the
other three pooled (a ``MultiSource``) → the fourth, e.g.
``embedded-domains-except-noisy->embedded-domains-noisy``; they run in the ``dg`` setting (and the
single-source settings, the pool as one source). Kept out of the ``embedded`` suite, whose pairs
and shipped records stay as they are.
"""
from functools import partial

import tlarena

from tlarena_plugins.embedded import sources

SUITE = "embedded-domains"

# Bump the version whenever the builder's output changes: the version keys the on-disk cache.
DOMAINS = tuple(
    tlarena.BuiltDataset(name=f"{SUITE}-{look}", build=partial(sources.digit_domain, look),
                         classes=sources.DIGITS, version="1")
    for look in sources.DOMAIN_LOOKS)


def leave_one_out(target: tlarena.BuiltDataset) -> tlarena.DomainPair:
    look = target.name.removeprefix(f"{SUITE}-")
    pooled = tlarena.MultiSource(f"{SUITE}-except-{look}", tuple(d for d in DOMAINS if d is not target))
    # No augmentation: a flip would change what a digit is.
    return tlarena.DomainPair(pooled, target, suite=SUITE,
                              description=f"Digits plain, rotated, coloured and noisy: the other three → {look}.")


PAIRS = tuple(leave_one_out(target) for target in DOMAINS)


@tlarena.hookimpl
def register_pairs(register):
    for pair in PAIRS:
        register(pair)


@tlarena.hookimpl
def register_suites(register):
    register(tlarena.Suite(SUITE, backbone="lenet", budget=tlarena.Budget(),
                           source="LeNet from scratch, tlarena's default budget"))
