"""VisDA-2017 classification (Peng et al., 2017): synthetic renderings → real photos, 12 classes.
Local data only.

No hub copy is used: unpack the challenge's ``train`` (synthetic) and ``validation`` (real, from
COCO) archives into the data dir so that it reads

    <data_dir>/local__visda-2017/train/<class>/*.png
    <data_dir>/local__visda-2017/validation/<class>/*.jpg

with class folders named as in ``CLASSES`` (the ``image_list.txt`` files are ignored), and pass
``--data-dir <data_dir>``. As in the literature, the real images are both the target's training data
and its test set.
"""
import tlarena

from tlarena_plugins.suites._grid import imagenet_suite

CLASSES = ("aeroplane", "bicycle", "bus", "car", "horse", "knife", "motorcycle", "person", "plant",
           "skateboard", "train", "truck")

SYNTHETIC = tlarena.HubDataset("visda-2017-synthetic", "local/visda-2017", CLASSES,
                               splits={"train": "train", "test": "train"}, local_only=True)
REAL = tlarena.HubDataset("visda-2017-real", "local/visda-2017", CLASSES,
                          splits={"train": "validation", "test": "validation"}, local_only=True)

PAIRS = (
    tlarena.DomainPair(SYNTHETIC, REAL, suite="visda-2017",
                       description="VisDA-2017: 3D renderings to real photos", augment="flip-crop"),
)

# ResNet-101, as CDAN, MCC and SHOT report VisDA-2017
DEFAULTS = (imagenet_suite("visda-2017", backbone="resnet101-imagenet"),)
