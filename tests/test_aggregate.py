"""Aggregation: mean ± Student-t CI over seeds, average rank over pairs."""
import pandas as pd
import pytest

from tlarena.aggregate import cells, export, leaderboard


def _frame():
    rows = []
    for method, accuracies in (("a", [0.8, 0.9]), ("b", [0.5, 0.7])):
        for pair_index, pair in enumerate(("p->q", "q->p")):
            for seed, accuracy in enumerate(accuracies):
                rows.append({"method": method, "pair": pair, "backbone": "lenet", "setting": "supervised",
                             "seed": seed, "status": "ok", "top1": accuracy - 0.1 * pair_index,
                             "mean_class_acc": accuracy, "auc": accuracy, "steps_to_95": 10,
                             "train_seconds": 1.0, "train_flops": 1e6, "peak_memory_bytes": 1,
                             "trainable_params": 5})
    rows.append({**rows[0], "status": "failed", "top1": None, "seed": 9})
    return pd.DataFrame(rows)


def test_cells_give_mean_and_t_interval_over_seeds():
    table = cells(_frame()).set_index(["method", "pair"])
    row = table.loc[("a", "p->q")]
    # two seeds 0.8 and 0.9: std 0.0707, t(0.975, 1) = 12.706 → half-width 12.706 * 0.0707 / sqrt(2)
    assert (row["seeds"], row["top1_mean"], row["top1_ci95"]) == (2, pytest.approx(0.85), pytest.approx(0.6353, abs=1e-3))


def test_leaderboard_ranks_methods_within_each_pair():
    board = leaderboard(cells(_frame()))
    assert list(board["method"]) == ["a", "b"] and list(board["avg_rank"]) == [1.0, 2.0]


@pytest.mark.parametrize("fmt, marker", [("csv", "method,"), ("markdown", "|"), ("latex", "\\begin{tabular}"),
                                         ("json", '"method"')])
def test_exports_carry_the_table(fmt, marker):
    assert marker in export(leaderboard(cells(_frame())), fmt)
