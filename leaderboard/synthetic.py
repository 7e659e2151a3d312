"""Synthetic run records for the leaderboard's tests and benchmark: real ``RunRecord`` files with
plausible, seeded numbers, written through ``tlarena.records`` like the runner's."""
from __future__ import annotations

import random
from pathlib import Path

from tlarena.metrics import CurvePoint
from tlarena.records import Cost, Environment, Metrics, RunRecord, Validation, write_record
from tlarena.spec import Budget, RunSpec

HARDWARE = Environment("0.1.0", "2.4", "1.0", "3.0", "3.11", "Linux", "cpu", "AMD EPYC (2 cores)",
                       None, None)


def record(method: str = "fine-tune", pair: str = "a->b", seed: int = 0, top1: float = 0.8,
           setting: str = "few-shot", status: str = "ok", reason: str | None = None,
           traceback: str | None = None, backbone: str = "lenet", steps: int = 200,
           flops: float = 1e9, seconds: float = 2.0) -> RunRecord:
    """One record; ``status`` other than ok gives a record with only its reason (and traceback)."""
    spec = RunSpec(method, pair, backbone, "none", setting, seed, Budget(steps=steps), (("lr", 0.01),))
    if status != "ok":
        return RunRecord(spec, status, reason=reason or f"{status} on purpose", traceback=traceback)
    curve = [CurvePoint(step, step * 32, seconds * step / steps, flops * step / steps,
                        top1 * (0.3 + 0.7 * step / steps), top1) for step in (0, steps // 2, steps)]
    return RunRecord(spec, "ok", metrics=Metrics(top1, top1, steps // 2, steps * 16, seconds / 2,
                                                 flops / 2, top1 * 0.8),
                     validation=Validation(top1, top1, 0.1, 0.2), curve=curve,
                     cost=Cost(seconds, 0.5, 100.0, flops, flops / 10, 2**20, "process_rss", 1000,
                               5000, steps, steps * 32),
                     environment=HARDWARE)


def grid(methods: int, pairs: int, seeds: int, settings: tuple[str, ...] = ("few-shot",),
         seed: int = 0) -> list[RunRecord]:
    """methods × pairs × settings × seeds records whose accuracy depends on method and pair."""
    draw = random.Random(seed)
    return [record(f"method-{m}", f"source-{p}->target-{p}", s,
                   top1=min(0.99, 0.4 + 0.03 * m + 0.01 * p + draw.gauss(0, 0.02)),
                   setting=setting, flops=1e9 * (1 + m), seconds=1.0 + m)
            for setting in settings for m in range(methods) for p in range(pairs) for s in range(seeds)]


def write(results: Path, records: list[RunRecord]) -> Path:
    for one in records:
        write_record(results, one)
    return results
