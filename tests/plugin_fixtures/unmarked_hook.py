"""A plugin whose hook lacks the ``@tlarena.hookimpl`` marker, which pluggy would skip silently."""
import tlarena


class Unmarked(tlarena.TransferMethod):
    name = "unmarked"
    family = "parameter transfer"
    paper = "none: an unmarked-hook fixture"
    settings = frozenset({tlarena.Setting.SUPERVISED})


def register_methods(register):
    register(Unmarked)
