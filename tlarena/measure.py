"""Cost measurements the harness takes around a run: clock, FLOPs, peak memory."""
from __future__ import annotations

import os
import sys
import threading
import time
from typing import Callable

import torch
from torch.utils.flop_counter import FlopCounterMode


class Clock:
    """Wall time that waits for queued GPU work, so seconds mean finished work."""

    def __init__(self, device: torch.device):
        self.device = device

    def now(self) -> float:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        elif self.device.type == "mps":
            torch.mps.synchronize()
        return time.perf_counter()


def count_flops(work: Callable[[], object]) -> tuple[object, int]:
    """Run ``work`` once under torch's FLOP counter; return its result and the FLOPs it took."""
    counter = FlopCounterMode(display=False)
    with counter:
        result = work()
    return result, counter.get_total_flops()


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, AttributeError, ValueError):
        pass
    try:  # macOS and other Unixes: the process peak, which only grows
        import resource
    except ImportError:  # Windows has no resource module: no sampled peak there
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


class PeakMemory:
    """Peak memory during a block: the CUDA allocator's peak on GPU, else sampled process RSS.

    ``kind`` says which, because the two measure different things.
    """

    def __init__(self, device: torch.device, interval: float = 0.05):
        self.device = device
        self.interval = interval
        self.kind = "cuda_allocator" if device.type == "cuda" else "process_rss"
        self.peak = 0
        self._stop = threading.Event()

    def __enter__(self) -> "PeakMemory":
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            self.peak = _rss_bytes()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, _rss_bytes())

    def __exit__(self, *exc) -> None:
        if self.device.type == "cuda":
            self.peak = torch.cuda.max_memory_allocated(self.device)
        else:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, _rss_bytes())
