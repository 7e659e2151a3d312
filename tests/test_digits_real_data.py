"""The digits suite end to end on REAL images from ../shared/data, through the hub code path.

The files are imported with `tlarena data import` into a data dir, which stands in for the hub:
the pairs below are the hub-backed pairs of the `digits` suite, unchanged. ../shared holds only
MNIST's test set, so it is imported as MNIST's train split too; the assertions use MNIST only as a
source (mnist->usps) or only as a test set (usps->mnist), never both in one run.
"""
import pytest

from conftest import SHARED_DATA, requires_shared_data

from tlarena.records import read_records
from tlarena.sources import set_data_dir

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
    yield data
    set_data_dir(None)


@requires_shared_data
def test_digits_pairs_run_on_real_images_through_the_hub_path(cli, data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    results = tmp_path / "results"
    run = cli("--data-dir", str(data_dir), "run", "--methods", "source-only,fine-tune",
              "--pairs", "usps->mnist,mnist->usps", "--settings", "uda,few-shot",
              "--results", str(results), *BUDGET)
    top1 = {(r.spec.method, r.spec.pair): r.metrics["top1"] for r in read_records(results)[0]
            if r.status == "ok"}
    assert run.code == 0
    assert top1[("source-only", "usps->mnist")] > 0.4      # USPS-trained LeNet on real MNIST test
    assert top1[("fine-tune", "mnist->usps")] > 0.6        # MNIST source, 10 USPS labels per class


@requires_shared_data
def test_list_pairs_shows_the_sizes_of_local_data(cli, data_dir, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    listed = cli("--data-dir", str(data_dir), "list", "pairs", "--suite", "digits")
    assert "7291/2007" in listed.out and "10000/10000" in listed.out
    assert "not downloaded or imported yet" in listed.out   # SVHN and MNIST-M were not imported
