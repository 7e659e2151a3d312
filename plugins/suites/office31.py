"""Office-31 (Saenko et al., ECCV 2010): 31 classes in 3 domains, 6 pairs. Local data only.

No hub copy is used: unpack the official archive into the data dir so that it reads

    <data_dir>/local__office-31/amazon/images/<class>/*.jpg
    <data_dir>/local__office-31/dslr/images/<class>/*.jpg
    <data_dir>/local__office-31/webcam/images/<class>/*.jpg

(``<domain>/<class>/*.jpg`` works too), with class folders named as in ``CLASSES``, and pass
``--data-dir <data_dir>``. The domain folder is the split; as in the UDA literature, the whole
source domain trains and the whole target domain is both the target's training data and its test set.
"""
import tlarena

from tlarena_plugins.suites._grid import every_ordered_pair, imagenet_suite

CLASSES = (
    "back_pack", "bike", "bike_helmet", "bookcase", "bottle", "calculator", "desk_chair", "desk_lamp",
    "desktop_computer", "file_cabinet", "headphones", "keyboard", "laptop_computer", "letter_tray",
    "mobile_phone", "monitor", "mouse", "mug", "paper_notebook", "pen", "phone", "printer",
    "projector", "punchers", "ring_binder", "ruler", "scissors", "speaker", "stapler",
    "tape_dispenser", "trash_can",
)
DOMAINS = ("amazon", "dslr", "webcam")


def domain(value: str) -> tlarena.HubDataset:
    return tlarena.HubDataset(f"office-31-{value}", "local/office-31", CLASSES,
                              splits={"train": value, "test": value}, local_only=True)


PAIRS = every_ordered_pair([domain(value) for value in DOMAINS], "office-31",
                           "Office-31: Amazon product shots, DSLR and webcam photos")

DEFAULTS = (imagenet_suite("office-31"),)
