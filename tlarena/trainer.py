"""The one trainer: every method runs through this loop, budget, clock and evaluation schedule."""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np
import torch

from tlarena.data import BatchStream, SplitTensors
from tlarena.measure import Clock, PeakMemory, count_flops
from tlarena.methods import Batch, TransferMethod
from tlarena.metrics import CurvePoint, mean_class_accuracy, top1

EVAL_BATCH = 512
CLIP_NORM = 5.0


class Diverged(RuntimeError):
    """The loss became non-finite."""


@dataclass
class Streams:
    """The training streams a (method, setting) gets; a stream the method may not see is None."""

    source: BatchStream | None = None
    target: BatchStream | None = None
    unlabeled: BatchStream | None = None


@dataclass
class Normalizer:
    """uint8 images → float, scaled by the backbone's mean and std."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    device: torch.device

    def __post_init__(self):
        shape = (1, len(self.mean), 1, 1)
        self._mean = torch.tensor(self.mean, device=self.device).view(shape) * 255
        self._std = torch.tensor(self.std, device=self.device).view(shape) * 255
        self._channels_last = self.device.type == "cuda"

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        x = (images.float() - self._mean) / self._std
        return x.contiguous(memory_format=torch.channels_last) if self._channels_last else x


@dataclass
class TrainOutcome:
    curve: list[CurvePoint]
    steps: int
    samples: int
    train_seconds: float
    eval_seconds: float
    train_flops: float
    eval_flops: float
    peak_memory_bytes: int
    peak_memory_kind: str
    diverged_at: int | None = None


def eval_schedule(steps: int, points: int) -> list[int]:
    """Evaluation steps: 0, then ``points`` evenly spaced up to ``steps`` (always included)."""
    return sorted({round(steps * i / points) for i in range(points + 1)}) if steps else [0]


def lr_factor(step: int, steps: int) -> float:
    """The same schedule for every method: linear warm-up over the first 10 %, then cosine to zero.

    The warm-up keeps large rates on randomly initialized networks from collapsing in the first steps.
    """
    warmup = max(1, steps // 10)
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * min(step - warmup, steps - warmup) / max(steps - warmup, 1)))


class Trainer:
    def __init__(self, device: torch.device, normalizer: Normalizer, amp: bool = True):
        self.device = device
        self.normalize = normalizer
        self.clock = Clock(device)
        self.autocast_dtype = None
        if amp and device.type == "cuda":
            self.autocast_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        self._eval_flops: dict[tuple, int] = {}   # per input shape, counted once per fit
        self._last_eval_flops = 0

    def _autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=self.autocast_dtype)

    def fit(self, method: TransferMethod, streams: Streams, steps: int, eval_points: int,
            test: SplitTensors) -> TrainOutcome:
        """Train ``method`` for ``steps`` optimizer steps, evaluating on ``test`` on a fixed schedule."""
        try:
            return self._fit(method, streams, steps, eval_points, test)
        finally:
            for stream in (streams.source, streams.target, streams.unlabeled):
                if stream is not None:
                    stream.close()

    def _fit(self, method, streams, steps, eval_points, test) -> TrainOutcome:
        self._eval_flops.clear()
        method.to(self.device)
        if self.device.type == "cuda":
            method.to(memory_format=torch.channels_last)
        schedule = set(eval_schedule(steps if method.trains else 0, eval_points))
        optimizer, scheduler, scaler = self._optimizer(method, steps) if method.trains else (None,) * 3
        samples_per_step = sum(s.batch_size for s in (streams.source, streams.target, streams.unlabeled) if s)
        curve: list[CurvePoint] = []
        train_seconds = eval_seconds = 0.0
        flops_per_step = 0
        loss_sum = torch.zeros((), device=self.device)
        # The clock reads once per stretch of steps between evaluations, not per step: reading it
        # waits for the GPU, which would keep the next step from being queued while one runs.
        stretch_started = None
        with PeakMemory(self.device) as memory:
            for step in range(steps + 1 if method.trains else 1):
                if step > 0:
                    if stretch_started is None:
                        stretch_started = self.clock.now()
                    if step == 1:
                        loss, flops_per_step = count_flops(
                            lambda: self._step(method, streams, optimizer, scheduler, scaler))
                    else:
                        loss = self._step(method, streams, optimizer, scheduler, scaler)
                    loss_sum += loss
                if step in schedule:
                    if stretch_started is not None:
                        train_seconds += self.clock.now() - stretch_started
                        stretch_started = None
                    if not torch.isfinite(loss_sum):
                        return self._outcome(curve, step, samples_per_step, train_seconds, eval_seconds,
                                             flops_per_step, memory, diverged_at=step)
                    started = self.clock.now()
                    accuracy, class_accuracy = self.evaluate(method, test)
                    eval_seconds += self.clock.now() - started
                    curve.append(CurvePoint(step, step * samples_per_step, train_seconds,
                                            float(step * flops_per_step), accuracy, class_accuracy))
        last = steps if method.trains else 0
        return self._outcome(curve, last, samples_per_step, train_seconds, eval_seconds,
                             flops_per_step, memory)

    def _outcome(self, curve, steps, samples_per_step, train_seconds, eval_seconds, flops_per_step,
                 memory, diverged_at=None) -> TrainOutcome:
        evaluations = len(curve)
        return TrainOutcome(curve, steps, steps * samples_per_step, train_seconds, eval_seconds,
                            float(steps * flops_per_step), float(evaluations * self._last_eval_flops),
                            memory.peak, memory.kind, diverged_at)

    def _optimizer(self, method: TransferMethod, steps: int):
        hp = method.hp
        groups = []
        for group in method.parameter_groups():
            group = dict(group)
            group["lr"] = hp["lr"] * group.pop("lr_scale", 1.0)
            groups.append(group)
        optimizer = torch.optim.SGD(groups, lr=hp["lr"], momentum=hp.get("momentum", 0.9),
                                    weight_decay=hp.get("weight_decay", 0.0), nesterov=True)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, steps))
        scaler = torch.amp.GradScaler("cuda") if self.autocast_dtype == torch.float16 else None
        return optimizer, scheduler, scaler

    def _batch(self, streams: Streams) -> Batch:
        def labeled(stream):
            if stream is None:
                return None
            images, labels = stream.next()
            return self.normalize(images), labels

        unlabeled = self.normalize(streams.unlabeled.next()[0]) if streams.unlabeled else None
        return Batch(labeled(streams.source), labeled(streams.target), unlabeled)

    def _step(self, method, streams, optimizer, scheduler, scaler) -> torch.Tensor:
        method.train()
        batch = self._batch(streams)
        with self._autocast():
            loss = method.training_step(batch)
        optimizer.zero_grad(set_to_none=True)
        if scaler is None:
            loss.backward()
            self._clip(optimizer)
            optimizer.step()
        else:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            self._clip(optimizer)
            scaler.step(optimizer)
            scaler.update()
        scheduler.step()
        return loss.detach().float()

    @staticmethod
    def _clip(optimizer) -> None:
        """Clip the global gradient norm: one spike must not wreck a run at a large learning rate."""
        params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        torch.nn.utils.clip_grad_norm_(params, CLIP_NORM, foreach=True)

    @torch.no_grad()
    def evaluate(self, method: TransferMethod, test: SplitTensors) -> tuple[float, float]:
        """(top-1, mean per-class accuracy) of ``method`` on ``test``; NaN for an empty part (a
        validation part of a class with one image)."""
        self._last_eval_flops = 0
        if not len(test):
            return float("nan"), float("nan")
        predictions = [self._logits(method, test.images[start:start + EVAL_BATCH]).argmax(1).cpu()
                       for start in range(0, len(test), EVAL_BATCH)]
        predicted = torch.cat(predictions).numpy()
        return top1(predicted, test.labels), mean_class_accuracy(predicted, test.labels)

    @torch.no_grad()
    def probabilities(self, method: TransferMethod, split: SplitTensors, rows: np.ndarray) -> torch.Tensor:
        """Softmax predictions of ``method`` on ``rows`` of ``split`` (for unsupervised validators)."""
        return torch.cat([self._logits(method, split.images[rows[start:start + EVAL_BATCH]]).float()
                          .softmax(1).cpu() for start in range(0, len(rows), EVAL_BATCH)])

    def _logits(self, method: TransferMethod, images) -> torch.Tensor:
        """Logits of one evaluation batch of uint8 images; FLOPs counted once per input shape."""
        method.eval()
        x = self.normalize(torch.from_numpy(np.asarray(images)).to(self.device))
        with self._autocast():
            if x.shape not in self._eval_flops:
                logits, self._eval_flops[x.shape] = count_flops(lambda: method.predict(x))
            else:
                logits = method.predict(x)
        self._last_eval_flops += self._eval_flops[x.shape]
        return logits
