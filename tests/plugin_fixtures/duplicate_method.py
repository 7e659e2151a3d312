"""A plugin that registers a name a built-in already has, and an invalid method."""
import tlarena


class AnotherFineTune(tlarena.TransferMethod):
    name = "fine-tune"
    family = "parameter transfer"
    paper = "none: a duplicate-name fixture"
    settings = frozenset({tlarena.Setting.SUPERVISED})


class NoPaper(tlarena.TransferMethod):
    name = "no-paper"
    family = "parameter transfer"
    settings = frozenset({tlarena.Setting.SUPERVISED})


@tlarena.hookimpl
def register_methods(register):
    register(AnotherFineTune)
    register(NoPaper)
