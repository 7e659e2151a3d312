"""benchmarks/reproduce_dg.py rewrites only its own generated block of docs/reproduction.md, beside
reproduce_digits.py's. The grid itself takes half an hour or more on a 2-core CPU; it is not run here."""
from conftest import load_benchmark

dg, digits = load_benchmark("reproduce_dg"), load_benchmark("reproduce_digits")


def test_each_script_rewrites_its_own_block_and_leaves_the_other_and_the_prose(tmp_path):
    copy = tmp_path / "reproduction.md"
    copy.write_text(f"# Title\n\n{digits.BEGIN}\nold digits\n{digits.END}\n\n## DG\nprose\n\n"
                    f"{dg.BEGIN}\nold dg\n{dg.END}\n\n## Gaps\nmore prose\n")

    dg.write_doc(copy, f"{dg.BEGIN}\nnew dg\n{dg.END}")
    digits.write_doc(copy, f"{digits.BEGIN}\nnew digits\n{digits.END}")

    assert copy.read_text() == (f"# Title\n\n{digits.BEGIN}\nnew digits\n{digits.END}\n\n## DG\nprose\n\n"
                                f"{dg.BEGIN}\nnew dg\n{dg.END}\n\n## Gaps\nmore prose\n")


def test_an_empty_results_folder_gives_a_block_that_says_so(tmp_path):
    block = dg.generated(tmp_path)

    assert block.startswith(dg.BEGIN) and "No records of finished runs yet." in block and block.endswith(dg.END)


def test_the_grid_runs_the_dg_methods_on_leave_one_domain_out_pairs_of_the_suite():
    assert dg.pair("noisy") == "embedded-domains-except-noisy->embedded-domains-noisy"
    assert set(dg.METHODS) == {"erm", "mixstyle", "coral-dg", "group-dro"} and dg.BASELINE in dg.METHODS


def test_each_budget_keeps_its_records_in_its_own_folder(tmp_path):
    assert dg.records_folder(tmp_path, None, None) == tmp_path / "records"
    assert dg.records_folder(tmp_path, 600, 0.05) == tmp_path / "records-600-lr0.05"
    assert dg.records_folder(tmp_path, 600, None) == tmp_path / "records-600-lrdefault"
    (tmp_path / "records").mkdir()
    (tmp_path / "records-600-lr0.05").mkdir()           # folders without records add no table
    assert "No records of finished runs yet." in dg.generated(tmp_path)


def test_with_several_held_out_domains_the_table_averages_them_as_domainbed_does():
    import pandas as pd

    runs = [(dg.pair(t), m, seed, top1) for t, m, top1 in
            [("noisy", "erm", 0.50), ("plain", "erm", 0.90), ("noisy", "coral-dg", 0.60), ("plain", "coral-dg", 0.86)]
            for seed in (0, 1)]
    frame = pd.DataFrame(runs, columns=["pair", "method", "seed", "top1"])
    rows = {line.split(" | ")[0].strip("| "): line for line in dg.table(frame, ["noisy", "plain"]).splitlines()}
    assert rows["erm"].endswith("| 70.0 | – |")
    assert rows["coral-dg"].endswith("| +10.0 | -4.0 | 73.0 | +3.0 |")
    assert rows["mixstyle"].endswith("| – | – |")                       # not run: no average
