"""`kill -9` in the middle of a grid, then the same grid again: nothing lost, duplicated or corrupt."""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

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


KILLS = 4   # rounds: each ~10-30 s on 2 busy cores, so the test stays near 2 minutes


def test_kill_9_of_workers_and_parent_at_random_moments_loses_and_duplicates_nothing(tmp_path):
    # Each round kills, at a random moment, one worker process (its run is recorded failed and
    # tried again) or the parent (its workers stop with it; its claims go stale).
    results, chance = tmp_path / "results", random.Random(0)
    env = {**os.environ, "COLUMNS": "120"}
    command = [sys.executable, "-m", "tlarena", *GRID, "--results", str(results), "--workers", "2"]
    for round in range(KILLS):
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(chance.uniform(4, 12))
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

    before = {p.name: p.read_text() for p in results.glob("*.json")
              if json.loads(p.read_text())["status"] == "ok"}
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)

    records, problems = read_records(results)
    files = sorted(p.name for p in results.iterdir())
    assert finished.returncode == 0, finished.stderr
    assert problems == [] and len(records) == 12 and all(r.status == "ok" for r in records)
    assert files == sorted(f"{r.key}.json" for r in records), "no temporary, claim or stray file remains"
    assert all((results / name).read_text() == text for name, text in before.items()), \
        "no finished run was run again"
