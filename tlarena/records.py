"""Run records: one JSON file per run, named by its spec's key, written atomically."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from tlarena.spec import RunSpec

SCHEMA = 1
STATUSES = ("ok", "failed", "diverged", "n/a")


@dataclass
class RunRecord:
    spec: RunSpec
    status: str                                   # one of STATUSES
    reason: str | None = None                     # why failed / diverged / n/a
    traceback: str | None = None
    metrics: dict = field(default_factory=dict)   # top1, mean_class_acc, convergence
    curve: list[dict] = field(default_factory=list)
    cost: dict = field(default_factory=dict)      # this method's own cost
    shared_cost: dict | None = None               # the shared source model's cost, shown apart
    environment: dict = field(default_factory=dict)
    started_at: str | None = None
    finished_at: str | None = None

    @property
    def key(self) -> str:
        return self.spec.key

    def to_dict(self) -> dict:
        data = asdict(self)
        data["spec"] = self.spec.to_dict()
        return {"schema": SCHEMA, "key": self.key, **data}

    @classmethod
    def from_dict(cls, data: dict) -> "RunRecord":
        fields = {k: v for k, v in data.items() if k not in ("schema", "key")}
        fields["spec"] = RunSpec.from_dict(fields["spec"])
        return cls(**fields)


def record_path(results: Path, key: str) -> Path:
    return results / f"{key}.json"


def write_record(results: Path, record: RunRecord) -> Path:
    """Write via a temporary file and rename, so a kill never leaves a half-written record."""
    results.mkdir(parents=True, exist_ok=True)
    path = record_path(results, record.key)
    tmp = results / f".{record.key}.{os.getpid()}.tmp"
    with open(tmp, "w") as handle:
        json.dump(record.to_dict(), handle, indent=1, allow_nan=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def read_records(results: Path) -> tuple[list[RunRecord], list[str]]:
    """Every readable record under ``results``, and one line per corrupt file (named, skipped)."""
    records, problems = [], []
    for path in sorted(Path(results).glob("*.json")):
        try:
            records.append(RunRecord.from_dict(json.loads(path.read_text())))
        except (ValueError, KeyError, TypeError) as error:
            problems.append(f"skipped corrupt record {path}: {type(error).__name__}: {error}")
    return records, problems


def recorded_keys(results: Path) -> set[str]:
    """Keys with a readable record; a corrupt file does not count, so its run is done again."""
    records, _ = read_records(results)
    return {r.key for r in records}


def clean_temporaries(results: Path) -> None:
    """Remove temporary files that killed processes left behind (they were never records)."""
    for tmp in Path(results).glob(".*.tmp"):
        pid = tmp.name.split(".")[-2]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def records_frame(records: list[RunRecord]) -> pd.DataFrame:
    """One row per run: the spec, the status, the headline metrics and costs."""
    rows = []
    for r in records:
        row = {"key": r.key, **{k: v for k, v in r.spec.to_dict().items() if k not in ("budget", "hparams")},
               "steps": r.spec.budget.steps, "status": r.status, "reason": r.reason}
        row.update(r.metrics)
        row.update(r.cost)
        if r.shared_cost:
            row.update({f"shared_{k}": v for k, v in r.shared_cost.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def load_results(results: Path) -> tuple[pd.DataFrame, list[str]]:
    records, problems = read_records(results)
    return records_frame(records), problems
