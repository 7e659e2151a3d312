"""The environment a run happened in: enough to reproduce it a year later."""
from __future__ import annotations

import functools
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # torch is imported where a device is needed, not by `tlarena show`
    import torch

_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def find_device(requested: str = "auto") -> torch.device:
    """CUDA, then MPS, then CPU, unless the user asked for one."""
    if not _DEVICE.match(requested):
        raise ValueError(f"--device takes auto, cpu, cuda, cuda:N or mps, not {requested!r}")
    import torch

    if requested != "auto":
        device = torch.device(requested)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("--device cuda was asked for, but torch sees no CUDA device")
        if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
            raise ValueError(f"--device {requested}: torch sees only {torch.cuda.device_count()} "
                             f"CUDA devices (cuda:0 to cuda:{torch.cuda.device_count() - 1})")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError("--device mps was asked for, but torch sees no MPS device")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def device_name(device: torch.device, threads: int | None = None) -> str:
    """The hardware a run records; on CPU with ``threads`` torch threads (default: this process's)."""
    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return f"Apple MPS ({platform.machine()})"
    return f"CPU: {_cpu_model()}, {_cpu_kernels()} ({threads or torch.get_num_threads()} threads)"


_THREADS = re.compile(r"^CPU: .* \((\d+) threads\)$")


def cpu_threads(name: str) -> int | None:
    """The torch thread count a CPU ``device_name`` names (None for another device)."""
    found = _THREADS.match(name)
    return int(found.group(1)) if found else None


def _cpu_kernels() -> str:
    """The instruction set torch picked its CPU kernels for (AVX2, AVX512, ...). Two CPUs of one
    model name can differ in it, and a run's numbers then differ in their last bits."""
    import torch

    capability = getattr(torch.backends.cpu, "get_cpu_capability", None)
    return capability() if capability else "unknown kernels"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.cache
def _git() -> tuple[str | None, bool | None]:
    """(commit, whether the tree differs from it) of the checkout tlarena runs from; (None, None)
    from an installed wheel. Run records are not code: ``results/`` does not make a tree dirty."""
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None, None
    try:
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5).stdout.strip()
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", ".",
                                 ":(exclude)results"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None, None
    return sha or None, (bool(status.stdout.strip()) if status.returncode == 0 else None)


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def environment(device: torch.device) -> dict:
    import torch

    return {
        "tlarena": _version("tlarena"),
        "torch": torch.__version__,
        "timm": _version("timm"),
        "datasets": _version("datasets"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": device.type,
        "device_name": device_name(device),
        "git_sha": _git()[0],
        "git_dirty": _git()[1],
    }
