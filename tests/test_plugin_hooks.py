"""Plugins are checked against the hook contract, and each hook's results and errors name their plugin."""
from types import SimpleNamespace

import pytest
from conftest import PLUGIN_FIXTURES

from tlarena.plugins import load_arena


@pytest.fixture
def fixture_plugins(monkeypatch):
    """`load_arena` imports the modules of tests/plugin_fixtures by name, as `--plugin` does."""
    monkeypatch.syspath_prepend(str(PLUGIN_FIXTURES))


def _info(arena, name):
    return next(info for info in arena.plugins if info.name == name)


def test_a_misspelled_hook_is_reported_with_the_hook_it_meant(fixture_plugins):
    arena = load_arena(("misspelled_hook",))

    assert "plugin 'misspelled_hook' (--plugin): register_method is not a tlarena hook; " \
           "did you mean register_methods?" in arena.problems
    assert ("fine-tune" in arena.methods, "misspelled" in arena.methods) == (True, False)


def test_a_hook_without_the_marker_is_reported(fixture_plugins):
    arena = load_arena(("unmarked_hook",))

    assert _info(arena, "unmarked_hook").errors == [
        "register_methods is not marked with @tlarena.hookimpl, so it is never called"]


def test_each_plugin_is_credited_with_what_it_registered(fixture_plugins):
    arena = load_arena(("faulty_methods",))

    assert _info(arena, "faulty_methods").registered == {"method": ["raises-in-step", "nan-loss", "exits-in-step",
                                                                    "crashes-in-step", "hangs-in-step"]}
    assert "nan-loss" not in _info(arena, "parameter-transfer").registered["method"]


def test_a_reporter_that_raises_is_named_and_the_others_still_get_the_record(
        fixture_plugins, tmp_path, monkeypatch):
    log = tmp_path / "log.txt"
    monkeypatch.setenv("REPORTER_LOG", str(log))
    arena = load_arena(("raising_reporter", "reporter"))
    record = SimpleNamespace(spec=SimpleNamespace(method="fine-tune"), status="ok")

    failures = arena.notify_run_finished(record)

    assert failures == ["plugin 'raising_reporter' failed in run_finished: "
                        "ConnectionError('log server unreachable')"]
    assert log.read_text() == "fine-tune ok\n"


def test_the_acceptance_plugins_load_beside_the_built_in_methods_without_a_clash(fixture_plugins):
    # Regression: they registered "dann" (and, once built in, "fixmatch", "shot", "tent"), names
    # the built-in methods take, so `--plugin contract_v2` reported duplicates and lost those methods.
    arena = load_arena(("contract_v2",))

    assert arena.problems == []
    assert {"dann-fixture", "fixmatch-fixture", "shot-fixture", "tent-fixture", "two-head-fusion"} <= set(arena.methods.names())


def test_a_broken_plugins_message_prints_as_written_brackets_and_all(cli, tmp_path):
    # rich read "[gpu]" as markup: "needs the  extra: pip install 'tlarena'"
    (tmp_path / "bracket_plugin.py").write_text("raise RuntimeError(\"needs the [gpu] extra: pip install 'x[gpu]'\")\n")
    result = cli("--plugin", "bracket_plugin", "list", "backbones", cwd=tmp_path)
    assert result.code == 0 and "needs the [gpu] extra: pip install 'x[gpu]'" in result.err
