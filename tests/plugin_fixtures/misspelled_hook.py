"""A plugin whose hook name has a typo: ``register_method`` (the hook is ``register_methods``)."""
import tlarena


class Misspelled(tlarena.TransferMethod):
    name = "misspelled"
    family = "parameter transfer"
    paper = "none: a misspelled-hook fixture"
    settings = frozenset({tlarena.Setting.SUPERVISED})


@tlarena.hookimpl
def register_method(register):
    register(Misspelled)
