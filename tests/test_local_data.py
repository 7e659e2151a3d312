"""`tlarena data import`'s conversions: files in hand → a local copy that load_split reads."""
import dataclasses
import gzip

import h5py
import numpy as np
import pytest
from conftest import SHARED_DATA, requires_shared_data, tlarena_process
from datasets import load_from_disk
from fixtures_hub import write_image_folders

from tlarena import HubDataset
from tlarena.data import load_split
from tlarena.data.importer import import_data, parse_splits, source_reading
from tlarena_plugins.suites import cifar_stl, digits

MNIST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
USPS_TRAIN_COUNTS = [1194, 1005, 731, 658, 652, 556, 664, 645, 542, 644]
USPS_TEST_COUNTS = [359, 264, 198, 166, 200, 160, 170, 147, 166, 177]
MNIST_M_COUNTS = [878, 1016, 933, 908, 890, 807, 856, 914, 880, 919]


def read_idx(path):
    data = gzip.open(path).read()
    if int.from_bytes(data[:4], "big") == 2051:
        n, rows, cols = (int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, rows, cols)
    return np.frombuffer(data, np.uint8, offset=8)


def pixels(dataset, row, mode="L"):
    return np.asarray(dataset[row]["image"].convert(mode))


def same_images(dataset, expected, mode="L", every=997):
    """Rows spread over the split hold exactly the expected pixels, in order."""
    return all(np.array_equal(pixels(dataset, i, mode), expected[i]) for i in range(0, len(expected), every))


def stands_upright(dataset, digit=1):
    """A mean '1' is a vertical stroke: its ink spreads more over rows than over columns."""
    mean = np.mean([pixels(dataset, i) for i, label in enumerate(dataset["label"]) if label == digit],
                   axis=0)
    spread = [np.sqrt(np.average((np.arange(len(p)) - np.average(np.arange(len(p)), weights=p)) ** 2,
                                 weights=p)) for p in (mean.sum(axis=1), mean.sum(axis=0))]
    return spread[0] > 1.5 * spread[1]


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """The real files of ../shared/data, imported once into a data dir."""
    data_dir = tmp_path_factory.mktemp("data")
    mnist, fashion = SHARED_DATA / "mnist", SHARED_DATA / "fashion_mnist"
    import_data("idx", "ylecun/mnist", {"test": [mnist / "t10k-images-idx3-ubyte.gz",
                                                 mnist / "t10k-labels-idx1-ubyte.gz"]}, data_dir,
                source=digits.MNIST)
    import_data("idx", "zalando-datasets/fashion_mnist",
                {"test": [fashion / "t10k-labels-idx1-ubyte.gz", fashion / "t10k-images-idx3-ubyte.gz"]},
                data_dir, source=digits.FASHION_MNIST)
    usps = SHARED_DATA / "usps" / "usps.h5"
    import_data("hdf5", "flwrlabs/usps", {"train": [usps], "test": [usps]}, data_dir, source=digits.USPS)
    import_data("npz", "Mike0307/MNIST-M", {"test": [SHARED_DATA / "mnist_m" / "mnist_m_test.npz"]},
                data_dir, source=digits.MNIST_M)
    return data_dir


@requires_shared_data
def test_mnist_idx_reads_back_with_its_counts_labels_and_upright_images(offline, imported):
    test = load_split(digits.MNIST, "test", data_dir=imported)

    raw = read_idx(SHARED_DATA / "mnist" / "t10k-images-idx3-ubyte.gz")
    assert np.bincount(test["label"][:]).tolist() == MNIST_COUNTS
    assert same_images(test, raw) and np.array_equal(pixels(test, 9999), raw[9999])
    assert stands_upright(test)


@requires_shared_data
def test_fashion_mnist_idx_reads_back_with_the_hub_class_names(offline, imported):
    test = load_split(digits.FASHION_MNIST, "test", data_dir=imported)

    assert np.bincount(test["label"][:]).tolist() == [1000] * 10
    assert test.features["label"].names[0] == "T - shirt / top"
    raw = read_idx(SHARED_DATA / "fashion_mnist" / "t10k-images-idx3-ubyte.gz")
    assert same_images(test, raw)


