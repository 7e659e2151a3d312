"""The real-data suites: each pair's sources load from a tiny local copy in the hub's exact schema."""
import re

import datasets
import pytest

import tlarena
from fixtures_hub import HUB_FEATURES, write_hub_copy, write_image_folders

from tlarena.plugins import load_arena
from tlarena.records import read_records
from tlarena.data import DataUnavailable, load_split
from tlarena_plugins.suites import (
    SUITES, cifar_stl, digits, domainnet, office31, office_home, pacs, visda, vlcs,
)


@pytest.fixture
def data_dir(offline, tmp_path):
    return tmp_path


@pytest.fixture
def labels(data_dir):
    """The labels of a source's split, read with the test's data dir."""
    return lambda source, split="train": load_split(source, split, data_dir=data_dir)["label"][:]


def test_the_suites_register_through_the_entry_point():
    arena = load_arena()

    suites = {arena.pairs.get(name).suite for name in arena.pairs.names()}
    assert not arena.problems
    assert {"digits", "fashion-mnist", "office-home", "pacs", "domainnet", "cifar-stl", "office-31",
            "visda-2017", "vlcs"} <= suites
    assert {"mnist->usps", "usps->mnist", "svhn->mnist", "mnist->mnist-m", "mnist-2000->usps-1800",
            "mnist-test-a->mnist-m-test-b", "mnist->fashion-mnist", "cifar10-9->stl10-9"} <= set(arena.pairs.names())


def test_each_name_is_one_dataset_and_domain():
    sources = {}
    for pair in (p for module in SUITES for p in module.PAIRS):
        for source in (pair.source, pair.target):
            assert sources.setdefault(source.name, source) == source


def test_hub_sources_are_pinned_to_a_commit_except_mnist_m_whose_sha_is_unknown():
    sides = [s for m in SUITES for p in m.PAIRS for s in (p.source, p.target)]
    sides += [part for s in sides if isinstance(s, tlarena.MultiSource) for part in s.parts]
    hub = {s.name: s for s in sides if isinstance(s, tlarena.HubDataset) and not s.local_only}
    unpinned = {s.path for s in hub.values() if not re.fullmatch(r"[0-9a-f]{40}", s.revision or "")}
    assert unpinned == {"Mike0307/MNIST-M"}


def test_each_hub_source_carries_the_schema_of_its_dataset_card():
    sides = [s for m in SUITES for p in m.PAIRS for s in (p.source, p.target)]
    sides += [part for s in sides if isinstance(s, tlarena.MultiSource) for part in s.parts]
    hub = [s for s in sides if isinstance(s, tlarena.HubDataset) and not s.local_only]

    differing = {s.name for s in hub
                 if s.hub_features() != {name: HUB_FEATURES[s.path]()[name] for name in s.hub_features()}}
    assert differing == set()


def test_pair_counts_follow_the_domains():
    assert (len(office_home.PAIRS), len(pacs.PAIRS), len(domainnet.PAIRS), len(office31.PAIRS),
            len(vlcs.PAIRS)) == (12 + 4, 12 + 4, 30 + 6, 6, 12 + 4)


def test_digits_load_from_each_local_form(data_dir, labels):
    write_hub_copy(data_dir, "ylecun/mnist", {"train": {"label": [5, 0, 4]}, "test": {"label": [7]}})
    write_hub_copy(data_dir, "flwrlabs/usps", {"train": {"label": [1, 2]}, "test": {"label": [3]}},
                   form="parquet")
    write_hub_copy(data_dir, "ufldl-stanford/svhn", {"train": {"label": [9]}, "test": {"label": [8]},
                                                     "extra": {"label": [1]}},
                   config="cropped_digits", form="parquet-flat")
    write_hub_copy(data_dir, "Mike0307/MNIST-M", {"train": {"label": [6]}, "test": {"label": [2, 2]}},
                   form="parquet")

    assert labels(digits.MNIST) == [5, 0, 4] and labels(digits.USPS, "test") == [3]
    assert labels(digits.SVHN) == [9] and labels(digits.MNIST_M, "test") == [2, 2]


