"""The data path: a hub reference resolves to a local copy under the data dir, or to the hub."""
import socket

import datasets
import pytest
from fixtures_hub import write_hub_copy, write_image_folders

import tlarena
from tlarena import HubDataset
from tlarena.data import DataUnavailable, load_split

DIGITS = tuple(str(d) for d in range(10))
MNIST = HubDataset("mnist", "ylecun/mnist", DIGITS, revision="77f3279092a1c1579b2250db8eafed0ad422088c")


def first_pixel(dataset, row):
    return dataset[row]["image"].convert("L").getpixel((0, 0))


def test_a_save_to_disk_copy_under_the_data_dir_is_read_with_our_columns(offline, tmp_path):
    write_hub_copy(tmp_path, "ylecun/mnist", {"train": {"label": [3, 1, 4]}, "test": {"label": [1]}})

    train = load_split(MNIST, "train", data_dir=tmp_path)

    assert train["label"][:] == [3, 1, 4]
    assert train.features == datasets.Features({"image": datasets.Image(),
                                                "label": datasets.ClassLabel(names=list(DIGITS))})


def test_parquet_files_as_hub_repos_store_them_are_read_the_same_way(offline, tmp_path):
    write_hub_copy(tmp_path, "ylecun/mnist", {"train": {"label": [5, 9]}, "test": {"label": [0]}},
                   form="parquet")

    assert load_split(MNIST, "train", data_dir=tmp_path)["label"][:] == [5, 9]


def test_split_expressions_select_rows_of_a_local_copy(offline, tmp_path):
    write_hub_copy(tmp_path, "ylecun/mnist", {"train": {"label": [0, 1, 2, 3, 4]}, "test": {"label": [9, 8]}})
    source = HubDataset("mnist-few", "ylecun/mnist", DIGITS, splits={"train": "train[:3]+test[1:]"})

    assert load_split(source, "train", data_dir=tmp_path)["label"][:] == [0, 1, 2, 8]


def test_image_folders_take_labels_from_class_folder_names(offline, tmp_path):
    write_image_folders(tmp_path / "acme__shapes", {"train/square": 2, "train/circle": 1, "test/square": 1})
    source = HubDataset("shapes", "acme/shapes", ("circle", "square", "triangle"))

    train = load_split(source, "train", data_dir=tmp_path)

    assert sorted(train["label"][:]) == [0, 1, 1] and train[0]["image"].size == (4, 4)


