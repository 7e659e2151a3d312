"""The data dir is an argument: each call, runner and command reads the folder it is given, and only
the command line reads ``$TLARENA_DATA_DIR``."""
import numpy as np
import pytest
import torch
from fixtures_hub import write_hub_copy

from tlarena.cli import data_dir_from
from tlarena.data import DataUnavailable, ImageSpec, load_split, split_tensors
from tlarena.grid import grid
from tlarena.plugins import load_arena
from tlarena.runner import Runner
from tlarena.settings import Setting
from tlarena.spec import Budget
from tlarena_plugins.suites.digits import MNIST, USPS

BUDGET = Budget(steps=2, source_steps=2, batch_size=4, eval_points=1)


@pytest.fixture
def two_data_dirs(offline, tmp_path):
    """Two data dirs holding different copies of USPS: 1 and 3 training rows."""
    write_hub_copy(tmp_path / "a", "flwrlabs/usps", {"train": {"label": [1]}, "test": {"label": [1, 2]}})
    write_hub_copy(tmp_path / "b", "flwrlabs/usps", {"train": {"label": [1, 2, 3]}, "test": {"label": [4]}})
    return tmp_path / "a", tmp_path / "b"


def usps_sizes(listing: str) -> str:
    """The source train/test sizes on the `usps->mnist` row of `tlarena list pairs --suite digits`."""
    row = next(line for line in listing.splitlines() if "usps->mnist " in line)
    return next(cell.strip() for cell in row.split("│") if "/" in cell and cell.strip()[0].isdigit())


def test_two_loads_in_one_process_each_read_their_own_data_dir(two_data_dirs):
    a, b = two_data_dirs

    first, second = (load_split(USPS, "train", data_dir=folder)["label"][:] for folder in (a, b))

    assert (first, second) == ([1], [1, 2, 3])


def test_decoded_tensors_follow_the_data_dir_they_are_given(two_data_dirs):
    a, b = two_data_dirs

    first, second = (split_tensors(USPS, "train", ImageSpec(1, 4, 4), data_dir=folder) for folder in (a, b))

    assert (first.labels.tolist(), second.labels.tolist()) == ([1], [1, 2, 3])


def test_a_load_without_a_data_dir_reads_no_local_copy_whatever_came_before(two_data_dirs, monkeypatch):
    a, _ = two_data_dirs
    load_split(USPS, "train", data_dir=a)
    monkeypatch.setenv("TLARENA_DATA_DIR", str(a))   # the command line's variable, not the library's

    with pytest.raises(DataUnavailable, match="no data dir is set"):
        load_split(USPS, "train")


def test_the_data_dir_flag_wins_over_the_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("TLARENA_DATA_DIR", str(tmp_path / "env"))

    assert (data_dir_from(tmp_path / "flag"), data_dir_from(None)) == (tmp_path / "flag", tmp_path / "env")


def test_each_command_lists_the_sizes_in_the_data_dir_it_is_given(cli, two_data_dirs, monkeypatch):
    a, b = two_data_dirs
    from_flags = [cli("--data-dir", str(folder), "list", "pairs", "--suite", "digits").out for folder in (a, b)]
    monkeypatch.setenv("TLARENA_DATA_DIR", str(a))
    from_environment = cli("list", "pairs", "--suite", "digits").out

    assert [usps_sizes(out) for out in (*from_flags, from_environment)] == ["1/2", "3/1", "1/2"]


def test_two_runners_in_one_process_each_train_on_their_own_data_dir(two_data_dirs, tmp_path):
    for folder in two_data_dirs:
        write_hub_copy(folder, "ylecun/mnist", {"train": {"label": [0, 1] * 4}, "test": {"label": [0, 1]}})
    arena = load_arena()
    (spec,) = grid(arena, ["source-only"], ["mnist->usps"], "lenet", "none", [0], BUDGET, [Setting.UDA])
    runners = [Runner(arena, torch.device("cpu"), folder) for folder in two_data_dirs]

    records = [runner.execute(spec) for runner in runners]   # both made before either ran

    assert [{(d.side, d.part): d.rows for d in r.data}[("target", "test")] for r in records] == [2, 1]


def test_data_import_writes_into_the_data_dir_it_is_given(cli, offline, tmp_path):
    np.savez(tmp_path / "mnist.npz", images=np.zeros((4, 8, 8), np.uint8), labels=np.array([3, 1, 4, 1]))
    data_dir = tmp_path / "data"

    imported = cli("--data-dir", str(data_dir), "data", "import", "npz", "--hub-id", "ylecun/mnist",
                   "--split", f"train={tmp_path / 'mnist.npz'}")

    assert imported.code == 0 and load_split(MNIST, "train", data_dir=data_dir)["label"][:] == [3, 1, 4, 1]
