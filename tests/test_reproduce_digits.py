"""benchmarks/reproduce_digits.py rewrites only its generated block of docs/reproduction.md.

The grid itself takes hours on a 2-core CPU at its default budget; it is not run here.
"""
import json
import sys

import pytest

from conftest import SHARED_DATA, load_benchmark, requires_shared_data

reproduce = load_benchmark("reproduce_digits")


def test_the_doc_keeps_its_hand_written_text_around_the_regenerated_tables(tmp_path):
    doc = tmp_path / "reproduction.md"
    doc.write_text(f"# Title\n\nintro\n\n{reproduce.BEGIN}\nold table\n{reproduce.END}\n\n## Gaps\nprose\n")

    reproduce.write_doc(doc, f"{reproduce.BEGIN}\nnew table\n{reproduce.END}")

    assert doc.read_text() == f"# Title\n\nintro\n\n{reproduce.BEGIN}\nnew table\n{reproduce.END}\n\n## Gaps\nprose\n"


def test_an_empty_results_folder_gives_a_block_that_says_so(tmp_path):
    block = reproduce.generated(tmp_path)

    assert block.startswith(reproduce.BEGIN) and "No records of finished runs yet." in block and block.endswith(reproduce.END)


def _stats(means: dict) -> "pd.DataFrame":
    import pandas as pd
    return pd.DataFrame([{"pair": pair, "method": method, "top1_mean": value / 100}
                         for (pair, method), value in means.items()])


def test_the_batch_norm_network_is_judged_against_source_only_and_shows_its_margin_over_adabn():
    lenet = _stats({(reproduce.MNIST_M, "source-only"): 52.0, (reproduce.MNIST_M, "dann"): 61.0})
    bn = _stats({(reproduce.MNIST_M, "source-only"): 40.0, (reproduce.MNIST_M, "adabn"): 55.0,
                 (reproduce.MNIST_M, "dann"): 62.0})

    lines = reproduce.checks(lenet, full_budget=True, bn_stats=bn)

    assert f"- {reproduce.MNIST_M}: DANN − source-only ≥ 15 points: **not met** (measured 9.0)" in lines
    assert f"- {reproduce.MNIST_M} on `dtn`: DANN − source-only ≥ 15 points: met (measured 22.0)" in lines
    assert any(line.startswith(f"- {reproduce.MNIST_M} on `dtn`: DANN − AdaBN") and line.endswith("measured 7.0")
               for line in lines)
    assert not any("on `dtn`" in line for line in reproduce.checks(lenet, full_budget=True))


def test_the_wall_times_go_beside_the_records_so_tlarena_show_reads_no_corrupt_record(tmp_path, monkeypatch):
    from tlarena.records import load_results
    results = tmp_path / "records"
    results.mkdir()
    (results / "timings.json").write_text('{"earlier pair: dann": {"wall_seconds": 60.0}}')   # an older run's
    monkeypatch.setattr(reproduce, "tlarena", lambda args, env: None)

    reproduce.run_grid(None, tmp_path / "data", results, {}, order=((reproduce.USPS, ("dann",)),), budget=("--steps", "1"))

    assert load_results(results)[1] == []
    timings = json.loads(reproduce.beside(results, reproduce.TIMINGS).read_text())
    assert timings["earlier pair: dann"]["wall_seconds"] == 60.0 and f"{reproduce.USPS}: dann" in timings


def test_the_jda_subsets_images_are_judged_by_the_mnist_usps_criteria_beside_the_suites_pair():
    usps = {(reproduce.USPS, "source-only"): 71.0, (reproduce.USPS, "dann"): 80.0}
    jda = _stats({(reproduce.JDA, "source-only"): 79.5, (reproduce.JDA, "dann"): 85.0,
                  (reproduce.JDA, "cdan-e"): 86.0, (reproduce.JDA, "mcc"): 84.0})

    lines = reproduce.checks(_stats(usps), full_budget=True, jda_stats=jda)

    assert f"- {reproduce.USPS}: source-only ≥ the plain loop's ≈ 79: **not met** (measured 71.0)" in lines
    assert f"- {reproduce.JDA}: source-only ≥ the plain loop's ≈ 79: met (measured 79.5)" in lines
    assert f"- {reproduce.JDA}: DANN ≥ the plain loop's 86: **not met** (measured 85.0)" in lines
    assert f"- {reproduce.JDA}: MCC − DANN > 0: **not met** (measured -1.0)" in lines
    assert not any(reproduce.JDA in line for line in reproduce.checks(_stats(usps), full_budget=True))


def test_the_jda_pair_is_run_from_its_image_folders_and_the_suites_pairs_by_name(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(reproduce, "tlarena", lambda args, env: calls.append(args))

    reproduce.run_grid(None, tmp_path, tmp_path / "records", {}, order=reproduce.JDA_GRID.items(), budget=("--steps", "1"))
    reproduce.run_grid(None, tmp_path, tmp_path / "records", {}, order=((reproduce.USPS, ("dann",)),), budget=("--steps", "1"))

    jda, usps = calls
    assert jda[jda.index("--source-folder") + 1] == str(tmp_path / "jda" / "jda-mnist-2000")
    assert jda[jda.index("--target-folder") + 1] == str(tmp_path / "jda" / "jda-usps-1800") and "--pairs" not in jda
    assert usps[usps.index("--pairs") + 1] == reproduce.USPS and "--source-folder" not in usps


def test_a_shared_folder_without_a_file_the_grid_reads_stops_before_any_run(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    for name in ("mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz", "usps/usps.h5",
                 "mnist_m/mnist_m_test.npz"):   # all but the JDA subset
        (shared / name).parent.mkdir(parents=True, exist_ok=True)
        (shared / name).write_bytes(b"")
    calls = []
    monkeypatch.setattr(reproduce, "tlarena", lambda args, env: calls.append(args))
    monkeypatch.setattr(sys, "argv", ["reproduce_digits.py", "--shared", str(shared), "--work", str(tmp_path / "work")])

    with pytest.raises(SystemExit, match="missing jda_mnist_usps/MNIST_vs_USPS.mat"):
        reproduce.main()
    assert calls == []


@requires_shared_data
def test_the_every_fifth_stand_in_for_mnist_train_starts_with_both_writer_groups(tmp_path):
    import numpy as np
    archive = np.load(reproduce._every_fifth_first(SHARED_DATA, tmp_path))
    images = reproduce.read_idx(SHARED_DATA / "mnist/t10k-images-idx3-ubyte.gz")
    labels = reproduce.read_idx(SHARED_DATA / "mnist/t10k-labels-idx1-ubyte.gz")

    assert archive["images"].shape == images.shape and sorted(archive["labels"]) == sorted(labels)
    for row, source in ((1, 5), (1999, 9995), (2000, 1)):   # mnist-2000 is rows 0-1,999: half from each group
        assert np.array_equal(archive["images"][row], images[source]) and archive["labels"][row] == labels[source]


def test_the_every_fifth_grid_takes_no_report_only_and_runs_nothing(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(reproduce, "tlarena", lambda args, env: calls.append(args))
    monkeypatch.setattr(sys, "argv", ["reproduce_digits.py", "--mnist-train", "every-fifth", "--report-only",
                                      "--work", str(tmp_path / "work")])

    with pytest.raises(SystemExit) as stopped:
        reproduce.main()
    assert stopped.value.code == 2 and "takes no --report-only" in capsys.readouterr().err
    assert calls == [] and not (tmp_path / "work").exists()
