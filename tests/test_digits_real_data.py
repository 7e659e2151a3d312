"""The digits suite end to end on REAL images from ../shared/data, through the hub code path.

The files are imported with `tlarena data import` into a data dir, which stands in for the hub:
the pairs below are the hub-backed pairs of the `digits` suite, unchanged. ../shared holds only
MNIST's test set, so it is imported as MNIST's train split too; the assertions use MNIST only as a
source (mnist->usps) or only as a test set (usps->mnist), never both in one run.
"""
import pytest

from conftest import SHARED_DATA, requires_shared_data

from datasets import DatasetDict, load_from_disk

from tlarena.data import dataset_dir
from tlarena.data.importer import import_data
from tlarena.records import read_records
from tlarena_plugins.suites.digits import FASHION_MNIST

MNIST = SHARED_DATA / "mnist"
BUDGET = ["--steps", "60", "--source-steps", "300", "--eval-points", "2", "--seeds", "0"]


@pytest.fixture
def data_dir(cli, tmp_path):
    data = tmp_path / "data"
    mnist = f"{MNIST / 't10k-images-idx3-ubyte.gz'},{MNIST / 't10k-labels-idx1-ubyte.gz'}"
    usps = str(SHARED_DATA / "usps" / "usps.h5")
    imports = [("idx", "ylecun/mnist", [f"train={mnist}", f"test={mnist}"]),
               ("hdf5", "flwrlabs/usps", [f"train={usps}", f"test={usps}"])]
    for fmt, hub_id, splits in imports:
        split_args = [arg for split in splits for arg in ("--split", split)]
        assert cli("--data-dir", str(data), "data", "import", fmt, "--hub-id", hub_id, *split_args).code == 0
    return data


@requires_shared_data
def test_digits_pairs_run_on_real_images_through_the_hub_path(cli, data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    results = tmp_path / "results"
    run = cli("--data-dir", str(data_dir), "run", "--methods", "source-only,fine-tune",
              "--pairs", "usps->mnist,mnist->usps", "--settings", "uda,few-shot",
              "--results", str(results), *BUDGET)
    top1 = {(r.spec.method, r.spec.pair): r.metrics.top1 for r in read_records(results)[0]
            if r.status == "ok"}
    assert run.code == 0
    assert top1[("source-only", "usps->mnist")] > 0.4      # USPS-trained LeNet on real MNIST test
    assert top1[("fine-tune", "mnist->usps")] > 0.6        # MNIST source, 10 USPS labels per class


@requires_shared_data
def test_list_pairs_shows_the_sizes_of_local_data(cli, data_dir, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    listed = cli("--data-dir", str(data_dir), "list", "pairs", "--suite", "digits")
    assert "7291/2007" in listed.out and "10000/10000" in listed.out
    # SVHN and MNIST-M were not imported; at 200 columns the note wraps in its cell
    assert "not downloaded or" in listed.out and "imported yet" in listed.out


@requires_shared_data
def test_mnist_m_and_fashion_mnist_pairs_run_on_real_images(cli, data_dir, tmp_path, monkeypatch):
    # ../shared has only the test splits. MNIST-M's is imported as train and test; its image i is
    # MNIST test image i over a photo patch, so only the drop from MNIST to MNIST-M is asserted.
    # Fashion-MNIST's is cut in two halves, train and test, since the task setting uses every
    # target training label.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    mnist_m = str(SHARED_DATA / "mnist_m" / "mnist_m_test.npz")
    assert cli("--data-dir", str(data_dir), "data", "import", "npz", "--hub-id", "Mike0307/MNIST-M",
               "--split", f"train={mnist_m}", "--split", f"test={mnist_m}").code == 0
    fashion = SHARED_DATA / "fashion_mnist"
    files = [fashion / "t10k-images-idx3-ubyte.gz", fashion / "t10k-labels-idx1-ubyte.gz"]
    whole = load_from_disk(str(import_data("idx", "zalando-datasets/fashion_mnist", {"test": files},
                                           tmp_path / "whole", source=FASHION_MNIST)))["test"]
    DatasetDict(train=whole.select(range(5000)), test=whole.select(range(5000, 10000))).save_to_disk(
        str(dataset_dir(data_dir, "zalando-datasets/fashion_mnist")))
    results = tmp_path / "results"

    run = cli("--data-dir", str(data_dir), "run", "--methods", "source-only,fine-tune,scratch",
              "--pairs", "mnist->mnist-m,mnist->fashion-mnist", "--settings", "uda,task",
              "--results", str(results), *BUDGET)

    ok = {(r.spec.method, r.spec.pair): r for r in read_records(results)[0] if r.status == "ok"}
    assert run.code == 0
    on_mnist_m = ok[("source-only", "mnist->mnist-m")]
    assert 0.2 < on_mnist_m.metrics.top1 < on_mnist_m.shared_cost.source_test_top1 - 0.2
    fashion_top1 = {m: ok[(m, "mnist->fashion-mnist")].metrics.top1 for m in ("fine-tune", "scratch")}
    assert min(fashion_top1.values()) > 0.5, fashion_top1    # 10 classes: chance is 0.1
