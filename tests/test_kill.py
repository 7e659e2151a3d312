"""`kill -9` in the middle of a grid, then the same grid again: nothing lost, duplicated or corrupt."""
import json
import os
import signal
import subprocess
import sys
import time

from conftest import ROOT

from tlarena.records import read_records

GRID = ["run", "--methods", "fine-tune,scratch,linear-probe", "--pairs", "uci-digits->uci-digits-rotated",
        "--settings", "few-shot,supervised", "--seeds", "0,1", "--steps", "60", "--source-steps", "60",
        "--eval-points", "3"]


def test_kill_9_mid_grid_loses_and_duplicates_nothing(tmp_path):
    results = tmp_path / "results"
    env = {**os.environ, "COLUMNS": "120"}
    process = subprocess.Popen([sys.executable, "-m", "tlarena", *GRID, "--results", str(results)],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while len(list(results.glob("*.json"))) < 3 and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = {p.name: p.read_text() for p in results.glob("*.json")}
    assert 3 <= len(before) < 12, "the kill should land mid-grid"

    finished = subprocess.run([sys.executable, "-m", "tlarena", *GRID, "--results", str(results)],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)

    records, problems = read_records(results)
    files = sorted(p.name for p in results.iterdir())
    assert finished.returncode == 0, finished.stderr
    assert problems == [] and len(records) == 12 and len({r.key for r in records}) == 12
    assert files == sorted(f"{r.key}.json" for r in records), "no temporary or stray files remain"
    assert all((results / name).read_text() == text for name, text in before.items())
    assert all(json.loads(text)["status"] == "ok" for text in before.values())
