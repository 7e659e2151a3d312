"""Two pairs whose sources train on the same rows of one hub dataset but test on different rows."""
import tlarena

DIGITS = tuple(str(d) for d in range(10))
TRAIN_ON_ALL = {"train": "train"}
FIRST = tlarena.HubDataset("mnist-test-head", "ylecun/mnist", DIGITS, splits={**TRAIN_ON_ALL, "test": "test[:4]"})
LAST = tlarena.HubDataset("mnist-test-tail", "ylecun/mnist", DIGITS, splits={**TRAIN_ON_ALL, "test": "test[4:]"})
USPS = tlarena.HubDataset("usps-tiny", "flwrlabs/usps", DIGITS)


@tlarena.hookimpl
def register_pairs(register):
    register(tlarena.DomainPair(FIRST, USPS, suite="same-source"))
    register(tlarena.DomainPair(LAST, USPS, suite="same-source"))
