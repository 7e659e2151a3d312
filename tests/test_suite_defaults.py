"""A suite declares the backbone, weights and budget its pairs run with; flags override them, and
the embedded suite's specs (the shipped records' keys) stay what they were."""
import pytest
from conftest import ROOT

from tlarena import commands
from tlarena.records import read_records

OFFICE_HOME = "office-home-art->office-home-clipart"


@pytest.fixture
def planned(monkeypatch):
    """The specs a dry run would report."""
    specs = []
    monkeypatch.setattr(commands, "_dry_run", lambda args, arena, grid, *recorded: specs.extend(grid) or 0)
    return specs


def test_an_office_home_pair_runs_on_an_imagenet_resnet50_for_domainbeds_budget(cli, tmp_path, planned):
    # regression: every suite ran LeNet at 32 px for 200 steps
    cli("run", "--methods", "dann", "--pairs", OFFICE_HOME, "--settings", "uda", "--seeds", "0",
        "--dry-run", "--results", str(tmp_path / "r"))
    assert {(s.backbone, s.weights, s.budget.steps, s.budget.source_steps) for s in planned} == {
        ("resnet50-imagenet", "hub", 5000, 5000)}


def test_flags_override_the_suites_defaults(cli, tmp_path, planned):
    cli("run", "--methods", "dann", "--pairs", OFFICE_HOME, "--settings", "uda", "--seeds", "0",
        "--backbone", "lenet", "--steps", "7", "--dry-run", "--results", str(tmp_path / "r"))
    assert {(s.backbone, s.weights, s.budget.steps, s.budget.source_steps) for s in planned} == {
        ("lenet", "none", 7, 5000)}


def test_the_default_suites_grid_still_holds_every_shipped_record(cli, tmp_path, planned):
    cli("run", "--all", "--dry-run", "--results", str(tmp_path / "r"))
    shipped = {record.key for record in read_records(ROOT / "results")[0]}
    assert shipped and shipped <= {spec.key for spec in planned}


def test_list_suites_shows_each_suites_backbone_input_size_and_budget(cli):
    rows = {line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:-1]]
            for line in cli("list", "suites").out.splitlines() if line.startswith("│")}
    assert (rows["office-home"][3:9], rows["embedded"][3:9]) == (
        ["resnet50-imagenet", "hub", "224×224", "5000", "5000", "32"], ["lenet", "none", "32×32", "200", "500", "32"])


def test_hub_weights_that_are_not_here_stop_the_grid_before_a_run_with_one_line_per_model(
        cli, offline, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))        # an empty cache, and no hub
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    results = tmp_path / "results"

    ran = cli("run", "--pairs", "synth-digits->uci-digits,synth-digits->synth-digits-colour", "--methods",
              "fine-tune,scratch", "--settings", "supervised", "--backbone", "resnet18", "--weights", "hub",
              "--seeds", "0", "--results", str(results))

    assert ran.code == 2 and ran.err.count("resnet18 (backbone resnet18)") == 1 and "--weights none" in ran.err
    assert not results.exists()


def test_random_weights_need_no_hub(cli, offline, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    ran = cli("run", "--pairs", "synth-digits->uci-digits", "--methods", "fine-tune", "--settings", "supervised",
              "--backbone", "resnet18", "--weights", "none", "--seeds", "0", "--steps", "1", "--source-steps", "1",
              "--eval-points", "1", "--dry-run", "--results", str(tmp_path / "results"))
    assert ran.code == 0, ran.err
