"""The one trainer: every method runs through this loop, budget, clock and evaluation schedule."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch

from tlarena import phases
from tlarena.data import BatchStream, SplitTensors
from tlarena.measure import Clock, PeakMemory, count_flops
from tlarena.methods import (STREAM_FLAGS, Batch, Progress, SourceImages, TargetImages, TransferMethod, check_loss,
                             has_phase)
from tlarena.metrics import CurvePoint, mean_class_accuracy, top1
from tlarena.optimizers import OptimizerPlan, build_optimizers, stepped_parameters

EVAL_BATCH = 512
CLIP_NORM = 5.0


def channels_last(device: torch.device) -> bool:
    """Whether images and weights go channels-last: faster convolutions with cuDNN and with oneDNN
    on the CPU (LeNet: a training step 1.5x, evaluation 2x; resnet18 about 1.1x)."""
    return device.type in ("cuda", "cpu")


def _lay_out(module: torch.nn.Module, layout: torch.memory_format) -> None:
    """Lay out ``module``'s 4-d tensors in ``layout``, tensor by tensor: ``Module.to(memory_format=...)``
    refuses a model with any 5-d tensor."""
    for tensor in (*module.parameters(), *module.buffers()):
        if tensor.dim() == 4:
            tensor.data = tensor.data.contiguous(memory_format=layout)


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
        self.channels_last = channels_last(self.device)   # off for a network that cannot run so

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        x = (images.float() - self._mean) / self._std
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x


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
    trainable_params: int = 0          # what the optimizers really step
    diverged_at: int | None = None


def _phase_due(step: int, every: int | None) -> bool:
    """Whether a phase runs before ``step``: before step 1, then every ``every`` steps (None: never)."""
    return every is not None and (step == 1 or (every > 0 and (step - 1) % every == 0))


def eval_schedule(steps: int, points: int) -> list[int]:
    """Evaluation steps: 0, then ``points`` evenly spaced up to ``steps`` (always included)."""
    return sorted({round(steps * i / points) for i in range(points + 1)}) if steps else [0]


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

    @property
    def _scaled(self) -> bool:
        """fp16 autocast needs a gradient scaler; bf16 and fp32 do not."""
        return self.autocast_dtype == torch.float16

    def _autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=self.autocast_dtype)

    def fit(self, method: TransferMethod, streams: Streams, steps: int, eval_points: int,
            test: SplitTensors, target: SplitTensors | None = None,
            source: SplitTensors | None = None) -> TrainOutcome:
        """Train ``method`` for ``steps`` optimizer steps, evaluating on ``test`` on a fixed schedule;
        ``target`` (the unlabeled target images, where the setting has them) is what phases see, and
        ``source`` (the labeled source images) what the phase of a ``phase_sees_source`` method sees."""
        try:
            return self._fit(method, streams, steps, eval_points, test, target, source)
        finally:
            for stream in (streams.source, streams.target, streams.unlabeled):
                if stream is not None:
                    stream.close()

    def _place(self, method: TransferMethod, probe: SplitTensors) -> None:
        self._eval_flops.clear()
        method.to(self.device)
        faster = channels_last(self.device)
        # A plugin's network that .view()s a feature map runs only in the default layout. One that
        # fails in both is not the layout's fault, and keeps the faster one: progressive-net's
        # target column refuses to run without its source column.
        if faster and not self._runs(method, probe, torch.channels_last):
            faster = not self._runs(method, probe, torch.contiguous_format)
        if faster:
            _lay_out(method, torch.channels_last)
        self.normalize.channels_last = faster

    @torch.no_grad()
    def _runs(self, method: TransferMethod, probe: SplitTensors, layout: torch.memory_format) -> bool:
        """Whether the network, laid out in ``layout``, runs on two of ``probe``'s images (in
        evaluation mode: no batch statistics move, no dropout draws)."""
        if not len(probe):
            return True
        _lay_out(method, layout)
        self.normalize.channels_last = layout == torch.channels_last
        training = method.training
        method.eval()
        try:
            method.network(self.normalize(torch.from_numpy(np.asarray(probe.images[:2])).to(self.device)))
            return True
        except RuntimeError:
            return False
        finally:
            method.train(training)

    def _fit(self, method, streams, steps, eval_points, test, target, source) -> TrainOutcome:
        self._place(method, test)
        schedule = set(eval_schedule(steps if method.trains else 0, eval_points))
        updates = build_optimizers(method, steps, self._scaled) if method.trains else []
        samples_per_step = sum(s.batch_size for s in (streams.source, streams.target, streams.unlabeled) if s)
        undeclared = frozenset(name for name, flag in STREAM_FLAGS.items() if not getattr(method, flag))
        phase_every = method.phase_every if has_phase(type(method)) and target is not None else None
        curve: list[CurvePoint] = []
        train_seconds = eval_seconds = 0.0
        flops_per_step = phase_flops = 0
        loss_sum = torch.zeros((), device=self.device)
        # The clock reads once per stretch of steps between evaluations, not per step: reading it
        # waits for the GPU, which would keep the next step from being queued while one runs.
        stretch_started = None
        with PeakMemory(self.device) as memory:
            for step in range(steps + 1 if method.trains else 1):
                if step > 0:
                    if stretch_started is None:
                        stretch_started = self.clock.now()
                    if _phase_due(step, phase_every):
                        phase_flops += self._phase(method, target, source)
                    method.progress = Progress(step, steps)
                    phases.step(step, steps)
                    if step == 1:
                        loss, flops_per_step = count_flops(
                            lambda: self._step(method, streams, updates, undeclared))
                    else:
                        loss = self._step(method, streams, updates, undeclared)
                    loss_sum += loss
                elif not method.trains and phase_every is not None:   # applied as it is, after its phase
                    started = self.clock.now()
                    phase_flops += self._phase(method, target, source)
                    train_seconds += self.clock.now() - started
                if step in schedule:
                    if stretch_started is not None:
                        train_seconds += self.clock.now() - stretch_started
                        stretch_started = None
                    if not torch.isfinite(loss_sum):
                        return self._outcome(curve, step, samples_per_step, train_seconds, eval_seconds,
                                             flops_per_step, phase_flops, memory, updates, diverged_at=step)
                    started = self.clock.now()
                    accuracy, class_accuracy = self.evaluate(method, test)
                    eval_seconds += self.clock.now() - started
                    curve.append(CurvePoint(step, step * samples_per_step, train_seconds,
                                            float(step * flops_per_step + phase_flops), accuracy, class_accuracy))
        last = steps if method.trains else 0
        return self._outcome(curve, last, samples_per_step, train_seconds, eval_seconds,
                             flops_per_step, phase_flops, memory, updates)

    def _outcome(self, curve, steps, samples_per_step, train_seconds, eval_seconds, flops_per_step,
                 phase_flops, memory, updates, diverged_at=None) -> TrainOutcome:
        evaluations = len(curve)
        return TrainOutcome(curve, steps, steps * samples_per_step, train_seconds, eval_seconds,
                            float(steps * flops_per_step + phase_flops),
                            float(evaluations * self._last_eval_flops), memory.peak, memory.kind,
                            stepped_parameters(updates), diverged_at)

    def _phase(self, method: TransferMethod, target: SplitTensors, source: SplitTensors | None) -> int:
        """Run the method's phase over the unlabeled target images (and the labeled source images,
        for a method with ``phase_sees_source``); its FLOPs."""
        def images(split: SplitTensors, start: int, size: int) -> torch.Tensor:
            return self.normalize(torch.from_numpy(np.asarray(split.images[start:start + size])).to(self.device))

        def target_batches(size: int):
            return (images(target, start, size) for start in range(0, len(target), size))

        def source_batches(size: int):
            return ((images(source, start, size), torch.from_numpy(source.labels[start:start + size]).to(self.device))
                    for start in range(0, len(source), size))

        arguments = [TargetImages(len(target), target_batches)]
        if method.phase_sees_source and source is not None:
            arguments.append(SourceImages(len(source), source_batches))
        with torch.no_grad(), self._autocast():
            _, flops = count_flops(lambda: method.phase(*arguments))
        return flops

    def _batch(self, method: TransferMethod, streams: Streams, undeclared: frozenset[str]) -> Batch:
        draws = {name: stream.draw() for name, stream in
                 (("source", streams.source), ("target", streams.target), ("unlabeled", streams.unlabeled))
                 if stream is not None}

        def labeled(name):
            draw = draws.get(name)
            return (self.normalize(draw.images), draw.labels) if draw is not None else None

        unlabeled = draws.get("unlabeled")
        views = {name: {view: self.normalize(images) for view, images in draw.views.items()}
                 for name, draw in draws.items() if draw.views}
        source_domains = draws["source"].domains if "source" in draws else None
        return Batch(labeled("source"), labeled("target"),
                     self.normalize(unlabeled.images) if unlabeled is not None else None,
                     source_domains=source_domains, views=views, method=method.name, undeclared=undeclared,
                     rows={name: draw.rows for name, draw in draws.items()})

    def _step(self, method, streams, updates, undeclared) -> torch.Tensor:
        method.train()
        batch = self._batch(method, streams, undeclared)
        total = torch.zeros((), device=self.device)
        for plan in updates:
            for _ in range(plan.update.repeat if plan.update else 1):
                with self._autocast():
                    loss = (method.training_step(batch, plan.update.name) if plan.update
                            else method.training_step(batch))
                check_loss(method, loss, plan.update.name if plan.update else None)
                method.zero_grad(set_to_none=True)
                self._descend(plan, loss)
                total += loss.detach().float()
            plan.scheduler.step()
        return total

    def _descend(self, plan: OptimizerPlan, loss: torch.Tensor) -> None:
        optimizer, scaler = plan.optimizer, plan.scaler
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

    def fit_online(self, method: TransferMethod, test: SplitTensors, batch_size: int,
                   seed: int) -> TrainOutcome:
        """The test-time setting: the method sees the test images once, in a seeded order, one batch
        at a time; each batch is scored on the logits ``adapt`` returns, then the optimizer steps on
        its loss (a constant rate: there is no horizon to schedule over). The curve has two points:
        the model as it came (step 0) and the online pass."""
        self._place(method, test)
        started = self.clock.now()
        before = self.evaluate(method, test)
        eval_seconds, eval_flops = self.clock.now() - started, self._last_eval_flops
        plan = build_optimizers(method, 0, self._scaled, schedule=False)[0]
        order = torch.randperm(len(test), generator=torch.Generator().manual_seed(seed)).numpy()
        predicted = np.empty(len(test), dtype=np.int64)
        flops: dict[tuple, int] = {}
        total_flops = 0
        started = self.clock.now()
        with PeakMemory(self.device) as memory:
            for start in range(0, len(test), batch_size):
                rows = np.sort(order[start:start + batch_size])
                x = self.normalize(torch.from_numpy(np.asarray(test.images[rows])).to(self.device))
                method.train()

                def adapt():
                    with self._autocast():
                        logits, loss = method.adapt(x)
                    check_loss(method, loss, None, "adapt")
                    method.zero_grad(set_to_none=True)
                    self._descend(plan, loss)
                    return logits

                if x.shape not in flops:
                    logits, flops[x.shape] = count_flops(adapt)
                else:
                    logits = adapt()
                total_flops += flops[x.shape]
                predicted[rows] = logits.detach().argmax(1).cpu().numpy()
        seconds = self.clock.now() - started
        batches = -(-len(test) // batch_size)
        curve = [CurvePoint(0, 0, 0.0, 0.0, *before),
                 CurvePoint(batches, len(test), seconds, float(total_flops),
                            top1(predicted, test.labels), mean_class_accuracy(predicted, test.labels))]
        return TrainOutcome(curve, batches, len(test), seconds, eval_seconds, float(total_flops),
                            float(eval_flops), memory.peak, memory.kind, stepped_parameters([plan]))

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
        phases.enter(phases.EVALUATING)
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
