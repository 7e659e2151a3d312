"""Your own data with no code: a pair of two image folders, a pairs file, and the data preflight
that stops a grid whose data is missing before it writes anything."""
from pathlib import Path

import numpy as np
import pytest
from fixtures_hub import write_hub_copy
from PIL import Image

from tlarena.pairs_file import DeclarationError, declare, pairs

TINY_RUN = ["--methods", "source-only", "--settings", "uda", "--seeds", "0", "--steps", "2",
            "--source-steps", "2", "--eval-points", "1", "--batch-size", "4"]


def photo_folder(root: Path, classes=("cat", "dog"), per_class: int = 4, tint: int = 0) -> Path:
    """``root/<class>/*.jpg``: small colour photos, one colour per class."""
    rng = np.random.default_rng(tint)
    for index, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            colour = np.array([200 if index == 0 else 30, 60, 30 if index == 0 else 200]) + tint
            pixels = np.clip(colour + rng.integers(0, 30, (8, 8, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.jpg")
    return root


def test_a_pair_of_two_image_folders_runs_and_shows_on_the_board(cli, offline, tmp_path):
    photo_folder(tmp_path / "studio")
    photo_folder(tmp_path / "phone", tint=40)
    results = tmp_path / "results"

    ran = cli("run", "--source-folder", str(tmp_path / "studio"), "--target-folder", str(tmp_path / "phone"),
              *TINY_RUN, "--results", str(results))
    board = cli("show", "--results", str(results))

    assert (ran.code, board.code) == (0, 0), ran.out + ran.err
    assert "done: 1 ok" in ran.out and "studio->phone" in board.out


def test_a_pairs_file_declares_folder_and_hub_datasets_without_python(cli, offline, tmp_path):
    photo_folder(tmp_path / "photos" / "studio", classes=[str(d) for d in range(10)], per_class=1)
    write_hub_copy(tmp_path / "data", "ylecun/mnist", {"train": {"label": list(range(10))},
                                                       "test": {"label": list(range(10))}})
    (tmp_path / "pairs.toml").write_text(
        '[datasets.studio]\nfolder = "photos/studio"\n\n'
        '[datasets.mnist-tiny]\nhub = "ylecun/mnist"\nclasses = 10\n'
        'splits = { train = "train[:8]", test = "test" }\n\n'
        '[suites.mine]\npairs = ["mnist-tiny->studio"]\n')

    listed = cli("--pairs-file", str(tmp_path / "pairs.toml"), "--data-dir", str(tmp_path / "data"),
                 "list", "pairs", "--suite", "mine")

    assert listed.code == 0 and "mnist-tiny->studio" in listed.out
    assert "8/10" in listed.out   # the hub source's split expressions, read from the data dir


@pytest.mark.parametrize("content, expected", [
    ({"datasets": {}, "suite": {}}, "unknown key 'suite'; did you mean 'suites'"),
    ({"datasets": {"a": {"folder": "a", "clases": 2}}, "suites": {"s": {"pairs": ["a->a"]}}},
     "unknown key 'clases'"),
    ({"datasets": {"a": {"folder": "a"}, "b": {"folder": "b"}}, "suites": {"s": {"pairs": ["a->b"]}}},
     "only in a: cat; only in b: horse"),
    ({"datasets": {"a": {"folder": "empty"}}, "suites": {"s": {"pairs": ["a->a"]}}},
     "holds no images in class folders"),
    ({"datasets": {"a": {"folder": "a"}}, "suites": {"s": {"pairs": ["a->c"]}}},
     "names 'c', which is not among"),
    ({"datasets": {"a": {"hub": "o/n", "classes": 3, "splits": {"train": "t"}}},
      "suites": {"s": {"pairs": ["a->a"]}}}, "splits must name train and test"),
])
def test_a_bad_declaration_is_refused_with_what_is_wrong(tmp_path, content, expected):
    photo_folder(tmp_path / "a", classes=("cat", "dog"))
    photo_folder(tmp_path / "b", classes=("dog", "horse"))
    (tmp_path / "empty" / "cat").mkdir(parents=True)

    with pytest.raises(DeclarationError, match=expected):
        declare(content, tmp_path, "pairs.toml")


def test_an_unreadable_image_is_named_before_any_run(cli, offline, tmp_path):
    photo_folder(tmp_path / "studio")
    photo_folder(tmp_path / "phone")
    (tmp_path / "phone" / "dog" / "broken.jpg").write_bytes(b"not a jpeg")

    ran = cli("run", "--source-folder", str(tmp_path / "studio"), "--target-folder", str(tmp_path / "phone"),
              *TINY_RUN, "--results", str(tmp_path / "results"))

    assert ran.code == 2 and "broken.jpg" in ran.err and not (tmp_path / "results").exists()


def test_a_class_folder_without_images_is_named_before_any_run(cli, offline, tmp_path):
    # Regression: a class folder whose files were all of a kind not read (here .heic) vanished from
    # both sides without a word, and the pair ran with one class fewer.
    photo_folder(tmp_path / "studio", classes=("cat", "dog", "bird"))
    photo_folder(tmp_path / "phone", classes=("cat", "dog", "bird"))
    for side in ("studio", "phone"):
        for image in (tmp_path / side / "bird").iterdir():
            image.rename(image.with_suffix(".heic"))

    ran = cli("run", "--source-folder", str(tmp_path / "studio"), "--target-folder", str(tmp_path / "phone"),
              *TINY_RUN, "--results", str(tmp_path / "results"))

    assert ran.code == 2 and not (tmp_path / "results").exists()
    assert "class folders ['bird'] hold no image files" in ran.err


def test_a_folder_with_train_and_test_folders_keeps_its_own_test_split(tmp_path):
    photo_folder(tmp_path / "lab" / "train")
    photo_folder(tmp_path / "lab" / "test", per_class=2)
    photo_folder(tmp_path / "field")

    (pair,) = pairs(declare({"datasets": {"lab": {"folder": "lab"}, "field": {"folder": "field"}},
                             "suites": {"s": {"pairs": ["field->lab"]}}}, tmp_path, "pairs.toml"))

    assert dict(pair.target.splits) == {"train": "train", "test": "test"}
    assert dict(pair.source.splits) == {"train": "train", "test": "train"}


def test_missing_data_is_reported_once_per_dataset_and_nothing_is_written(cli, offline, tmp_path):
    results = tmp_path / "results"

    ran = cli("--data-dir", str(tmp_path / "empty"), "run", "--pairs", "mnist-2000->usps-1800,usps-1800->mnist-2000",
              "--methods", "source-only,fine-tune", "--settings", "uda", "--seeds", "0,1",
              "--results", str(results))

    assert ran.code == 2
    assert [ran.err.count(f"dataset {name} is missing") for name in ("ylecun/mnist", "flwrlabs/usps")] == [1, 1]
    assert not results.exists()


def test_runs_already_recorded_need_no_data(cli, offline, tmp_path):
    write_hub_copy(tmp_path / "data", "flwrlabs/pacs", {"train": {
        "domain": ["photo", "sketch"] * 4, "label": [0, 1, 2, 3] * 2}})
    # lenet: PACS's default backbone loads ImageNet weights from the hub, unreachable here
    grid = ["run", "--pairs", "pacs-photo->pacs-sketch", *TINY_RUN, "--backbone", "lenet",
            "--results", str(tmp_path / "results")]
    first = cli("--data-dir", str(tmp_path / "data"), *grid)

    again = cli("--data-dir", str(tmp_path / "empty"), *grid)

    assert (first.code, again.code) == (0, 0) and "every run is already recorded" in again.out
