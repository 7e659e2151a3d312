"""The paper-style overview and paired comparisons that `tlarena show` and the app share."""
import re
import shutil
import subprocess

import pytest

from tlarena import overview, paired
from tlarena.records import records_frame
from tlarena_leaderboard import synthetic
from tlarena_leaderboard.charts import pareto_front


def _boards(*records, rule="default"):
    found, notes = overview.boards(records_frame(list(records)), rule)
    return found, notes


def test_a_method_whose_interval_contains_the_leader_is_marked_tied():
    noisy = [synthetic.record("a", "p->q", s, top1=t) for s, t in enumerate((0.80, 0.70, 0.90))]
    close = [synthetic.record("b", "p->q", s, top1=t) for s, t in enumerate((0.79, 0.72, 0.85))]
    far = [synthetic.record("c", "p->q", s, top1=t) for s, t in enumerate((0.50, 0.41, 0.60))]
    (board,), _ = _boards(*noisy, *close, *far)
    table = board.table.set_index("method")
    assert list(table[overview.TIED]) == ["leader", "yes", "no"]


def test_scratch_ranked_above_on_average_is_shown_tied_when_the_test_cannot_tell():
    # the case: one method leads on average rank, the other is within noise
    first = [synthetic.record("scratch", pair, s, top1=t) for pair, ts in
             (("p->q", (0.90, 0.70)), ("q->p", (0.80, 0.60))) for s, t in enumerate(ts)]
    second = [synthetic.record("fine-tune", pair, s, top1=t) for pair, ts in
              (("p->q", (0.70, 0.85)), ("q->p", (0.62, 0.75))) for s, t in enumerate(ts)]
    (board,), _ = _boards(*first, *second)
    assert board.table.set_index("method").loc["fine-tune", overview.TIED] == "yes"


def test_cells_without_numbers_say_failed_na_missing_or_not_scored():
    records = [synthetic.record("a", "p->q", 0), synthetic.record("a", "q->p", 0, status="failed", reason="OOM\nmore"),
               synthetic.record("b", "p->q", 0, status="n/a", reason="needs labels")]
    (board,), _ = _boards(*records)
    cells = board.table.set_index("method")
    assert (cells.loc["a", "q->p"], cells.loc["b", "p->q"], cells.loc["b", "q->p"]) == \
        ("failed: OOM", "n/a: needs labels", "missing: no run recorded")


def test_a_board_without_one_successful_run_still_says_why_for_each_method():
    (board,), _ = _boards(synthetic.record("a", status="failed", reason="OOM"),
                          synthetic.record("b", status="n/a", reason="needs labels"))
    assert list(board.table["a->b"]) == ["failed: OOM"]
    assert board.notes[0] == "n/a on every pair, not shown: b (needs labels)"


def test_a_method_na_on_every_pair_is_named_under_the_board_not_given_a_row():
    # tlarena run --all records every method in every setting: a board of 9 methods had 22 rows of n/a
    ran = [synthetic.record("fine-tune", pair, 0) for pair in ("p->q", "q->p")]
    elsewhere = [synthetic.record(method, pair, 0, status="n/a", reason=f"{method} runs only in uda, not in few-shot")
                 for method in ("dann", "bnm") for pair in ("p->q", "q->p")]
    no_bn = [synthetic.record("adabn", pair, 0, status="n/a", reason="adabn adapts BatchNorm layers and backbone "
                              "lenet has none") for pair in ("p->q", "q->p")]
    (board,), _ = _boards(*ran, *elsewhere, *no_bn)
    assert list(board.table["method"]) == ["fine-tune"]
    assert ("n/a on every pair, not shown: adabn (adapts BatchNorm layers and backbone lenet has none); "
            "bnm, dann (runs only in uda, not in few-shot)") in board.notes
    latex = overview.export([board], "latex")
    assert not any(line.startswith("dann") for line in latex.splitlines())
    assert "% n/a on every pair, not shown: adabn" in latex


def test_a_board_whose_every_method_is_na_keeps_its_title_and_says_why():
    (board,), _ = _boards(synthetic.record("dann", status="n/a", reason="dann runs only in uda, not in few-shot"))
    assert board.table.empty and list(board.table.columns)[:2] == ["method", "a->b"]
    assert board.notes[0] == "n/a on every pair, not shown: dann (runs only in uda, not in few-shot)"
    assert r"\begin{tabular}" not in overview.export([board], "latex")
    assert overview.export([board], "csv").splitlines()[0].startswith("setting,backbone,selection,method,a->b")


