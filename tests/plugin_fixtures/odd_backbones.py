"""Backbones that cannot be what they say: a timm model that does not exist, weights of no known kind."""
import tlarena


@tlarena.hookimpl
def register_backbones(register):
    register(tlarena.Backbone("ghost", "no_such_timm_model"))
    register(tlarena.Backbone("lenet-sometimes-pretrained", "lenet", weights="sometimes"))
