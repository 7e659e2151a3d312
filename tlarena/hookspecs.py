"""The plugin contract: every hook a tlarena plugin can implement.

A plugin is a module (or object) with functions decorated by ``tlarena.hookimpl`` whose names are
those below. Registration hooks receive a ``register`` callback; call it once per thing you add.
"""
import pluggy

hookspec = pluggy.HookspecMarker("tlarena")


@hookspec
def register_methods(register):
    """Register transfer methods: ``register(MethodClass)`` for each ``TransferMethod`` subclass."""


@hookspec
def register_pairs(register):
    """Register domain pairs: ``register(DomainPair(...))`` for each pair."""


@hookspec
def register_backbones(register):
    """Register backbones: ``register(Backbone(...))``; register the model itself in timm first."""


@hookspec
def run_finished(record):
    """Called with every finished ``RunRecord`` (ok, failed, diverged or n/a), after it is written."""
