"""A third-party plugin package (tests/example_plugin) adds a method and a pair through the entry point."""
import shutil

from conftest import EXAMPLE_PLUGIN, TINY, tlarena_process

from tlarena.records import read_records

PAIR = "example-digits->example-digits-noisy"


def _installed(site):
    """Install tests/example_plugin the way pip lays it out: the package plus its dist-info."""
    shutil.copytree(EXAMPLE_PLUGIN / "tlarena_example", site / "tlarena_example")
    info = site / "tlarena_example-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tlarena-example\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[tlarena]\nexample = tlarena_example\n")
    return {"PYTHONPATH": str(site)}


def test_installed_plugin_shows_in_list_with_its_origin(tmp_path):
    env = _installed(tmp_path)
    listed = tlarena_process("list", "plugins", env=env)
    assert "example" in listed.stdout and "entry point of tlarena-example 0.1.0" in listed.stdout
    assert "label-smoothing-fine-tune" in tlarena_process("list", "methods", env=env).stdout
    assert PAIR in tlarena_process("list", "pairs", env=env).stdout


def test_installed_plugin_method_and_pair_run_and_learn(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    env = _installed(site)
    results = tmp_path / "results"
    run = tlarena_process("run", "--methods", "label-smoothing-fine-tune,source-only", "--pairs", PAIR,
                          "--results", str(results), *TINY, env=env)
    records = {(r.spec.method, r.spec.setting): r for r in read_records(results)[0]}
    assert run.returncode == 0, run.stderr
    assert records[("label-smoothing-fine-tune", "supervised")].metrics.top1 > 0.5
    assert records[("source-only", "uda")].status == "ok"


def test_plugin_module_given_with_dash_dash_plugin(cli):
    result = cli("--plugin", "tlarena_example", "list", "pairs", cwd=EXAMPLE_PLUGIN)
    assert result.code == 0 and PAIR in result.out


def test_the_example_methods_keep_the_contract(monkeypatch):
    from tlarena.testing import check_method

    monkeypatch.syspath_prepend(str(EXAMPLE_PLUGIN))
    from tlarena_example import DeepCORAL, LabelSmoothingFineTune

    assert [c.setting for c in check_method(DeepCORAL)] == ["uda"]
    assert [c.setting for c in check_method(LabelSmoothingFineTune)] == ["few-shot", "supervised", "task"]