def test_a_local_copy_is_used_without_touching_the_network(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the network was touched although a local copy exists")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    write_hub_copy(tmp_path, "ylecun/mnist", {"train": {"label": [7]}})

    assert load_split(MNIST, "train", data_dir=tmp_path)["label"][:] == [7]


def test_offline_without_a_local_copy_says_what_was_tried_and_how_to_provide_it(offline, tmp_path):
    with pytest.raises(DataUnavailable) as raised:
        load_split(MNIST, "train", data_dir=tmp_path)

    message = str(raised.value)
    assert "ylecun/mnist" in message and "77f3279092a1c1579b2250db8eafed0ad422088c" in message
    assert str(tmp_path / "ylecun__mnist") in message
    assert "--data-dir" in message and "TLARENA_DATA_DIR" in message and "tlarena data import" in message


def test_a_hub_failure_becomes_one_message_without_the_http_traceback(offline, monkeypatch):
    def failing_load(*args, **kwargs):
        raise ConnectionError("503 Service Unavailable\n(and forty lines of retries)")

    monkeypatch.setattr("tlarena.data.hub._hub_online", lambda: True)
    monkeypatch.setattr(datasets, "load_dataset", failing_load)

    with pytest.raises(DataUnavailable) as raised:
        load_split(MNIST, "train")

    message = str(raised.value)
    assert "loading it failed: ConnectionError: 503 Service Unavailable" in message
    assert raised.value.__cause__ is None and "forty lines" not in message


def test_listing_sizes_reads_only_the_hugging_face_cache_even_online(cli, offline, monkeypatch):
    hub_offline_at_each_load = []

    def load_from_cache_only(*args, **kwargs):
        hub_offline_at_each_load.append(datasets.config.HF_HUB_OFFLINE)
        raise FileNotFoundError("not in the cache")

    monkeypatch.setattr("tlarena.data.hub._hub_online", lambda: True)
    monkeypatch.setattr(datasets, "load_dataset", load_from_cache_only)

    listed = cli("list", "pairs", "--suite", "digits")

    # at 200 columns the note wraps in its cell
    assert listed.code == 0 and "not downloaded or" in listed.out and "imported yet" in listed.out
    assert hub_offline_at_each_load and all(hub_offline_at_each_load)


def test_without_a_data_dir_the_message_explains_how_to_set_one(offline):
    with pytest.raises(DataUnavailable, match=r"no data dir is set \(--data-dir or TLARENA_DATA_DIR\)"):
        load_split(MNIST, "test")


def test_a_local_only_dataset_is_never_looked_for_on_the_hub(offline, tmp_path):
    source = HubDataset("office-31-amazon", "local/office-31", ("mug",), local_only=True,
                        splits={"train": "amazon", "test": "amazon"})

    with pytest.raises(DataUnavailable, match="has no hub copy") as raised:
        load_split(source, "train", data_dir=tmp_path)
    assert str(tmp_path / "local__office-31") in str(raised.value)


def test_a_local_copy_without_the_split_names_the_splits_it_has(offline, tmp_path):
    write_hub_copy(tmp_path, "ylecun/mnist", {"train": {"label": [1]}})

    with pytest.raises(DataUnavailable, match=r"has splits \['train'\].*'test'"):
        load_split(MNIST, "test", data_dir=tmp_path)


def test_a_local_copy_must_keep_the_hub_column_names(offline, tmp_path):
    write_hub_copy(tmp_path, "ylecun/mnist", {"train": {"label": [1]}})
    source = HubDataset("cifar-like", "ylecun/mnist", DIGITS, image_column="img")

    with pytest.raises(DataUnavailable, match=r"missing: \['img'\]"):
        load_split(source, "train", data_dir=tmp_path)


def test_a_folder_in_no_known_layout_is_reported_as_such(offline, tmp_path):
    (tmp_path / "ylecun__mnist").mkdir()
    (tmp_path / "ylecun__mnist" / "notes.txt").write_text("nothing here")

    with pytest.raises(DataUnavailable, match="none of the known layouts"):
        load_split(MNIST, "train", data_dir=tmp_path)


def test_label_map_maps_and_drops_and_filter_selects_rows(offline, tmp_path):
    write_hub_copy(tmp_path, "flwrlabs/pacs", {"train": {
        "domain": ["photo", "sketch", "photo", "photo"], "label": [0, 1, 2, 5]}})
    source = HubDataset("pacs-photo-two", "flwrlabs/pacs", ("giraffe", "dog"),
                        splits={"train": "train"}, label_map={0: 1, 2: 0}, filter={"domain": "photo"})

    train = load_split(source, "train", data_dir=tmp_path)

    assert train["label"][:] == [1, 0] and [first_pixel(train, i) for i in range(2)] == [0, 2]


def test_a_filter_value_that_matches_no_row_names_the_values_there(offline, tmp_path):
    write_hub_copy(tmp_path, "flwrlabs/office-home", {"train": {
        "domain": ["Art", "Real_World"], "label": [0, 1]}})
    source = HubDataset("office-home-real-world", "flwrlabs/office-home", ("a", "b"),
                        splits={"train": "train"}, filter={"domain": "Real World"})

    with pytest.raises(DataUnavailable, match=r"no row .* 'Real World'.*\['Art', 'Real_World'\]"):
        load_split(source, "train", data_dir=tmp_path)


def test_rows_of_the_same_split_in_two_folders_are_refused_as_ambiguous(offline, tmp_path):
    for config in ("a", "b"):
        write_hub_copy(tmp_path / "x", "ylecun/mnist", {"train": {"label": [1]}}, config=config,
                       form="parquet-flat")
    source = HubDataset("mnist-x", "ylecun/mnist", DIGITS)

    with pytest.raises(DataUnavailable, match="config"):
        load_split(source, "train", data_dir=tmp_path / "x")


def test_the_same_split_loads_with_the_same_fingerprint(offline, tmp_path):
    write_hub_copy(tmp_path, "ylecun/mnist", {"train": {"label": [3, 1, 4]}}, form="parquet")

    first, again = (load_split(MNIST, "train", data_dir=tmp_path) for _ in range(2))

    assert first._fingerprint == again._fingerprint


def test_a_multi_source_pools_its_parts_with_a_stable_fingerprint():
    from tlarena.plugins import load_arena

    pair = load_arena().pairs.get("uci-digits->uci-digits-rotated")
    pooled = tlarena.MultiSource("uci-both", (pair.source, pair.target))
    first, again = load_split(pooled, "train"), load_split(pooled, "train")
    assert len(first) == len(load_split(pair.source, "train")) * 2 and first._fingerprint == again._fingerprint


def test_a_multi_source_refuses_parts_with_different_classes():
    digits = tlarena.BuiltDataset("d", lambda: None, ("0", "1"))
    letters = tlarena.BuiltDataset("l", lambda: None, ("A", "B"))
    with pytest.raises(ValueError, match="share one label space"):
        tlarena.MultiSource("mixed", (digits, letters))
