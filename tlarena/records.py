"""Run records: one JSON file per run, named by its spec's key, written atomically.

A record is typed: each block is a dataclass, so readers (``tlarena show``, the leaderboard) read
fields, not string keys. ``SCHEMA`` versions the file layout; the spec carries the protocol version
(``tlarena.protocol``) that decides what its numbers mean.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

from tlarena.claims import pid_alive
from tlarena.metrics import CurvePoint
from tlarena.protocol import PROTOCOL
from tlarena.spec import RunSpec

if TYPE_CHECKING:   # pandas is imported by the readers that build a frame, not by the grid's loop
    import pandas as pd

SCHEMA = 2
STATUSES = ("ok", "failed", "diverged", "timed-out", "n/a")


@dataclass(frozen=True)
class Metrics:
    """Accuracy on the target test split at the end of the budget, and convergence."""

    top1: float
    mean_class_acc: float
    steps_to_95: int
    samples_to_95: int
    seconds_to_95: float
    flops_to_95: float
    auc: float


@dataclass(frozen=True)
class Validation:
    """Each selection rule's score at the end of the budget (None where the rule does not apply)."""

    source_val_top1: float | None = None   # held-out labeled source
    target_val_top1: float | None = None   # held-out part of the target labels the setting reveals
    im: float | None = None                # information maximization on unlabeled target images
    snd: float | None = None               # soft neighborhood density on unlabeled target images


@dataclass(frozen=True)
class Cost:
    """The method's own cost; the shared source model's is in ``SharedCost``."""

    train_seconds: float
    eval_seconds: float
    throughput: float | None
    train_flops: float
    eval_flops: float
    peak_memory_bytes: int
    peak_memory_kind: str
    trainable_params: int
    total_params: int
    steps: int
    samples: int


@dataclass(frozen=True)
class SharedCost:
    """The shared source model: trained once, its accuracy measured on this record's source parts."""

    source: str
    source_test_top1: float
    source_val_top1: float
    train_seconds: float
    train_flops: float
    steps: int
    peak_memory_bytes: int
    device: str


@dataclass(frozen=True)
class DataPart:
    """One part of the data a run used: which side, which part, how many rows, the decoded data's
    fingerprint (the same rows decoded the same way give the same fingerprint)."""

    side: str        # source | target
    part: str        # fit | val | unlabeled | labeled | test
    rows: int
    fingerprint: str


@dataclass(frozen=True)
class Origins:
    """The plugin (and distribution, with its version) that registered each named thing."""

    method: str
    pair: str
    backbone: str


@dataclass(frozen=True)
class Environment:
    tlarena: str | None
    torch: str
    timm: str | None
    datasets: str | None
    python: str
    platform: str
    device: str
    device_name: str
    git_sha: str | None
    git_dirty: bool | None


@dataclass
class RunRecord:
    spec: RunSpec
    status: str                                   # one of STATUSES
    reason: str | None = None                     # why failed / diverged / n/a
    traceback: str | None = None
    metrics: Metrics | None = None
    validation: Validation | None = None
    curve: list[CurvePoint] = field(default_factory=list)
    cost: Cost | None = None
    shared_cost: SharedCost | None = None
    data: list[DataPart] = field(default_factory=list)
    origins: Origins | None = None
    environment: Environment | None = None
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
        if not isinstance(data, dict):
            raise TypeError(f"a record is a JSON object, not {type(data).__name__}")
        blocks = {"metrics": Metrics, "validation": Validation, "cost": Cost,
                  "shared_cost": SharedCost, "origins": Origins, "environment": Environment}
        values = {k: v for k, v in data.items() if k not in ("schema", "key")}
        values["spec"] = RunSpec.from_dict(values["spec"])
        for name, block in blocks.items():
            if values.get(name) is not None:
                values[name] = _typed(block, values[name])
        values["curve"] = [_typed(CurvePoint, point) for point in values.get("curve", [])]
        values["data"] = [_typed(DataPart, part) for part in values.get("data", [])]
        return cls(**values)


def _typed(block, values: dict):
    known = {f.name for f in fields(block)}
    unknown = set(values) - known
    if unknown:
        raise KeyError(f"{block.__name__} has no field {', '.join(sorted(unknown))}")
    return block(**values)


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


def read_records(results: Path, protocol: int | None = PROTOCOL) -> tuple[list[RunRecord], list[str]]:
    """The readable records of ``protocol`` (of every protocol with ``None``) under ``results``,
    and notes: one line per corrupt file (named, skipped), one per other protocol or schema."""
    records, notes, _ = _scan(results, protocol)
    return records, notes