def test_the_small_sample_protocol_takes_2000_mnist_images(data_dir, labels):
    write_hub_copy(data_dir, "ylecun/mnist", {"train": {"label": [d % 10 for d in range(2050)]},
                                              "test": {"label": [1]}})

    assert len(labels(digits.MNIST_2000)) == 2000 and labels(digits.MNIST_2000, "test") == [1]


def test_mnist_to_mnist_m_on_the_test_splits_takes_disjoint_halves_by_index(data_dir, labels):
    # MNIST-M's test image i is MNIST's test image i: the label of row i here is i // 1000, so the
    # labels show which rows each side holds.
    rows = {"test": {"label": [i // 1000 for i in range(9001)]}}
    write_hub_copy(data_dir, "ylecun/mnist", rows)
    write_hub_copy(data_dir, "Mike0307/MNIST-M", rows)

    source, target = labels(digits.MNIST_TEST_A), labels(digits.MNIST_M_TEST_B)
    assert source == [i // 1000 for i in range(4500)] == labels(digits.MNIST_TEST_A, "test")
    assert target == [i // 1000 for i in range(4500, 9001)] == labels(digits.MNIST_M_TEST_B, "test")


def test_fashion_mnist_is_a_different_label_space(data_dir, labels):
    write_hub_copy(data_dir, "zalando-datasets/fashion_mnist", {"train": {"label": [9, 0]}})

    pair = next(p for p in digits.PAIRS if p.target is digits.FASHION_MNIST)
    assert labels(digits.FASHION_MNIST) == [9, 0] and not pair.shared_label_space


def test_office_home_domains_are_rows_of_the_domain_column(data_dir, labels):
    write_hub_copy(data_dir, "flwrlabs/office-home", {"train": {
        "domain": ["Art", "Real World", "Clipart", "Real World", "Product"], "label": [0, 64, 3, 5, 7]}})

    assert labels(office_home.domain("Real World")) == [64, 5]
    assert labels(office_home.domain("Art"), "test") == [0]


def test_pacs_domains_are_rows_of_the_domain_column(data_dir, labels):
    write_hub_copy(data_dir, "flwrlabs/pacs", {"train": {
        "domain": ["photo", "sketch", "art_painting", "cartoon", "sketch"], "label": [6, 0, 1, 2, 3]}})

    assert labels(pacs.domain("sketch")) == [0, 3] and labels(pacs.domain("art_painting")) == [1]


def test_pacs_leave_one_domain_out_pools_the_other_three(data_dir, labels):
    write_hub_copy(data_dir, "flwrlabs/pacs", {"train": {
        "domain": ["photo", "sketch", "art_painting", "cartoon", "sketch"], "label": [6, 0, 1, 2, 3]}})
    pair = next(p for p in pacs.PAIRS if p.name == "pacs-except-sketch->pacs-sketch")

    assert sorted(labels(pair.source)) == [1, 2, 6] and labels(pair.target) == [0, 3]


@pytest.mark.parametrize("label", [datasets.Value("int64"), datasets.ClassLabel(names=list(digits.DIGITS))])
def test_mnist_m_labels_load_as_plain_integers_or_class_labels(data_dir, label, labels):
    # No card states the type of MNIST-M's label column (its viewer shows image and label).
    features = datasets.Features({"image": datasets.Image(), "label": label})
    write_hub_copy(data_dir, "Mike0307/MNIST-M", {"train": {"label": [7, 0]}, "test": {"label": [3]}},
                   form="parquet", features=features)

    assert labels(digits.MNIST_M) == [7, 0] and labels(digits.MNIST_M, "test") == [3]


@pytest.mark.parametrize("y", ["class label", "int64"])
def test_domainnet_reads_its_label_column_y(data_dir, y, labels):
    # The pinned card declares y a ClassLabel; its parquet files (from commit 81ade54) store int64.
    features = HUB_FEATURES["wltjr1007/DomainNet"]()
    if y == "int64":
        features["y"] = datasets.Value("int64")
    write_hub_copy(data_dir, "wltjr1007/DomainNet", features=features, form="parquet", splits={
        "train": {"domain": ["real", "sketch", "real"], "category": ["airplane", "zigzag", "car"],
                  "y": [1, 344, 61]},
        "test": {"domain": ["sketch"], "category": ["zigzag"], "y": [344]}})

    assert labels(domainnet.domain("real")) == [1, 61]
    assert labels(domainnet.domain("sketch"), "test") == [344]


def test_cifar_and_stl_share_nine_classes_and_drop_frog_and_monkey(data_dir, labels):
    write_hub_copy(data_dir, "uoft-cs/cifar10", {"train": {"label": [0, 1, 6, 7, 9]}}, config="plain_text")
    write_hub_copy(data_dir, "tanganke/stl10", {"train": {"label": [2, 7, 6, 1]}})

    assert labels(cifar_stl.CIFAR10) == [0, 1, 6, 8]   # frog (6) dropped, horse 7 → 6
    assert labels(cifar_stl.STL10) == [1, 6, 2]        # monkey (7) dropped, car 2 → automobile 1
    assert all(p.shared_label_space for p in cifar_stl.PAIRS)


def test_office_31_reads_the_official_archive_layout(data_dir, labels):
    write_image_folders(data_dir / "local__office-31", {
        "amazon/images/back_pack": 2, "amazon/images/trash_can": 1, "webcam/images/mug": 1}, ".jpg")

    assert sorted(labels(office31.domain("amazon"))) == [0, 0, 30]
    assert labels(office31.domain("webcam"), "test") == [office31.CLASSES.index("mug")]


def test_visda_synthetic_and_real_are_the_train_and_validation_folders(data_dir, labels):
    write_image_folders(data_dir / "local__visda-2017", {"train/train": 2, "validation/aeroplane": 1})

    assert labels(visda.SYNTHETIC) == [visda.CLASSES.index("train")] * 2
    assert labels(visda.REAL, "test") == [0]


def test_vlcs_domains_are_folders(data_dir, labels):
    write_image_folders(data_dir / "local__vlcs", {"SUN09/person": 1, "VOC2007/bird": 1})

    assert labels(vlcs.domain("SUN09")) == [4] and labels(vlcs.domain("VOC2007")) == [0]


def test_a_missing_suite_dataset_names_itself_and_the_data_dir(data_dir):
    with pytest.raises(DataUnavailable) as raised:
        load_split(office_home.domain("Art"), "train", data_dir=data_dir)

    message = str(raised.value)
    assert "flwrlabs/office-home" in message and str(data_dir / "flwrlabs__office-home") in message


def test_runs_without_their_data_stop_before_the_grid_with_one_reason(cli, data_dir, tmp_path):
    run = cli("--data-dir", str(data_dir), "run", "--methods", "source-only", "--settings", "uda",
              "--pairs", "pacs-photo->pacs-sketch,pacs-cartoon->pacs-sketch", "--seeds", "0",
              "--results", str(tmp_path / "results"))

    assert run.code == 2 and run.err.count("dataset flwrlabs/pacs is missing") == 1
    assert "tlarena data import FORMAT --hub-id flwrlabs/pacs" in run.err
    assert not (tmp_path / "results").exists()


def test_each_domain_of_one_hub_dataset_trains_its_own_source_model(cli, data_dir, tmp_path):
    # Both sources read flwrlabs/pacs at one revision; only their domain filter tells them apart.
    write_hub_copy(data_dir, "flwrlabs/pacs", {"train": {
        "domain": ["photo", "cartoon", "sketch"] * 4, "label": [0, 1, 2, 3] * 3}})
    results = tmp_path / "results"

    run = cli("--data-dir", str(data_dir), "run", "--methods", "source-only", "--backbone", "lenet",
              "--pairs", "pacs-photo->pacs-sketch,pacs-cartoon->pacs-sketch", "--settings", "uda",
              "--results", str(results), "--steps", "2", "--source-steps", "2", "--eval-points", "1",
              "--seeds", "0", "--batch-size", "4")

    records = read_records(results)[0]
    assert run.code == 0 and len(records) == 2
    assert {r.spec.pair.split("->")[0]: r.shared_cost.source for r in records} == {
        "pacs-photo": "pacs-photo", "pacs-cartoon": "pacs-cartoon"}
