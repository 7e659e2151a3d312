"""Built-in transfer methods, registered through the `tlarena` entry-point group like any plugin."""
import tlarena

from tlarena_plugins.methods.fine_tune import FineTune
from tlarena_plugins.methods.linear_probe import LinearProbe
from tlarena_plugins.methods.scratch import Scratch
from tlarena_plugins.methods.source_only import SourceOnly

METHODS = (SourceOnly, LinearProbe, FineTune, Scratch)


@tlarena.hookimpl
def register_methods(register):
    for method in METHODS:
        register(method)