@requires_shared_data
def test_usps_hdf5_reads_back_as_upright_16x16_digits(offline, imported):
    train = load_split(digits.USPS, "train", data_dir=imported)
    test = load_split(digits.USPS, "test", data_dir=imported)

    with h5py.File(SHARED_DATA / "usps" / "usps.h5") as f:
        upright = np.rint(f["train/data"][:].reshape(-1, 16, 16) * 255).astype(np.uint8)
    assert np.bincount(train["label"][:]).tolist() == USPS_TRAIN_COUNTS
    assert np.bincount(test["label"][:]).tolist() == USPS_TEST_COUNTS
    assert same_images(train, upright)
    assert stands_upright(train)


@requires_shared_data
def test_the_small_sample_usps_source_takes_the_first_1800_training_images(offline, imported):
    assert len(load_split(digits.USPS_1800, "train", data_dir=imported)) == 1800


@requires_shared_data
def test_mnist_m_npz_reads_back_as_colour_images_of_the_mnist_test_digits(offline, imported):
    test = load_split(digits.MNIST_M, "test", data_dir=imported)

    archive = np.load(SHARED_DATA / "mnist_m" / "mnist_m_test.npz")
    mnist_labels = read_idx(SHARED_DATA / "mnist" / "t10k-labels-idx1-ubyte.gz")
    assert np.bincount(test["label"][:]).tolist() == MNIST_M_COUNTS
    assert same_images(test, archive["images"], "RGB")
    assert np.array_equal(test["label"][:], mnist_labels[:9001])


def test_split_arguments_of_the_cli_become_a_mapping():
    assert parse_splits(["train=a.gz,b.gz", "test=c.gz"]) == {"train": ["a.gz", "b.gz"], "test": ["c.gz"]}
    with pytest.raises(ValueError, match="NAME=PATH"):
        parse_splits(["train"])


def test_npz_float_images_are_scaled_to_bytes(offline, tmp_path):
    np.savez(tmp_path / "x.npz", images=np.full((3, 5, 5), 0.5, np.float32), labels=np.array([0, 1, 2]))

    import_data("npz", "acme/blobs", {"train": [tmp_path / "x.npz"]}, tmp_path / "data")

    blobs = HubDataset("blobs", "acme/blobs", ("0", "1", "2"))
    train = load_split(blobs, "train", data_dir=tmp_path / "data")
    assert train["label"][:] == [0, 1, 2] and pixels(train, 0).max() == 128


def test_hdf5_group_can_be_named_after_the_path(offline, tmp_path):
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["held_out/data"] = np.zeros((2, 4), np.float32)
        f["held_out/target"] = np.array([1, 0])

    import_data("hdf5", "flwrlabs/usps", {"test": [f"{tmp_path / 'd.h5'}::held_out"]}, tmp_path / "data",
                source=digits.USPS)

    test = load_split(digits.USPS, "test", data_dir=tmp_path / "data")
    assert test["label"][:] == [1, 0] and test[0]["image"].size == (2, 2)


def test_image_folders_are_imported_with_the_hub_class_names(offline, tmp_path):
    write_image_folders(tmp_path / "stl", {"bird": 2, "monkey": 1})

    out = import_data("imagefolder", "tanganke/stl10", {"train": [tmp_path / "stl"]}, tmp_path / "data",
                      source=cifar_stl.STL10)

    assert out == tmp_path / "data" / "tanganke__stl10"
    train = load_split(HubDataset("stl-raw", "tanganke/stl10", ("airplane", "bird", "car", "cat", "deer",
                                  "dog", "horse", "monkey", "ship", "truck"), splits={"train": "train"}),
                       "train", data_dir=tmp_path / "data")
    assert sorted(train["label"][:]) == [1, 1, 7]


def test_an_import_into_a_pipe_prints_its_result_without_progress_bars(offline, tmp_path):
    np.savez(tmp_path / "x.npz", images=np.zeros((3, 5, 5), np.uint8), labels=np.array([0, 1, 2]))

    done = tlarena_process("--data-dir", str(tmp_path / "data"), "data", "import", "npz", "--hub-id",
                           "acme/blobs", "--split", f"train={tmp_path / 'x.npz'}")

    assert done.returncode == 0 and "imported acme/blobs" in done.stdout, done.stderr
    assert "\r" not in done.stderr and "examples/s" not in done.stderr, done.stderr


