"""Office-Home (Venkateswara et al., CVPR 2017): 65 classes in 4 domains.

12 single-source pairs, plus leave one domain out with the other three pooled as the source (4 pairs),
the domain-generalization protocol of DomainBed (Gulrajani and Lopez-Paz, ICLR 2021).

Hub dataset ``flwrlabs/office-home``: one ``train`` split with columns ``image`` (Image),
``domain`` (string: ``Art``, ``Clipart``, ``Product``, ``Real World``) and ``label`` (ClassLabel, 65).
A domain is the rows whose ``domain`` column names it. As in the UDA literature (DANN, CDAN), the
whole source domain is the labeled training data and the whole target domain is both the target's
training data (unlabeled in the ``uda`` setting) and its test set.
"""
import tlarena

from tlarena_plugins.suites._grid import every_ordered_pair, leave_one_domain_out, imagenet_suite

CLASSES = (
    "Alarm_Clock", "Backpack", "Batteries", "Bed", "Bike", "Bottle", "Bucket", "Calculator",
    "Calendar", "Candles", "Chair", "Clipboards", "Computer", "Couch", "Curtains", "Desk_Lamp",
    "Drill", "Eraser", "Exit_Sign", "Fan", "File_Cabinet", "Flipflops", "Flowers", "Folder", "Fork",
    "Glasses", "Hammer", "Helmet", "Kettle", "Keyboard", "Knives", "Lamp_Shade", "Laptop", "Marker",
    "Monitor", "Mop", "Mouse", "Mug", "Notebook", "Oven", "Pan", "Paper_Clip", "Pen", "Pencil",
    "Postit_Notes", "Printer", "Push_Pin", "Radio", "Refrigerator", "Ruler", "Scissors",
    "Screwdriver", "Shelf", "Sink", "Sneakers", "Soda", "Speaker", "Spoon", "TV", "Table",
    "Telephone", "ToothBrush", "Toys", "Trash_Can", "Webcam",
)
# The card's example row and users' code spell them so, "Real World" with a space.
DOMAINS = ("Art", "Clipart", "Product", "Real World")
REVISION = "d430d44779e929b335be368ab3456484e5de36bb"


def domain(value: str) -> tlarena.HubDataset:
    return tlarena.HubDataset(f"office-home-{value.lower().replace(' ', '-')}", "flwrlabs/office-home",
                              CLASSES, revision=REVISION, splits={"train": "train", "test": "train"},
                              filter={"domain": value})


PAIRS = every_ordered_pair([domain(value) for value in DOMAINS], "office-home",
                           "Office-Home: office and home objects across image styles") + leave_one_domain_out(
    [domain(value) for value in DOMAINS], "office-home", "Office-Home: three styles pooled → the fourth")

DEFAULTS = (imagenet_suite("office-home"),)
