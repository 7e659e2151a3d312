"""The plugin contract: every hook a tlarena plugin can implement.

A plugin is a module (or object) with functions decorated by ``@tlarena.hookimpl`` whose names are
those below. Registration hooks receive a ``register`` callback; call it once per thing you add.
A plugin whose hook has another name, or lacks the decorator, is reported and not loaded.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import pluggy

if TYPE_CHECKING:
    from tlarena.data.augment import Augmentation
    from tlarena.backbones import Backbone
    from tlarena.executors import ExecutorType
    from tlarena.methods import TransferMethod
    from tlarena.pairs import DomainPair
    from tlarena.records import RunRecord
    from tlarena.suites import Suite

hookspec = pluggy.HookspecMarker("tlarena")


@hookspec
def register_methods(register: Callable[[type[TransferMethod]], None]) -> None:
    """Register transfer methods.

    :param register: Call ``register(MethodClass)`` once for each ``tlarena.TransferMethod``
        subclass. A method that is invalid or whose name is taken is reported against this plugin;
        the plugin's other registrations still count.

    Called once per plugin when a command loads the plugins: built-ins and entry points first,
    then ``--plugin`` modules. The return value is ignored.
    """


@hookspec
def register_pairs(register: Callable[[DomainPair], None]) -> None:
    """Register domain pairs.

    :param register: Call ``register(tlarena.DomainPair(source, target, ...))`` once per pair.

    Called once per plugin when a command loads the plugins, like ``register_methods``.
    The return value is ignored.
    """


@hookspec
def register_backbones(register: Callable[[Backbone], None]) -> None:
    """Register backbones.

    :param register: Call ``register(tlarena.Backbone(name, model, ...))`` once per backbone;
        ``model`` must already be registered in timm (``timm.models.register_model``).

    Called once per plugin when a command loads the plugins, like ``register_methods``.
    The return value is ignored.
    """


@hookspec
def register_augmentations(register: Callable[[Augmentation], None]) -> None:
    """Register train-time augmentations, for pairs (``DomainPair.augment``) and method views.

    :param register: Call ``register(tlarena.Augmentation(name, apply))`` once per augmentation;
        ``apply(uint8 images, generator)`` returns uint8 images of the same shape on the same device.

    Called once per plugin when a command loads the plugins, before any pair or method is
    registered, so a pair may name an augmentation another plugin adds. The return value is ignored.
    """


@hookspec
def register_suites(register: Callable[[Suite], None]) -> None:
    """Register a suite's defaults: the backbone, weights and budget its pairs run with.

    :param register: Call ``register(tlarena.Suite(name, backbone=..., budget=...))`` once per suite;
        ``name`` is the ``suite`` of the pairs it speaks for. Flags given on the command line win.

    Called once per plugin when a command loads the plugins, like ``register_methods``.
    The return value is ignored.
    """


@hookspec
def register_executors(register: Callable[[ExecutorType], None]) -> None:
    """Register executors: where the runs of a grid execute (``tlarena run --executor NAME``).

    :param register: Call ``register(tlarena.ExecutorType(name, create, description, options))``
        once per executor; ``create(tlarena.ExecutorRequest)`` returns an object with
        ``results(specs, start)`` and ``close()`` (``tlarena.executors.Executor``), and
        ``options`` names the ``--executor-option KEY=VALUE`` keys it takes.

    Called once per plugin when a command loads the plugins, like ``register_methods``; the
    built-in ``local`` and ``ray`` come first. The return value is ignored.
    """


@hookspec
def run_finished(record: RunRecord) -> None:
    """Receive a finished run, for reporters and loggers.

    :param record: The run's ``RunRecord``, whatever its status: ok, failed, diverged or n/a.

    Called once per run, after its record is written to the results folder; runs already recorded
    and skipped are not reported again. If it raises, the plugin is named in a warning and the grid
    goes on. The return value is ignored.
    """