def test_the_command_line_imports_in_the_schema_the_suite_declares(cli, offline, tmp_path):
    write_image_folders(tmp_path / "cifar", {"frog": 1, "truck": 2})

    imported = cli("--data-dir", str(tmp_path / "data"), "data", "import", "imagefolder", "--hub-id",
                   "uoft-cs/cifar10", "--config", "plain_text", "--split", f"train={tmp_path / 'cifar'}")

    copy = load_from_disk(str(tmp_path / "data" / "uoft-cs__cifar10" / "plain_text"))["train"]
    assert imported.code == 0 and copy.features == cifar_stl.CIFAR10.hub_features()


def test_sources_of_one_hub_id_must_agree_on_its_schema():
    renamed = dataclasses.replace(digits.MNIST, name="mnist-img", image_column="img")

    with pytest.raises(ValueError, match="'mnist' and 'mnist-img' read ylecun/mnist with different columns"):
        source_reading("ylecun/mnist", [digits.MNIST, digits.USPS, renamed])


def test_a_folder_that_is_not_a_class_of_the_schema_is_refused(tmp_path):
    write_image_folders(tmp_path / "stl", {"unicorn": 1})

    with pytest.raises(ValueError, match="unicorn"):
        import_data("imagefolder", "tanganke/stl10", {"train": [tmp_path / "stl"]}, tmp_path / "data",
                    source=cifar_stl.STL10)


def test_an_existing_copy_is_kept_unless_overwrite_is_asked(tmp_path):
    np.savez(tmp_path / "x.npz", images=np.zeros((1, 2, 2), np.uint8), labels=np.array([0]))
    import_data("npz", "acme/blobs", {"train": [tmp_path / "x.npz"]}, tmp_path / "data")

    with pytest.raises(FileExistsError):
        import_data("npz", "acme/blobs", {"train": [tmp_path / "x.npz"]}, tmp_path / "data")
    import_data("npz", "acme/blobs", {"train": [tmp_path / "x.npz"]}, tmp_path / "data", overwrite=True)


def test_idx_images_without_their_labels_file_are_refused(tmp_path):
    images = tmp_path / "images.gz"
    with gzip.open(images, "wb") as f:
        f.write((2051).to_bytes(4, "big") + (1).to_bytes(4, "big") + (2).to_bytes(4, "big") * 2 + bytes(4))

    with pytest.raises(ValueError, match="labels file"):
        import_data("idx", "ylecun/mnist", {"train": [images]}, tmp_path / "data")


@pytest.mark.parametrize("format, given, says", [
    ("idx", "missing.gz", "--split train: no file {tmp}/missing.gz"),
    ("idx", ".", "--split train: {tmp} is a folder; idx reads IDX files, an images file and its labels file"),
    ("imagefolder", "x.h5", "--split train: {tmp}/x.h5 is a file; imagefolder reads folders <class>/*.png|jpg"),
    ("hdf5", "x.npz", "{tmp}/x.npz: not an HDF5 file"),
    ("npz", "x.h5", "{tmp}/x.h5: not an npz archive"),
    ("npz", "x.npy", "{tmp}/x.npy: a single .npy array, not an npz archive"),
    ("idx", "truncated.gz", "{tmp}/truncated.gz: not a readable IDX file"),
])
def test_a_path_that_is_not_what_the_format_reads_is_one_line_and_exit_2(cli, tmp_path, format, given, says):
    # Regression: a folder given to idx, a missing file, or a file of another format ended in a
    # traceback (IsADirectoryError), h5py's or numpy's own words (numpy's suggesting allow_pickle).
    np.savez(tmp_path / "x.npz", images=np.zeros((1, 2, 2), np.uint8), labels=np.array([0]))
    np.save(tmp_path / "x.npy", np.zeros(3))
    with h5py.File(tmp_path / "x.h5", "w") as handle:
        handle["data"], handle["target"] = np.zeros((1, 4)), np.zeros(1)
    (tmp_path / "truncated.gz").write_bytes(gzip.compress(bytes(64))[:12])

    result = cli("--data-dir", str(tmp_path / "data"), "data", "import", format, "--hub-id", "acme/blobs",
                 "--split", f"train={tmp_path / given}")

    assert result.code == 2 and "Traceback" not in result.err
    assert says.format(tmp=tmp_path) in result.err and not (tmp_path / "data").exists()
