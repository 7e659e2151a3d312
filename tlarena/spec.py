"""RunSpec: everything that decides a run's outcome. Its key is a stable hash of its content."""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict, dataclass, field

from tlarena.protocol import PROTOCOL


@dataclass(frozen=True)
class Budget:
    """Training budget in optimizer steps, shared by every method of a grid.

    ``source_steps`` is None for a method that does not start from the source model and ``shots``
    is None outside the few-shot setting: a field that cannot move a number stays out of the key,
    so such runs are one cell whatever the flag said.
    """

    steps: int = 200                 # the method's own steps on the target task
    source_steps: int | None = 500   # steps of the shared source model
    batch_size: int = 32             # per stream
    eval_points: int = 5             # evaluations on the target test split after step 0
    shots: int | None = 5            # labels per class in the few-shot setting (train + validation)


@dataclass(frozen=True)
class RunSpec:
    """One run. A leaderboard cell is every field but ``seed`` (the trial seed)."""

    method: str
    pair: str
    backbone: str
    weights: str
    setting: str
    seed: int
    budget: Budget = field(default_factory=Budget)
    hparams: tuple[tuple[str, object], ...] = ()
    hparams_seed: int = 0            # 0: the method's defaults; others: a seeded draw (DomainBed)
    evaluation: str = "test-split"   # which target images score the run: tlarena.partition.Evaluation
    source: dict = field(default_factory=dict, hash=False)   # data references: hub id, config,
    target: dict = field(default_factory=dict, hash=False)   # revision, split expressions, filter
    protocol: int = PROTOCOL

    def to_dict(self) -> dict:
        data = asdict(self)
        data["hparams"] = dict(self.hparams)
        return data

    @property
    def key(self) -> str:
        return self._digests[0]

    @property
    def cell(self) -> str:
        """The key of the spec's cell: everything but the trial seed."""
        return self._digests[1]

    @functools.cached_property
    def _digests(self) -> tuple[str, str]:
        # computed once per spec: `tlarena show` and the grid's loop ask thousands of specs for both
        data = self.to_dict()
        return _digest(data), _digest({k: v for k, v in data.items() if k != "seed"})

    @classmethod
    def from_dict(cls, data: dict) -> "RunSpec":
        fields = dict(data)
        fields["budget"] = Budget(**fields["budget"])
        fields["hparams"] = tuple(sorted(fields.get("hparams", {}).items()))
        return cls(**fields)

    def label(self) -> str:
        return f"{self.method} · {self.pair} · {self.setting} · {self.backbone} · seed {self.seed}"


def _digest(content: dict) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:20]
