"""CIFAR-10 ↔ STL-10 over their 9 shared classes (suite ``cifar-stl``), as in the DA literature.

Hub datasets: ``uoft-cs/cifar10`` (config ``plain_text``; columns ``img`` (Image, 32×32) and
``label`` (ClassLabel: airplane automobile bird cat deer dog frog horse ship truck)) and
``tanganke/stl10`` (columns ``image`` (Image, 96×96) and ``label`` (ClassLabel: airplane bird car cat
deer dog horse monkey ship truck)). CIFAR's frog and STL's monkey have no counterpart and are
dropped; automobile and car are one class.
"""
import tlarena

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "horse", "ship", "truck")
# The datasets' own class names, in their label order (the schema of a local copy).
CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
STL_CLASSES = ("airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck")
# Dataset label id → our id.
CIFAR_TO_OURS = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 7: 6, 8: 7, 9: 8}     # 6 frog dropped
STL_TO_OURS = {0: 0, 2: 1, 1: 2, 3: 3, 4: 4, 5: 5, 6: 6, 8: 7, 9: 8}       # 7 monkey dropped

# The parquet conversion commit, whose files sit under plain_text/.
CIFAR10 = tlarena.HubDataset("cifar10-9", "uoft-cs/cifar10", CLASSES, config="plain_text",
                             revision="0b2714987fa478483af9968de7c934580d0bb9a2", image_column="img",
                             label_map=CIFAR_TO_OURS, hub_classes=CIFAR_CLASSES)
STL10 = tlarena.HubDataset("stl10-9", "tanganke/stl10", CLASSES,
                           revision="49ae7f94508f7feae62baf836db284306eab0b0f", label_map=STL_TO_OURS,
                           hub_classes=STL_CLASSES)

PAIRS = (
    tlarena.DomainPair(CIFAR10, STL10, suite="cifar-stl",
                       description="CIFAR-10 to STL-10 on their 9 shared classes", augment="flip-crop"),
    tlarena.DomainPair(STL10, CIFAR10, suite="cifar-stl",
                       description="STL-10 to CIFAR-10 on their 9 shared classes", augment="flip-crop"),
)

DEFAULTS = ()   # no backbone of the literature is registered yet: tlarena's defaults apply
