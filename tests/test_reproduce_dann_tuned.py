"""benchmarks/reproduce_dann_tuned.py: DANN's defaults against its tuned configuration on MNIST →
MNIST-M, one picked per seed by IM. Its runs take hours on a 2-core CPU; they are not run here."""
import sys

import pandas as pd
import pytest

from conftest import load_benchmark

tuned = load_benchmark("reproduce_dann_tuned")


def _runs(method: str, rows: list[tuple]) -> pd.DataFrame:
    """Ok runs of ``method`` on the pair: (seed, top-1, IM, source validation) each."""
    return pd.DataFrame([{"pair": tuned.PAIR, "method": method, "seed": seed, "top1": top1, "im": im,
                          "source_val_top1": source_val} for seed, top1, im, source_val in rows])


def _folders(source_only, default, tuned_runs):
    return pd.concat([_runs("source-only", source_only), _runs("dann", default)]), _runs("dann", tuned_runs)


def test_im_picks_the_dann_run_with_the_higher_score_on_each_seed():
    defaults, tuned_runs = _folders([(0, 0.50, 1.0, 0.98), (1, 0.52, 1.0, 0.98)],
                                    [(0, 0.60, 1.9, 0.97), (1, 0.61, 2.0, 0.97)],
                                    [(0, 0.68, 2.1, 0.97), (1, 0.58, 1.8, 0.97)])

    table = tuned.per_seed(defaults, tuned_runs)

    assert list(table["pick"]) == ["tuned", "defaults"]
    assert list(table["pick_top1"]) == [0.68, 0.61]


def test_a_run_that_lost_its_source_task_is_not_picked_however_high_its_im():
    # A collapsed model can score a high IM; tlarena.selection's guard leaves it out.
    defaults, tuned_runs = _folders([(0, 0.50, 1.0, 0.98)], [(0, 0.60, 1.9, 0.97)], [(0, 0.11, 2.3, 0.30)])

    assert tuned.per_seed(defaults, tuned_runs)["pick"].tolist() == ["defaults"]


def test_the_criterion_is_judged_on_the_mean_gain_of_the_picks_and_counts_the_seeds_under_the_bar():
    defaults, tuned_runs = _folders([(0, 0.50, 1, 0.98), (1, 0.50, 1, 0.98), (2, 0.50, 1, 0.98)],
                                    [(0, 0.58, 1, 0.98), (1, 0.58, 1, 0.98), (2, 0.58, 1, 0.98)],
                                    [(0, 0.67, 2, 0.98), (1, 0.66, 2, 0.98), (2, 0.64, 2, 0.98)])
    table = tuned.per_seed(defaults, tuned_runs)

    assert tuned.criterion(table).endswith("≥ 15 points: met (measured 15.7; 95 % CI [11.9, 19.5]; "
                                           "2 of 3 seeds at 15 or more)")
    table["pick_top1"] = table["default_top1"]
    assert "**not met** (measured 8.0" in tuned.criterion(table)


def test_a_seed_without_all_three_runs_is_left_out_and_no_seed_gives_a_block_that_says_so():
    defaults, tuned_runs = _folders([(0, 0.5, 1, 0.98), (1, 0.5, 1, 0.98)], [(0, 0.6, 1, 0.98), (1, 0.6, 1, 0.98)],
                                    [(0, 0.7, 2, 0.98)])

    assert tuned.per_seed(defaults, tuned_runs).index.tolist() == [0]
    empty = tuned.block(defaults, tuned_runs.iloc[:0], 10_000)
    assert "No seed has all three runs recorded yet." in empty and empty.endswith(tuned.END)


def test_the_default_runs_share_the_digits_scripts_records_and_the_tuned_ones_run_longer_at_the_tuned_rate(
        tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(tuned.digits, "tlarena", lambda args, env: calls.append(args))
    monkeypatch.setattr(tuned.digits, "import_data", lambda shared, data, env: None)
    monkeypatch.setattr(sys, "argv", ["reproduce_dann_tuned.py", "--shared", str(tmp_path), "--work", str(tmp_path),
                                      "--doc", str(tmp_path / "doc.md")])
    monkeypatch.setattr(tuned, "SHARED_FILES", ())

    tuned.main()

    defaults, longer = calls
    assert defaults[defaults.index("--methods") + 1] == "source-only,dann"
    assert defaults[defaults.index("--steps") + 1] == "2500" and "--hp" not in defaults
    assert defaults[defaults.index("--results") + 1] == str(tmp_path / "records-2500-2500")   # reproduce_digits.py's
    assert longer[longer.index("--methods") + 1] == "dann" and longer[longer.index("--steps") + 1] == "10000"
    assert longer[longer.index("--hp") + 1] == "dann.lr=0.05"
    assert longer[longer.index("--seeds") + 1] == "0,1,2,3,4"
    assert tuned.BEGIN in (tmp_path / "doc.md").read_text()


def test_a_shared_folder_without_mnist_m_stops_before_any_run(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(tuned.digits, "tlarena", lambda args, env: calls.append(args))
    monkeypatch.setattr(sys, "argv", ["reproduce_dann_tuned.py", "--shared", str(tmp_path), "--work", str(tmp_path)])

    with pytest.raises(SystemExit, match="missing .*mnist_m/mnist_m_test.npz"):
        tuned.main()
    assert calls == []