def _scan(results: Path, protocol: int | None = PROTOCOL) -> tuple[list[RunRecord], list[str], set[str]]:
    """``read_records``, and the keys of records a newer tlarena wrote: every file parsed once
    (a grid's start asks for both, and a results folder may hold 100,000 records)."""
    records, notes, others, newer = [], [], Counter(), set()
    for path in sorted(Path(results).glob("*.json")):
        try:
            data = json.loads(path.read_text())
            schema = data.get("schema") if isinstance(data, dict) else None
            if isinstance(schema, int) and schema != SCHEMA:
                others["an older schema" if schema < SCHEMA else "a newer schema (a newer tlarena)"] += 1
                if schema > SCHEMA:
                    newer.add(path.stem)
                continue
            record = RunRecord.from_dict(data)
        except (ValueError, KeyError, TypeError, AttributeError, OSError) as error:
            notes.append(f"skipped corrupt record {path}: {type(error).__name__}: {error}")
            continue
        if protocol is not None and record.spec.protocol != protocol:
            others[f"protocol {record.spec.protocol}"] += 1
            continue
        records.append(record)
    for what, count in sorted(others.items()):
        notes.append(f"{count} records of {what} in {results} are not mixed with protocol "
                     f"{PROTOCOL}'s; `tlarena run --rerun` with the same options regenerates them")
    return records, notes, newer


@dataclass
class Recorded:
    """What a results folder holds, read once: its records of this protocol, and the keys of those
    a newer tlarena wrote."""

    records: list[RunRecord]
    newer: set[str]

    def finished(self, retried: tuple[str, ...] = ()) -> set[str]:
        """The keys whose runs are done: every record but those whose status is in ``retried``,
        and every record of a newer schema (an older tlarena never overwrites what it cannot read)."""
        return {r.key for r in self.records if r.status not in retried} | self.newer


def recorded(results: Path) -> Recorded:
    """``results``' records, every file parsed once; nothing when there is no such folder."""
    if not Path(results).is_dir():
        return Recorded([], set())
    records, _, newer = _scan(results)
    return Recorded(records, newer)


def recorded_keys(results: Path) -> set[str]:
    """Keys with a readable record; a corrupt file does not count, so its run is done again. A
    record of a newer schema counts as done: an older tlarena never overwrites what it cannot read."""
    return finished_keys(results)


def finished_keys(results: Path, retried: tuple[str, ...] = ()) -> set[str]:
    """``recorded_keys`` less the records whose status is in ``retried``: their runs are done again."""
    return recorded(results).finished(retried)


def newer_schema_keys(results: Path) -> set[str]:
    """Keys whose record a newer tlarena wrote: never overwritten, not even by ``--rerun``."""
    keys = set()
    for path in Path(results).glob("*.json"):
        try:
            data = json.loads(path.read_text())
        except (ValueError, OSError):
            continue
        if isinstance(data, dict) and isinstance(data.get("schema"), int) and data["schema"] > SCHEMA:
            keys.add(path.stem)
    return keys


def clean_temporaries(results: Path) -> None:
    """Remove temporary files that killed processes left behind (they were never records)."""
    for tmp in Path(results).glob(".*.tmp"):
        pid = tmp.name.split(".")[-2]
        if pid.isdigit() and not pid_alive(int(pid)):
            tmp.unlink(missing_ok=True)


def records_frame(records: list[RunRecord]) -> pd.DataFrame:
    """One row per run: every spec field (the cell is all of them but the seed), status, metrics,
    selection scores and costs."""
    import pandas as pd

    rows = []
    for r in records:
        spec = r.spec
        row = {"key": r.key, "cell": spec.cell, "method": spec.method, "pair": spec.pair,
               "backbone": spec.backbone, "weights": spec.weights, "setting": spec.setting,
               "evaluation": spec.evaluation, "seed": spec.seed, **asdict(spec.budget),
               "hparams": json.dumps(dict(spec.hparams), sort_keys=True),
               "hparams_seed": spec.hparams_seed,
               "data": json.dumps({"source": spec.source, "target": spec.target}, sort_keys=True),
               "protocol": spec.protocol, "status": r.status, "reason": r.reason}
        for block in (r.metrics, r.validation):
            if block is not None:
                row.update(asdict(block))
        if r.cost is not None:   # its steps are those taken (0 for a method that does not train)
            row.update({("trained_" + k if k in ("steps", "samples") else k): v
                        for k, v in asdict(r.cost).items()})
        if r.shared_cost is not None:
            row.update({f"shared_{k}": v for k, v in asdict(r.shared_cost).items()})
        if r.environment is not None:
            row["device_name"] = r.environment.device_name
        rows.append(row)
    return pd.DataFrame(rows)


def load_results(results: Path) -> tuple[pd.DataFrame, list[str]]:
    records, notes = read_records(results)
    return records_frame(records), notes