def test_a_rule_that_cannot_score_a_setting_says_so_in_the_cell():
    record = synthetic.record("a", "p->q", 0, setting="uda")
    record.validation = type(record.validation)(0.5, None, 0.1, 0.2)
    (board,), notes = _boards(record, rule="target-val")
    assert board.table.loc[0, "p->q"] == "not scored: target-val cannot score this setting" and notes


def test_boards_never_mix_budgets_and_name_what_differs():
    found, _ = _boards(synthetic.record("a", steps=100), synthetic.record("a", steps=300))
    titles = [b.title(overview.named_fields(found)) for b in found]
    assert titles == ["few-shot · lenet · steps 100 · selection source-val",
                      "few-shot · lenet · steps 300 · selection source-val"]


def test_latex_export_escapes_names_and_uses_booktabs():
    (board,), _ = _boards(synthetic.record("my_method", "a_b->c", 0), synthetic.record("my_method", "a_b->c", 1))
    latex = overview.export([board], "latex")
    assert r"my\_method" in latex and r"a\_b $\to$" in latex and r"\toprule" in latex and r"$\pm$" in latex
    assert "my_method" not in latex


def test_latex_export_writes_no_character_the_default_font_encoding_misprints():
    # with OT1, LaTeX's default, "mnist->usps" printed as "mnist-¿usps" and "×" as "Ö"
    (board,), _ = _boards(synthetic.record("a", "mnist->usps", 0),
                          synthetic.record("b", "mnist->usps", 0, status="failed", reason="batch < 2 × 64 ≥ #3 ~ ^ \\ {x}"))
    latex = overview.export([board], "latex")
    body = latex[latex.index(r"\toprule"):latex.index(r"\bottomrule")]
    assert r"mnist $\to$\\ usps" in body and not set(body) & set("<>×≥") and not re.search(r"(?<!\\)[#~^]", body)
    assert r"\textless{} 2 $\times$ 64 $\geq$ \#3 \textasciitilde{} \textasciicircum{} \textbackslash{} \{x\}" in body


def _latex_with_booktabs() -> bool:
    return bool(shutil.which("pdflatex") and shutil.which("kpsewhich")
                and subprocess.run(["kpsewhich", "booktabs.sty"], capture_output=True).returncode == 0)


@pytest.mark.skipif(not _latex_with_booktabs(),
                    reason="pdflatex with booktabs is not installed (Debian: texlive-latex-recommended)")
def test_latex_export_compiles_and_prints_the_names_as_typed(tmp_path):
    records = [synthetic.record(method, pair, seed, top1=0.5 + 0.1 * seed)
               for method in ("fine-tune", "my_method") for pair in ("mnist->usps", "usps->mnist") for seed in (0, 1)]
    records += [synthetic.record("dann", pair, 0, status="n/a", reason="dann runs only in uda, not in few-shot")
                for pair in ("mnist->usps", "usps->mnist")]
    records.append(synthetic.record("tent", "mnist->usps", 2, status="failed", reason="loss ≥ 1e3 × 2 at 50 % & #1"))
    found, _ = _boards(*records)
    (tmp_path / "board.tex").write_text(overview.export(found, "latex"))
    (tmp_path / "paper.tex").write_text("\\documentclass{article}\n\\usepackage{booktabs}\n"
                                        "\\begin{document}\n\\input{board.tex}\n\\end{document}\n")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "paper.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "paper.pdf", "-"], cwd=tmp_path, capture_output=True, text=True).stdout
        # OT1 draws \\_ as a rule, which pdftotext reads as a space
        assert "mnist →" in text and re.search("my[_ ]method", text) and "¿" not in text and "¡" not in text


def test_paired_comparison_counts_wins_ties_losses_and_gives_the_interval():
    result = paired.compare([0.1, 0.2, 0.0, -0.05])
    assert (result.wins, result.ties, result.losses) == (2, 1, 1)
    assert result.mean_difference == pytest.approx(0.0625) and result.low < 0 < result.high and result.tied


def test_one_matched_run_is_not_a_test():
    assert not paired.compare([0.3]).tested
    (board,), _ = _boards(synthetic.record("a", "p->q", 0, top1=0.8), synthetic.record("b", "p->q", 0, top1=0.7))
    assert board.table.set_index("method").loc["b", overview.VERSUS] == "1 matched run"   # not "1 matched runs"


def test_pareto_front_keeps_the_points_nothing_beats_on_cost_and_accuracy():
    import pandas as pd

    points = pd.DataFrame({"method": list("abcd"), "train_flops": [1, 2, 3, 4], "top1": [0.5, 0.4, 0.7, 0.6]})
    assert list(pareto_front(points, "train_flops")["method"]) == ["a", "c"]
