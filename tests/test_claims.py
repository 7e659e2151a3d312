"""Claims: several processes on one grid run each run once, and build each shared thing once."""
import json
import os
import subprocess
import sys
import time
from collections import Counter

from conftest import PLUGIN_FIXTURES, ROOT

from tlarena import claims
from tlarena.executors import ELSEWHERE, run_grid
from tlarena.records import SCHEMA, RunRecord, read_records, record_path, write_record
from tlarena.spec import RunSpec


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _foreign(path, host, pid, heartbeat):
    path.write_text(json.dumps({"host": host, "pid": pid, "token": "theirs", "heartbeat": heartbeat}))


def test_a_live_claim_is_skipped_and_released_claims_are_gone(tmp_path):
    path = tmp_path / ".a.claim"
    mine = claims.take(path)
    assert mine is not None and claims.take(path) is None
    mine.release()
    assert not path.exists()
    assert claims.take(path) is not None


def test_stale_claims_are_taken_over_live_ones_of_other_hosts_are_not(tmp_path):
    dead = tmp_path / ".dead.claim"
    _foreign(dead, claims.HOST, _dead_pid(), time.time())
    assert claims.take(dead) is not None, "a dead pid on this host: stale at once"
    silent = tmp_path / ".silent.claim"
    _foreign(silent, "another-host", 1, time.time() - claims.STALE - 1)
    assert claims.take(silent) is not None, "no heartbeat for longer than STALE: stale"
    alive = tmp_path / ".alive.claim"
    _foreign(alive, "another-host", 1, time.time())
    assert claims.take(alive) is None, "another host's pid cannot be checked: its heartbeat decides"


def test_the_heartbeat_keeps_a_claim_fresh(tmp_path, monkeypatch):
    monkeypatch.setattr(claims, "HEARTBEAT", 0.05)
    monkeypatch.setattr(claims, "_heart", None)   # a thread with the short beat
    claim = claims.take(tmp_path / ".a.claim")
    first = claims.read(claim.path).heartbeat
    time.sleep(0.5)
    assert claims.read(claim.path).heartbeat > first
    claim.release()


class _Recorder:
    """An executor that records every started spec as n/a, at once."""

    def __init__(self, before_start=None):
        self.ran, self.before_start = [], before_start or (lambda spec: None)

    def results(self, specs, start):
        for spec in specs:
            self.before_start(spec)
            if start(spec):
                self.ran.append(spec.key)
                yield spec, RunRecord(spec, "n/a", "test"), []

    def close(self):
        pass


def _specs(n):
    return [RunSpec(method="fine-tune", pair="a->b", backbone="lenet", weights="none", setting="supervised", seed=seed) for seed in range(n)]


def test_run_grid_skips_runs_claimed_elsewhere_and_takes_over_dead_ones(tmp_path):
    live, dead, free = _specs(3)
    held = claims.take(claims.claim_path(record_path(tmp_path, live.key)))   # another live holder
    _foreign(claims.claim_path(record_path(tmp_path, dead.key)), claims.HOST, _dead_pid(), time.time())
    progress = []
    executor = _Recorder()
    run_grid([live, dead, free], executor, tmp_path, progress=lambda spec, status: progress.append(status))
    assert executor.ran == [dead.key, free.key]
    assert sorted(progress) == sorted([ELSEWHERE, "n/a", "n/a"])
    held.release()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{s.key}.json" for s in (dead, free))


def test_a_run_recorded_by_another_process_meanwhile_is_not_run_again_even_with_rerun(tmp_path):
    first, second = _specs(2)
    write_record(tmp_path, RunRecord(second, "ok"))
    time.sleep(0.01)

    def other_process_records(spec):
        if spec is first:   # while this grid runs its first spec, another process records the second
            write_record(tmp_path, RunRecord(second, "failed", "elsewhere"))

    executor = _Recorder(other_process_records)
    run_grid([first, second], executor, tmp_path, rerun=True)
    assert executor.ran == [first.key]
    statuses = {r.key: r.status for r in read_records(tmp_path)[0]}
    assert statuses == {first.key: "n/a", second.key: "failed"}


def test_a_grid_starts_by_removing_what_killed_builders_left_in_the_cache(tmp_path, monkeypatch):
    # Regression: a process killed while it wrote a source model, a decoded split or a built
    # dataset left its temporary (and a claim caught between save and release) in the cache forever.
    cache = tmp_path / "cache"
    monkeypatch.setenv("TLARENA_CACHE", str(cache))
    models, data = cache / "source-models", cache / "datasets"
    dead, held = _dead_pid(), claims.take(models / ".building.safetensors.claim")
    orphans = [models / f".abc.safetensors.{dead}", models / f".abc.json.{dead}"]
    _foreign(models / ".done.safetensors.claim", claims.HOST, dead, time.time())
    kept = [models / f".mine.safetensors.{os.getpid()}", models / "abc.json", models / f".building.safetensors.{dead}"]
    for path in orphans + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    (data / f"digits-v1.tmp-{dead}" / "train").mkdir(parents=True)

    run_grid([], _Recorder(), tmp_path / "results")
    held.release()

    left = sorted(p.name for p in cache.rglob("*"))
    assert left == sorted(["datasets", "source-models", *(p.name for p in kept)])


def test_rerun_never_overwrites_a_record_of_a_newer_schema(tmp_path):
    # Regression: --rerun ran every spec again, over what a newer tlarena had recorded.
    newer, older = _specs(2)
    text = json.dumps({"schema": SCHEMA + 1, "key": newer.key, "what": "a newer layout"})
    record_path(tmp_path, newer.key).write_text(text)
    executor = _Recorder()
    run_grid([newer, older], executor, tmp_path, rerun=True)
    assert executor.ran == [older.key] and record_path(tmp_path, newer.key).read_text() == text


GRID = ["--plugin", "counting", "run", "--methods", "fine-tune,linear-probe,scratch",
        "--pairs", "uci-digits->uci-digits-rotated", "--settings", "supervised,few-shot", "--seeds", "0",
        "--steps", "10", "--source-steps", "20", "--eval-points", "2"]


def test_two_processes_on_one_grid_run_each_run_and_the_source_model_once(tmp_path):
    results, log = tmp_path / "results", tmp_path / "counting.log"
    env = {**os.environ, "COLUMNS": "200", "COUNTING_LOG": str(log), "PYTHONPATH": str(PLUGIN_FIXTURES),
           "TLARENA_CACHE": str(tmp_path / "cache")}   # a cold cache: the source model is built here
    processes = [subprocess.Popen([sys.executable, "-m", "tlarena", *GRID, "--results", str(results)],
                                  cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    outputs = [p.communicate(timeout=600) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs

    events = Counter(tuple(line.split()[:2]) for line in log.read_text().splitlines())
    records, problems = read_records(results)
    assert problems == [] and len(records) == 6 and all(r.status == "ok" for r in records)
    assert {key for kind, key in events if kind == "run"} == {r.key for r in records}
    assert all(count == 1 for count in events.values()), events
    assert sum(kind == "source" for kind, _ in events) == 1
    pids = {line.split()[2] for line in log.read_text().splitlines() if line.startswith("run")}
    assert len(pids) == 2, "both processes ran some of the grid"
    assert sorted(p.name for p in results.iterdir()) == sorted(f"{r.key}.json" for r in records)
    assert not list((tmp_path / "cache").rglob("*.claim*")), "no claim is left behind"
