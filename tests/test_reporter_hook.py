"""The run_finished hook hands every finished record to reporter plugins."""
from conftest import PLUGIN_FIXTURES, TINY


def test_a_reporter_receives_every_finished_run(cli, tmp_path, monkeypatch):
    log = tmp_path / "log.txt"
    monkeypatch.setenv("REPORTER_LOG", str(log))
    cli("--plugin", "reporter", "run", "--methods", "source-only,scratch",
        "--pairs", "uci-digits->uci-digits-rotated", "--settings", "uda,supervised",
        "--results", str(tmp_path / "results"), *TINY, cwd=PLUGIN_FIXTURES)
    assert sorted(log.read_text().splitlines()) == ["scratch n/a", "scratch ok", "source-only n/a",
                                                    "source-only ok"]
