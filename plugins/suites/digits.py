"""The digits suite of the domain adaptation literature, and MNIST → Fashion-MNIST task transfer.

Pairs (suite ``digits``): MNIST → USPS, USPS → MNIST, SVHN → MNIST, MNIST → MNIST-M, and the
small-sample protocol of ADDA (Tzeng et al., CVPR 2017) and JDA: 2,000 MNIST and 1,800 USPS training
images (``mnist-2000`` ↔ ``usps-1800``). The subsets are the first 2,000 / 1,800 images of the hub
train splits (``train[:2000]``, ``train[:1800]``): a fixed, reproducible selection where the papers
drew theirs at random. Every pair is evaluated on the target's full test split, except the one below.

MNIST → MNIST-M on the two test splits alone (``mnist-test-a`` → ``mnist-m-test-b``), for machines
that hold only those: MNIST-M's test image i is MNIST's test image i blended over a photo patch, so
the two sides are disjoint halves by index (source: MNIST test images 0–4,499; target: MNIST-M test
images 4,500–9,000), and no target digit is also a source digit. Each side is one split, so the
source keeps 20 % for validation and the target is scored as ``--uda-eval`` says (transductive, or a
held-out 20 % never adapted to).

Suite ``fashion-mnist``: MNIST → Fashion-MNIST, task transfer (different label spaces).

Hub datasets (columns ``image`` (Image), ``label`` (ClassLabel)): ``ylecun/mnist``,
``flwrlabs/usps`` (16×16), ``ufldl-stanford/svhn`` config ``cropped_digits`` (32×32 RGB; its
``extra`` split is not used), ``Mike0307/MNIST-M`` (32×32 RGB), ``zalando-datasets/fashion_mnist``.
Offline, ``tlarena data import`` turns the IDX / HDF5 / NPZ files these come as into local copies.
"""
import tlarena

DIGITS = tuple(str(digit) for digit in range(10))
FASHION = ("T - shirt / top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

# Revisions: the commits that converted each dataset to parquet, or the latest found.
MNIST_REVISION = "77f3279092a1c1579b2250db8eafed0ad422088c"
USPS_REVISION = "a391e3772a155d93b803d9e31b270c02b0d69b08"
SVHN_REVISION = "f9e1717d73324ebbc1ece84267ccd80d0aca0690"
FASHION_REVISION = "531be5e2ccc9dba0c201ad3ae567a4f3d16ecdd2"

MNIST = tlarena.HubDataset("mnist", "ylecun/mnist", DIGITS, revision=MNIST_REVISION)
USPS = tlarena.HubDataset("usps", "flwrlabs/usps", DIGITS, revision=USPS_REVISION)
SVHN = tlarena.HubDataset("svhn", "ufldl-stanford/svhn", DIGITS, revision=SVHN_REVISION,
                          config="cropped_digits")
# revision=None: only the short id bca0c96 of main's head could be found, not a full sha. Columns
# image and label, splits train (59,001) and test (9,001), per the dataset viewer; its card declares
# no features, and digit names for the labels are what its parquet files hold, as far as checked.
MNIST_M = tlarena.HubDataset("mnist-m", "Mike0307/MNIST-M", DIGITS)
MNIST_2000 = tlarena.HubDataset("mnist-2000", "ylecun/mnist", DIGITS, revision=MNIST_REVISION,
                                splits={"train": "train[:2000]", "test": "test"})
USPS_1800 = tlarena.HubDataset("usps-1800", "flwrlabs/usps", DIGITS, revision=USPS_REVISION,
                               splits={"train": "train[:1800]", "test": "test"})
# One split each (train = test = a half of the test split): the partition holds out what it scores on.
HALF = 4500
MNIST_TEST_A = tlarena.HubDataset("mnist-test-a", "ylecun/mnist", DIGITS, revision=MNIST_REVISION,
                                  splits={"train": f"test[:{HALF}]", "test": f"test[:{HALF}]"})
MNIST_M_TEST_B = tlarena.HubDataset("mnist-m-test-b", "Mike0307/MNIST-M", DIGITS,
                                    splits={"train": f"test[{HALF}:]", "test": f"test[{HALF}:]"})
FASHION_MNIST = tlarena.HubDataset("fashion-mnist", "zalando-datasets/fashion_mnist", FASHION,
                                   revision=FASHION_REVISION)

PAIRS = (
    tlarena.DomainPair(MNIST, USPS, suite="digits", description="handwritten digits: MNIST to USPS"),
    tlarena.DomainPair(USPS, MNIST, suite="digits", description="handwritten digits: USPS to MNIST"),
    tlarena.DomainPair(SVHN, MNIST, suite="digits", description="house-number photos to handwriting"),
    tlarena.DomainPair(MNIST, MNIST_M, suite="digits",
                       description="MNIST to MNIST blended over colour photo patches (DANN)"),
    tlarena.DomainPair(MNIST_TEST_A, MNIST_M_TEST_B, suite="digits",
                       description="MNIST to MNIST-M on the test splits, disjoint halves by index"),
    tlarena.DomainPair(MNIST_2000, USPS_1800, suite="digits",
                       description="small-sample protocol (ADDA, JDA): 2,000 MNIST to 1,800 USPS"),
    tlarena.DomainPair(USPS_1800, MNIST_2000, suite="digits",
                       description="small-sample protocol (ADDA, JDA): 1,800 USPS to 2,000 MNIST"),
    tlarena.DomainPair(MNIST, FASHION_MNIST, suite="fashion-mnist",
                       description="task transfer: digits to clothing, same image format"),
)

# LeNet from scratch, as the digits DA papers (ADDA, DANN on MNIST→USPS); tlarena's default budget
DEFAULTS = tuple(tlarena.Suite(name, backbone="lenet", budget=tlarena.Budget(),
                               source="LeNet from scratch at 32 px, tlarena's default budget")
                 for name in ("digits", "fashion-mnist"))
