"""The benchmark scripts still run and print their ratios (at toy sizes: no timing is asserted)."""
import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import ROOT, SHARED_DATA, load_benchmark, requires_shared_data


def run_benchmark(script: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


# One interpreter runs every call of a fixture below: their imports (torch, timm, scikit-learn) are
# the cost of each process, paid once. A call that raises or exits non-zero fails them all, with
# its traceback or message.
IN_ONE_PROCESS = """
import contextlib, io, json, runpy, sys
calls, saved_to, outputs = json.loads(sys.argv[1]), sys.argv[2], {}
sys.path.insert(0, sys.argv[3])   # as `python benchmarks/SCRIPT.py` puts the helpers beside it first
for name, argv in calls.items():
    sys.argv, buffer = argv, io.StringIO()
    with contextlib.redirect_stdout(buffer):
        try:
            runpy.run_path(argv[0], run_name="__main__")
        except SystemExit as stop:
            if stop.code not in (None, 0):
                raise
    outputs[name] = buffer.getvalue()
with open(saved_to, "w") as out:
    json.dump(outputs, out)
"""


def run_in_one_process(calls: dict[str, list[str]], folder: Path, timeout: float = 900) -> dict[str, str]:
    """Each call's stdout, by name; a call is a script's path, then its arguments."""
    done = subprocess.run([sys.executable, "-c", IN_ONE_PROCESS, json.dumps(calls), str(folder / "outputs.json"),
                           str(ROOT / "benchmarks")],
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return json.loads((folder / "outputs.json").read_text())


def ratio(output: str, label: str) -> float:
    return float(re.search(rf"{label}[^:]*: ([0-9.]+)", output).group(1))


def test_harness_against_a_bare_timm_loop_prints_its_ratios():
    out = run_benchmark("harness_vs_timm.py", "--model", "resnet18", "--size", "32", "--batch", "8",
                        "--steps", "3", "--repeats", "1", "--images", "64", "--device", "cpu")

    assert ratio(out, "overhead ratio") > 0 and 0 < ratio(out, r"data loading.*share") < 1
    assert "resnet18 at 32 px, batch 8, 3 steps" in out


def test_trainer_overhead_prints_its_ratio():
    out = run_benchmark("trainer_overhead.py", "--steps", "5", "--repeats", "1")

    assert ratio(out, "overhead ratio") > 0 and ratio(out, "layout ratio") > 0
    assert "channels-last)" in out and "default layout)" in out


def test_leaderboard_benchmark_prints_its_loading_ratios_and_render_times():
    out = run_benchmark("leaderboard.py", "--sizes", "200,400", "--render", "200")

    assert ratio(out, "ratio 400 / 200 records") > 0
    assert "overview of 200 records (4 boards)" in out and "every cache warm" in out


def test_frozen_features_prints_each_methods_speed_up_and_both_accuracies():
    out = run_benchmark("frozen_features.py", "--model", "resnet18", "--steps", "3", "--batch", "8",
                        "--images", "48", "--device", "cpu", "--pretrain-steps", "2")

    assert all(ratio(out, rf"{name}:.*speed-up ratio") > 0 for name in ("linear-probe", "coral-linear", "tca"))
    assert "top-1 reused" in out and "recomputed" in out


@pytest.fixture(scope="module")
def recipe_ablation(tmp_path_factory) -> dict[str, str]:
    """The outputs of the plain-loop ablation's calls the tests below read, three steps a run."""
    script = str(ROOT / "benchmarks" / "source_recipe_ablation.py")
    common = ["--shared", str(SHARED_DATA), "--seeds", "0", "--steps", "3"]
    return run_in_one_process({
        "suite": [script, *common, "--variants", "plain,tlarena,plain-dann"],
        "jda": [script, *common, "--variants", "plain,1600", "--mnist", "jda", "--usps", "jda"],
    }, tmp_path_factory.mktemp("recipe-ablation"))


@requires_shared_data
def test_source_recipe_ablation_scores_each_variant_on_usps(recipe_ablation):
    out = recipe_ablation["suite"]
    assert out.splitlines()[0].split()[2:4] == ["USPS", "test"]   # the split tlarena scores this pair on
    rows = {line.split()[0]: [float(v) for v in line.split()[2:5]] for line in out.splitlines()[1:]}
    assert set(rows) == {"plain", "tlarena", "plain-dann"}
    assert all(0 <= value <= 100 for scores in rows.values() for value in scores)


@requires_shared_data
def test_source_recipe_ablation_trains_on_the_jda_subset_and_scores_its_1800_usps_images(recipe_ablation):
    out = recipe_ablation["jda"]
    rows = {line.split()[0]: line.split()[2:5] for line in out.splitlines()[1:]}
    assert set(rows) == {"plain", "1600"}
    for usps_test, usps_1800, fit in rows.values():   # the subset has no USPS test split
        assert usps_test == "–" and 0 <= float(usps_1800) <= 100 and 0 <= float(fit) <= 100


@requires_shared_data
def test_source_recipe_ablation_finds_the_jda_subsets_mnist_digits_in_mnists_test_set():
    ablation = load_benchmark("source_recipe_ablation")
    jda_mnist, jda_labels, *_ = ablation.load(SHARED_DATA, "jda", "jda")
    mnist_28px, labels_28px, usps, _, test, _ = ablation.load(SHARED_DATA, "jda-28px", "first-1800")

    assert mnist_28px.shape == (2000, 28, 28) and np.array_equal(labels_28px, jda_labels)
    assert np.abs(ablation.shrink(mnist_28px[:50], 16).astype(int) - jda_mnist[:50]).mean() < 8   # of 255
    assert usps.shape == (1800, 16, 16) and test.shape == (2007, 16, 16)
    assert ablation.load(SHARED_DATA, "first-2000", "every-fifth")[4] is None   # it holds test images
    spread, first = ablation.load(SHARED_DATA, "every-fifth")[0], ablation.load(SHARED_DATA)[0]
    assert spread.shape == (2000, 28, 28) and np.array_equal(spread[1], first[5])   # MNIST test image 5


@requires_shared_data
def test_the_jda_image_folders_hold_the_subsets_images_and_tlarena_reads_them_as_a_pair(tmp_path):
    folders = load_benchmark("jda_image_folders")
    mnist, usps = folders.write_folders(SHARED_DATA, tmp_path)
    # the per-digit counts ../shared/data/README.md lists for Xs and Xt
    assert [len(list((mnist / str(d)).glob("*.png"))) for d in range(10)] == \
        [196, 227, 207, 202, 196, 179, 191, 206, 195, 201]
    assert [len(list((usps / str(d)).glob("*.png"))) for d in range(10)] == \
        [352, 241, 165, 166, 166, 126, 139, 172, 129, 144]
    images, labels, _, _ = folders.read_jda(SHARED_DATA)
    assert np.array_equal(np.asarray(Image.open(mnist / str(labels[1234]) / "1234.png")), images[1234])
    assert images[1234].shape == (16, 16) and images.max() >= 250 and images[:, 0].mean() < 1   # white on a black margin

    done = subprocess.run([sys.executable, "-m", "tlarena", "run", "--source-folder", str(mnist),
                           "--target-folder", str(usps), "--methods", "source-only", "--settings", "uda",
                           "--backbone", "lenet", "--seeds", "0", "--results", str(tmp_path / "records"),
                           "--dry-run"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    assert "jda-mnist-2000->jda-usps-1800" in done.stdout


@requires_shared_data
def test_the_jda_subsets_usps_images_are_every_fifth_usps_image_not_its_first_1800():
    """docs/reproduction.md says where the subset's USPS images come from: ../shared's README says
    USPS's first 1,800 training images, but the labels and pixels match every fifth image."""
    import h5py
    _, _, images, labels = load_benchmark("jda_image_folders").read_jda(SHARED_DATA)
    with h5py.File(SHARED_DATA / "usps" / "usps.h5") as f:
        usps = np.concatenate([f["train/data"][:], f["test/data"][:]])
        usps_labels = np.concatenate([f["train/target"][:], f["test/target"][:]])
    every_fifth = 5 * np.arange(1800)
    assert np.array_equal(labels, usps_labels[every_fifth])
    assert (labels == usps_labels[:1800]).mean() < 0.2
    correlation = [np.corrcoef(image.ravel().astype(float), usps[row])[0, 1]
                   for image, row in zip(images, every_fifth)]
    assert min(correlation) > 0.85 and np.median(correlation) > 0.95


@pytest.fixture(scope="module")
def dann_ablation(tmp_path_factory) -> dict[str, str]:
    """The outputs of the DANN ablation's calls the tests below read, three steps a run."""
    script = str(ROOT / "benchmarks" / "dann_mnist_m_ablation.py")
    common = ["--shared", str(SHARED_DATA), "--steps", "3"]
    return run_in_one_process({   # "variants": a network without and one with batch norm
        "variants": [script, *common, "--variants", "paper,lenet-bn-adam", "--seeds", "0,1"],
        "target-images": [script, *common, "--variants", "paper", "--seeds", "0", "--target-images", "30,3599"],
        "source-images": [script, *common, "--variants", "paper", "--seeds", "0", "--source-images", "30,3600"],
        "interleaved": [script, *common, "--variants", "paper,lenet", "--seeds", "0", "--split", "interleaved"],
        "alignment": [script, *common, "--variants", "paper", "--seeds", "0", "--alignment"],
    }, tmp_path_factory.mktemp("dann-ablation"))


def gains_table(out: str) -> dict[tuple[str, str], list[str]]:
    """(variant, seed or "mean") → the cells of its row in the ablation's table of gains."""
    end = out.index("Alignment, %") if "Alignment, %" in out else out.index("Top-1 % on")
    return {tuple(line.split()[:2]): line.split()[2:] for line in out[out.index("variant"):end].splitlines()[1:]}


@requires_shared_data
def test_dann_mnist_m_ablation_prints_each_variants_gain_over_its_own_source_only(dann_ablation):
    rows = gains_table(dann_ablation["variants"])
    assert set(rows) == {(v, s) for v in ("paper", "lenet-bn-adam") for s in ("0", "1", "mean")}
    for (variant, _), (source_only, dann, gain, *adabn) in rows.items():
        assert 0 <= float(source_only) <= 100 and 0 <= float(dann) <= 100
        assert float(gain) == pytest.approx(float(dann) - float(source_only), abs=0.15)
        if variant == "paper":   # AdaBN: batch-norm networks only
            assert adabn == ["–"] * 3
        else:                    # both sides with target statistics, and the gain between them
            assert float(adabn[2]) == pytest.approx(float(adabn[1]) - float(adabn[0]), abs=0.15)
    mean = rows["lenet-bn-adam", "mean"]
    for column in range(6):
        seeds = [float(rows["lenet-bn-adam", s][column]) for s in ("0", "1")]
        assert float(mean[column]) == pytest.approx(sum(seeds) / 2, abs=0.1)


@requires_shared_data
def test_dann_mnist_m_ablation_prints_one_table_per_number_of_images(dann_ablation):
    def tables(out: str, title: str) -> dict:   # images: [source-only, DANN, gain] of seed 0
        return {int(block.split(" of ")[0].replace(",", "")): block.splitlines()[2].split()[2:5]
                for block in out.split(title)[1:]}
    target_out, source_out = dann_ablation["target-images"], dann_ablation["source-images"]
    target, source = tables(target_out, "DANN adapting to "), tables(source_out, "Both runs on ")
    assert set(target) == {30, 3599} and set(source) == {30, 3600}
    assert target[30][0] == target[3599][0]   # source-only sees no target image: one run for both
    assert "paper seed 0 dann on 30 target images" in target_out and target_out.count("source-only:") == 1
    assert "paper seed 0 source-only on 30 source images" in source_out and source_out.count("source-only on") == 2
    # all the images: the same runs as without the options
    assert gains_table(dann_ablation["variants"])["paper", "0"][:3] == target[3599] == source[3600]


@requires_shared_data
def test_dann_mnist_m_ablation_splits_the_digits_and_scores_the_targets_own_mnist_digits(dann_ablation):
    ablation = load_benchmark("dann_mnist_m_ablation")
    source, target = ablation.SPLITS["interleaved"]
    assert not set(source) & set(target) and {0, 8998} <= set(source) and {1, 8999} <= set(target)
    *_, held_labels, held_digits = ablation.load(SHARED_DATA, "interleaved")
    assert len(held_digits) == len(held_labels) == 901

    out = dann_ablation["interleaved"]
    plain = [re.fullmatch(r"  (\S+): source-only ([0-9.]+), DANN ([0-9.]+)", line).groups()
             for line in out[out.index("without the photo"):].splitlines()[1:]]
    assert [variant for variant, *_ in plain] == ["paper", "lenet"]
    assert all(0 <= float(score) <= 100 for _, *scores in plain for score in scores)


def source_digits(ablation) -> np.ndarray:
    """The raw 28-px MNIST digits of the halves split's source fit part, as the ablation cuts it."""
    labels = ablation.read_idx(SHARED_DATA / "mnist/t10k-labels-idx1-ubyte.gz")[:4500]
    return ablation.read_idx(SHARED_DATA / "mnist/t10k-images-idx3-ubyte.gz")[:4500][ablation.Cut.of(labels).kept]


@requires_shared_data
def test_dann_mnist_m_ablation_pads_mnist_to_32_px_with_the_digit_at_its_own_size():
    ablation = load_benchmark("dann_mnist_m_ablation")
    resized, padded = (ablation.load(SHARED_DATA, "halves", how)[0] for how in ("resize", "pad"))
    raw = source_digits(ablation)

    assert padded.shape == resized.shape == (3600, 3, 32, 32)
    assert torch.equal(padded[:, 0, 2:30, 2:30], torch.from_numpy(raw).float().div(255).sub(0.5).div(0.5))
    assert (padded[:, :, :2] == -1).all() and (padded[:, :, :, 30:] == -1).all()   # black margins
    assert not torch.equal(padded, resized)


@requires_shared_data
def test_dann_mnist_m_ablation_gives_the_source_the_binary_strokes_mnist_m_inverts_its_photo_under():
    ablation = load_benchmark("dann_mnist_m_ablation")
    source = ablation.load(SHARED_DATA, "halves", "pad", "binary")[0]
    assert torch.equal(source[:, 0, 2:30, 2:30], torch.from_numpy(source_digits(ablation) > 0).float().mul(2).sub(1))

    # The claim behind the option: under even MNIST's faintest inked pixels (1-40 of 255), an MNIST-M
    # image holds its photo fully inverted. Measured as how far such a pixel sits from the image's
    # photo colour (its pixels with no ink) towards its inverted colour (under full ink): 1 = inverted.
    digits = np.pad(ablation.read_idx(SHARED_DATA / "mnist/t10k-images-idx3-ubyte.gz")[:500], ((0, 0), (2, 2), (2, 2)))
    photos = np.load(SHARED_DATA / "mnist_m/mnist_m_test.npz")["images"][:500].astype(float)
    fractions = []
    for digit, photo in zip(digits, photos):
        blank, full, faint = photo[digit == 0].mean(0), photo[digit > 200].mean(0), photo[(digit > 0) & (digit <= 40)]
        if len(faint):
            fractions.append((faint.mean(0) - blank) @ (full - blank) / ((full - blank) @ (full - blank)))
    assert np.median(fractions) > 0.95


@requires_shared_data
def test_dann_mnist_m_ablation_measures_how_far_each_run_aligned_the_domains(dann_ablation):
    out = dann_ablation["alignment"]

    rows = [line.split() for line in out[out.index("class probe"):out.index("Top-1 % on")].splitlines()[2:]]
    assert [row[:3] for row in rows] == [["paper", "0", "source-only"], ["paper", "0", "dann"]]
    assert rows[0][4] == "–"   # source-only trains no discriminator
    assert all(0 <= float(cell) <= 100 for row in rows for cell in row[3:] if cell != "–")
    assert float(rows[1][5]) > 90   # three steps align nothing: a fresh probe still tells the domains apart
    # the probes come after the scores: the same runs as without --alignment
    assert gains_table(out)["paper", "0"] == gains_table(dann_ablation["variants"])["paper", "0"]


@pytest.mark.parametrize("option, variants, message", [
    ("20,x", "paper", "numbers of images"), ("0", "paper", "from 1 to 3,599"), ("5000", "paper", "from 1 to 3,599"),
    ("900", "paper,dtn", "batch-norm variants dtn")])   # dtn's AdaBN would see other images than its DANN
def test_dann_mnist_m_ablation_checks_image_counts_before_training(option, variants, message):
    ablation = load_benchmark("dann_mnist_m_ablation")

    with pytest.raises(SystemExit, match=message):
        ablation.image_counts("target", option, 3599, variants.split(","))
    assert ablation.image_counts("target", "450,3599", 3599, ["paper"]) == [450, 3599]
    assert ablation.image_counts("source", "900", 3600, ["dtn"]) == [900]   # AdaBN sees all the target


def test_cli_startup_prints_each_command_beside_the_import_of_torch():
    out = run_benchmark("cli_startup.py", "--results", str(ROOT / "results"), "--seeds", "0", "--repeats", "1")

    assert ratio(out, "tlarena --help") > 0 and ratio(out, "tlarena show") > 0
    assert ratio(out, r"tlarena run --all \(all recorded\)") > 0


def test_the_mnist_usps_pairs_file_scores_the_suites_pair_on_the_images_it_adapts_to():
    from tlarena_plugins.suites.digits import MNIST_2000, USPS_1800
    from tlarena.pairs_file import from_file, pairs
    from tlarena.partition import Evaluation, evaluation_for

    [pair] = pairs(from_file(ROOT / "benchmarks" / "mnist_usps_adapted_images.toml"))

    assert pair.source.reference() == MNIST_2000.reference()   # the suite's source, unchanged
    assert (pair.target.path, pair.target.revision) == (USPS_1800.path, USPS_1800.revision)
    assert pair.target.splits == {"train": USPS_1800.splits["train"], "test": USPS_1800.splits["train"]}
    assert evaluation_for(pair.target, False, True) is Evaluation.TRANSDUCTIVE


def _summary(text):
    """A script's docstring up to its first blank line: what its --help opens with."""
    docstring = ast.get_docstring(ast.parse(text), clean=False) or ""
    return docstring.split("\n\n")[0].strip()


# Every script, each with its summary (the helpers beside them start with "_"). A --help that printed
# only a summary's first line stopped mid-sentence ("picked per seed without a"); run_all.py read no
# arguments, and its --help started a 30-minute grid.
SUMMARIES = {str(path): _summary(path.read_text(encoding="utf-8"))
             for path in sorted((ROOT / "benchmarks").glob("[!_]*.py"))}


def test_each_benchmarks_help_gives_its_whole_summary_and_starts_no_work(tmp_path):
    helps = run_in_one_process({path: [path, "--help"] for path in SUMMARIES}, tmp_path, timeout=300)

    cut = [Path(path).name for path, summary in SUMMARIES.items()
           if not helps[path].startswith("usage:") or " ".join(summary.split()) not in " ".join(helps[path].split())]
    assert sum("\n" in summary for summary in SUMMARIES.values()) >= 4 and cut == []


def test_a_benchmarks_report_whose_reader_left_ends_it_quietly_with_141():
    # `compare_records.py results results | head` printed a BrokenPipeError traceback and exited 1
    read, write = os.pipe()
    os.close(read)   # the reader left before the first line: the first write fails, however short
    try:
        done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "compare_records.py"), str(ROOT / "results"),
                               str(ROOT / "results")], stdout=write, stderr=subprocess.PIPE, text=True, timeout=300)
    finally:
        os.close(write)

    assert (done.returncode, done.stderr) == (141, "")


def _runs_main_through_the_shared_entry(text: str) -> bool:
    """Whether a script's `if __name__ == "__main__":` block ends in ``run(main)`` of ``_script``."""
    tree = ast.parse(text)
    block = tree.body[-1]
    return (isinstance(block, ast.If) and "__main__" in ast.unparse(block.test)
            and any(isinstance(node, ast.ImportFrom) and node.module == "_script" for node in block.body)
            and ast.unparse(block.body[-1]) == "run(main)")


def test_every_benchmark_runs_its_main_through_the_entry_that_handles_a_closed_pipe():
    scripts = sorted((ROOT / "benchmarks").glob("[!_]*.py"))
    astray = [path.name for path in scripts if not _runs_main_through_the_shared_entry(path.read_text())]

    assert len(scripts) >= 18 and astray == []


def test_compare_records_says_how_far_two_folders_of_one_grid_lie_apart(tmp_path):
    first, other = tmp_path / "first", tmp_path / "other"
    first.mkdir(), other.mkdir()
    records = {path: json.loads(path.read_text()) for path in sorted((ROOT / "results").glob("*.json"))}
    supervised = {path: record for path, record in records.items() if record["spec"]["setting"] == "supervised"}
    for path in supervised:
        (first / path.name).write_text(path.read_text())
        (other / path.name).write_text(path.read_text())
    ok = [path for path, record in supervised.items() if record["status"] == "ok"]
    def cell(path):   # its spec but the seed
        return {k: v for k, v in supervised[path]["spec"].items() if k != "seed"}
    moved = ok[0]
    nudged, dropped = [path for path in ok if cell(path) != cell(moved)][:2]   # in other cells
    spec, was = supervised[moved]["spec"], 100 * supervised[moved]["metrics"]["top1"]
    for path, by in ((moved, -0.3), (nudged, 0.004)):
        record = supervised[path]
        record["metrics"]["top1"] += by
        (other / path.name).write_text(json.dumps(record))
    (other / dropped.name).unlink()

    out = " ".join(run_benchmark("compare_records.py", str(first), str(other)).split())

    assert f"{len(supervised)} and {len(supervised) - 1} recorded, {len(supervised) - 1} in both, " \
           f"{len(ok) - 1} ok in both" in out
    assert f"top-1 identical in {len(ok) - 3};" in out   # all but the dropped, moved and nudged runs
    assert f"most: -30.0, {spec['method']} · {spec['pair']} · supervised · seed {spec['seed']} " \
           f"({was:.1f} -> {was - 30:.1f})" in out
    assert f"at most -10.0 ({spec['method']} · {spec['pair']} · supervised)" in out   # 1 of its 3 seeds
    assert "supervised: 8 methods; leader" in out and "Kendall's tau" in out

    def refusal(folder: Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "compare_records.py"), str(first),
                               str(folder)], capture_output=True, text=True, timeout=120)
    lone = tmp_path / "lone"   # a record of another grid only
    lone.mkdir()
    elsewhere = next(path for path in records if path not in supervised)
    (lone / elsewhere.name).write_text(elsewhere.read_text())
    done = refusal(lone)
    assert done.returncode == 1 and "share no run: not records of one grid" in done.stderr
    failed = tmp_path / "failed"   # the same runs, none of them ok
    failed.mkdir()
    for path in supervised:
        (failed / path.name).write_text(json.dumps({**supervised[path], "status": "failed", "reason": "a test"}))
    done = refusal(failed)
    assert done.returncode == 1 and "no run is ok in both" in done.stderr
