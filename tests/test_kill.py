"""`kill -9` in the middle of a grid, then the same grid again: nothing lost, duplicated or corrupt."""
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import PLUGIN_FIXTURES, ROOT

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


def _descendants(pid: int) -> list[int]:
    """The processes under ``pid`` (the fork server and the workers it forked), from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


# Four rounds in the everyday test run (two of a worker, two of the parent); the acceptance run of
# ten: TLARENA_KILL_ROUNDS=10 pytest tests/test_kill.py (about five minutes on 2 idle cores).
KILLS = int(os.environ.get("TLARENA_KILL_ROUNDS", "4"))
# 12 short runs whose steps sleep (tests/plugin_fixtures/slow_steps.py): a kill lands mid-run
# without minutes of training, and the source models, decoded splits and claims of a real grid
# are all there to be cut short.
SLOW_GRID = ["--plugin", "slow_steps", "run", "--methods", "slow-fine-tune,slow-scratch", "--pairs",
             "uci-digits->uci-digits-rotated", "--settings", "few-shot,supervised", "--seeds", "0,1,2",
             "--steps", "40", "--source-steps", "40", "--eval-points", "2"]
# what a writer leaves if it dies before its rename: ".NAME.PID", ".NAME.PID.tmp", "NAME.tmp-PID", claims
LEFTOVER = re.compile(r"^\..*\.\d+(\.tmp)?$|\.tmp-\d+$|\.claim(\.takeover)?$")


def test_kill_9_of_workers_and_parent_at_random_moments_loses_and_duplicates_nothing(tmp_path):
    # Each round kills, at a random moment, one worker process (its run is recorded failed and
    # tried again) or the parent (its workers stop with it; its claims go stale).
    results, cache, chance = tmp_path / "results", tmp_path / "cache", random.Random(0)
    env = {**os.environ, "COLUMNS": "120", "TLARENA_CACHE": str(cache)}
    command = [sys.executable, "-m", "tlarena", *SLOW_GRID, "--results", str(results), "--workers", "2"]
    finished_ok: dict[str, str] = {}
    for round in range(KILLS):
        process = subprocess.Popen(command, cwd=PLUGIN_FIXTURES, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(chance.uniform(2, 9))
        workers = [pid for pid in _descendants(process.pid)
                   if b"forkserver" not in Path(f"/proc/{pid}/cmdline").read_bytes()] \
            if process.poll() is None else []
        victim = chance.choice(workers) if workers and round % 2 == 0 else process.pid
        os.kill(victim, signal.SIGKILL)
        if victim != process.pid:
            time.sleep(chance.uniform(1, 3))
            process.kill()
        process.wait()
        _, problems = read_records(results)
        assert problems == [], "no kill leaves a corrupt record"
        assert all((results / name).read_text() == text for name, text in finished_ok.items()), \
            "no finished run was run again"
        finished_ok.update(_ok_records(results))

    finished = subprocess.run(command, cwd=PLUGIN_FIXTURES, env=env, capture_output=True, text=True,
                              timeout=600)

    records, problems = read_records(results)
    files = sorted(p.name for p in results.iterdir())
    assert finished.returncode == 0, finished.stderr
    assert problems == [] and len(records) == 12 and all(r.status == "ok" for r in records)
    assert files == sorted(f"{r.key}.json" for r in records), "no temporary, claim or stray file remains"
    assert all((results / name).read_text() == text for name, text in finished_ok.items()), \
        "no finished run was run again"
    assert [p for p in cache.rglob("*") if LEFTOVER.search(p.name)] == [], \
        "no temporary file or claim is left in the cache"


def _ok_records(results: Path) -> dict[str, str]:
    texts = {p.name: p.read_text() for p in results.glob("*.json")}
    return {name: text for name, text in texts.items() if json.loads(text)["status"] == "ok"}
