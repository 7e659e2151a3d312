"""Batches for training: an endless, seeded stream of full batches over a decoded split."""
from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import torch

from tlarena.data.augment import Augment
from tlarena.data.tensors import SplitTensors


@dataclass
class Draw:
    """One batch of a stream: uint8 images (the pair's augmentation), labels, domains, named views,
    and the rows of the split they were drawn from (on the CPU)."""

    images: torch.Tensor
    labels: torch.Tensor
    domains: torch.Tensor | None
    views: dict[str, torch.Tensor]
    rows: torch.Tensor


class BatchStream:
    """An endless stream of full batches: one shuffled pass after another, seeded.

    Batches always have ``batch_size`` rows so that the shapes (and the FLOP count) never change.
    A memory-mapped split is read ahead by a background thread (the part DataLoader workers play),
    so disk reads overlap with training; call ``close()`` when done with it.
    """

    def __init__(self, split: SplitTensors, batch_size: int, seed: int, device: torch.device,
                 augment: Augment | None = None, read_ahead: int = 4,
                 views: Mapping[str, Augment | None] | None = None):
        memory_mapped = isinstance(split.images, np.memmap)
        self.images = None if memory_mapped else torch.from_numpy(split.images)
        self.split = split
        self.labels = torch.from_numpy(split.labels)
        self.domains = torch.from_numpy(split.domains) if split.domains is not None else None
        self.batch_size = batch_size
        self.device = device
        self.augment = augment
        self.views = dict(views or {})
        self._order_generator = torch.Generator().manual_seed(seed)
        self._augment_generator = torch.Generator().manual_seed(seed + 1_000_003)
        self._order = torch.empty(0, dtype=torch.long)
        self._ahead: queue.Queue | None = None
        if memory_mapped:
            self._ahead = queue.Queue(maxsize=read_ahead)
            self._closed = threading.Event()
            self._reader = threading.Thread(target=self._read_ahead, daemon=True)
            self._reader.start()

    def _next_indices(self) -> torch.Tensor:
        while len(self._order) < self.batch_size:
            fresh = torch.randperm(len(self.labels), generator=self._order_generator)
            self._order = torch.cat([self._order, fresh])
        indices, self._order = self._order[: self.batch_size], self._order[self.batch_size:]
        return indices

    def _gather(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        indices = self._next_indices()
        if self.images is not None:
            return self.images[indices], self.labels[indices], indices
        # Read rows in file order, then restore the shuffled order. NumPy, not torch, because this
        # runs on the read-ahead thread: a torch op there starts a second OpenMP team, whose
        # spinning threads take CPU cores from the training step.
        wanted = indices.numpy()
        order = np.argsort(wanted, kind="stable")
        rows = np.asarray(self.split.images[wanted[order]])
        shuffled = np.empty_like(rows)
        shuffled[order] = rows
        images = torch.from_numpy(shuffled)
        if self.device.type == "cuda":
            images = images.pin_memory()
        return images, self.labels[indices], indices

    def _read_ahead(self) -> None:
        while not self._closed.is_set():
            batch = self._gather()
            while not self._closed.is_set():
                try:
                    self._ahead.put(batch, timeout=0.1)
                    break
                except queue.Full:
                    continue

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 images and int64 labels on the device (normalizing is the trainer's job)."""
        draw = self.draw()
        return draw.images, draw.labels

    def draw(self) -> "Draw":
        """The next batch: augmented images, labels, domains and every view, on the device."""
        raw, labels, indices = self._ahead.get() if self._ahead is not None else self._gather()
        non_blocking = self.device.type == "cuda"
        raw = raw.to(self.device, non_blocking=non_blocking)
        images = self.augment(raw, self._augment_generator) if self.augment is not None else raw
        views = {name: augment(raw, self._augment_generator) if augment is not None else raw
                 for name, augment in self.views.items()}
        domains = self.domains[indices].to(self.device) if self.domains is not None else None
        return Draw(images, labels.to(self.device, non_blocking=non_blocking), domains, views, indices)

    def close(self) -> None:
        """Stop the read-ahead thread and wait for it: a daemon thread still inside a torch op
        when the interpreter exits aborts the process ("terminate called without an active
        exception")."""
        if self._ahead is not None:
            self._closed.set()
            self._reader.join(timeout=30)
