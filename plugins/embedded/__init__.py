"""The embedded suite: tlarena's default pairs, built from installed packages with no download.

Handwritten digits from scikit-learn, and digits and letters drawn in this machine's fonts; see
``sources`` for how each dataset is made.
"""
import tlarena

from tlarena_plugins.embedded import sources

SUITE = "embedded"

# Bump a version whenever its builder's output changes: the version keys the on-disk cache.
UCI_DIGITS = tlarena.BuiltDataset(
    name="uci-digits", build=sources.uci_digits, classes=sources.DIGITS, version="1")
UCI_DIGITS_ROTATED = tlarena.BuiltDataset(
    name="uci-digits-rotated", build=sources.uci_digits_rotated, classes=sources.DIGITS,
    version="2")
SYNTH_DIGITS = tlarena.BuiltDataset(
    name="synth-digits", build=sources.synth_digits, classes=sources.DIGITS, version="1")
SYNTH_DIGITS_COLOUR = tlarena.BuiltDataset(
    name="synth-digits-colour", build=sources.synth_digits_colour, classes=sources.DIGITS,
    version="1")
SYNTH_LETTERS = tlarena.BuiltDataset(
    name="synth-letters", build=sources.synth_letters, classes=sources.LETTERS, version="1")


def _pair(source: tlarena.DataSource, target: tlarena.DataSource,
          description: str) -> tlarena.DomainPair:
    return tlarena.DomainPair(source=source, target=target, suite=SUITE, description=description)


PAIRS = (
    _pair(SYNTH_DIGITS, UCI_DIGITS, "Printed digits in system fonts to small handwritten scans."),
    _pair(UCI_DIGITS, SYNTH_DIGITS, "Small handwritten scans to printed digits in system fonts."),
    _pair(UCI_DIGITS, UCI_DIGITS_ROTATED,
          "Handwritten digits to the same digits rotated 35-60 degrees."),
    _pair(SYNTH_DIGITS, SYNTH_DIGITS_COLOUR,
          "Light-on-dark printed digits to coloured digits on textured backgrounds."),
    _pair(UCI_DIGITS, SYNTH_LETTERS, "Handwritten digits to printed letters A-J: a new task."),
)


@tlarena.hookimpl
def register_pairs(register):
    for pair in PAIRS:
        register(pair)


@tlarena.hookimpl
def register_suites(register):
    # tlarena's defaults, which the shipped records of this suite were made with
    register(tlarena.Suite(SUITE, backbone="lenet", budget=tlarena.Budget(),
                           source="LeNet from scratch, tlarena's default budget"))
