"""RunSpec: everything that decides a run's outcome. Its key is a stable hash of its content."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

# Bump when the harness changes what a spec means (loop, schedule, data path): old keys stop matching.
PROTOCOL = 1


@dataclass(frozen=True)
class Budget:
    """Training budget in optimizer steps, shared by every method of a grid."""

    steps: int = 200            # the method's own steps on the target task
    source_steps: int = 500     # steps of the shared source model
    batch_size: int = 32        # per stream
    eval_points: int = 5        # evaluations on the target test split after step 0
    shots: int = 5              # labels per class in the few-shot setting


@dataclass(frozen=True)
class RunSpec:
    method: str
    pair: str
    backbone: str
    weights: str
    setting: str
    seed: int
    budget: Budget = field(default_factory=Budget)
    hparams: tuple[tuple[str, object], ...] = ()

    def to_dict(self) -> dict:
        data = asdict(self)
        data["hparams"] = dict(self.hparams)
        return data

    @property
    def key(self) -> str:
        canonical = json.dumps({"protocol": PROTOCOL, **self.to_dict()}, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:20]

    @classmethod
    def from_dict(cls, data: dict) -> "RunSpec":
        fields = dict(data)
        fields["budget"] = Budget(**fields["budget"])
        fields["hparams"] = tuple(sorted(fields.get("hparams", {}).items()))
        return cls(**fields)

    def label(self) -> str:
        return f"{self.method} · {self.pair} · {self.setting} · {self.backbone} · seed {self.seed}"
