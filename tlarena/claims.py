"""Claims: which process is doing what (a run, a source model, a decoded split), in a file beside it.

Several ``tlarena run`` processes, on one machine or on many sharing a filesystem, can work on one
results folder and one cache: each run, and each shared thing built once, is claimed first.

A claim is a file created with ``O_CREAT | O_EXCL`` (atomic on local filesystems and on NFS v3+,
where ``flock`` may not work) holding its owner's host, pid and a heartbeat time that a thread of
the owner rewrites every ``HEARTBEAT`` seconds. Another process skips a live claim and takes over a
stale one: its owner's pid is dead on this host, or its heartbeat is older than ``STALE`` seconds
(a crashed or unreachable host; hosts' clocks are assumed to agree within that). Taking over goes
through a second ``O_EXCL`` file, so two processes never both take over one stale claim.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HEARTBEAT = 15.0    # seconds between rewrites of a held claim's heartbeat
STALE = 300.0       # seconds without a heartbeat after which a claim of another host is taken over
TAKEOVER_STALE = 60.0   # a takeover takes milliseconds; its guard file older than this was left by a crash
_SIZE = 256         # bytes: each write replaces the whole file in one pwrite, so no reader sees half
HOST = socket.gethostname()


@dataclass(frozen=True)
class Holder:
    """Who a claim file says holds it."""

    host: str | None
    pid: int | None
    token: str | None
    heartbeat: float

    def stale(self, now: float) -> bool:
        if self.host == HOST and self.pid is not None and not pid_alive(self.pid):
            return True
        return now - self.heartbeat > STALE


class Claim:
    """A claim this process holds; its heartbeat goes on until ``release``."""

    def __init__(self, path: Path, token: str, fd: int):
        self.path, self.token, self._fd, self.pid = path, token, fd, os.getpid()
        self.lost = False   # taken over by another process (this one looked dead): its work is a duplicate

    def release(self) -> None:
        """Remove the claim file, unless another process took it over meanwhile."""
        with _held_lock:
            _held.pop(self.path, None)
        if self._fd is None:
            return
        os.close(self._fd)
        self._fd = None
        holder = read(self.path)
        if holder is not None and holder.token == self.token:
            self.path.unlink(missing_ok=True)

    def beat(self) -> None:
        holder = read(self.path)
        if holder is None or (holder.token is not None and holder.token != self.token):
            self.lost = True
            return
        os.pwrite(self._fd, _content(self.token), 0)


def claim_path(path: Path) -> Path:
    """The claim file of ``path`` (a record, a cached file): hidden, beside it."""
    return path.with_name(f".{path.name}.claim")


def take(path: Path) -> Claim | None:
    """Claim ``path`` (a claim file's path) for this process; None while another live process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(3):
        claim = _create(path)
        if claim is not None:
            return claim
        holder = read(path)
        if holder is None:
            continue    # released just now: try again
        if not holder.stale(time.time()) or not _remove_stale(path, holder):
            return None
    return None


def wait(path: Path, done: Callable[[], bool], poll: float = 0.5) -> Claim | None:
    """Wait until this process holds ``path``'s claim (returned, to build what ``done`` checks) or
    ``done()`` (None: another process built it)."""
    while not done():
        claim = take(path)
        if claim is not None:
            return claim
        time.sleep(poll)
    return None


def remove_stale(folder: Path) -> None:
    """Remove the claims under ``folder`` that dead processes left behind."""
    for path in Path(folder).glob(".*.claim"):
        claim = take(path)
        if claim is not None:
            claim.release()
    for guard in Path(folder).glob(".*.claim.takeover"):
        if _age(guard) > TAKEOVER_STALE:
            guard.unlink(missing_ok=True)


# A writer's temporary before its rename: ".NAME.PID" (a file) or "NAME.tmp-PID" (a folder).
_TEMPORARY = re.compile(r"^\.(?P<hidden>.+)\.(?P<pid>\d+)$|^(?P<name>.+)\.tmp-(?P<builder>\d+)$")


def remove_orphans(folder: Path) -> None:
    """Remove what writers under ``folder`` left when they were killed: stale claims, and the
    temporaries of a process dead on this host for a NAME that no live claim covers (a builder on
    another host that happens to share the pid holds its NAME's claim while it writes)."""
    remove_stale(folder)
    for path in Path(folder).iterdir():
        match = _TEMPORARY.match(path.name)
        if match is None or pid_alive(int(match["pid"] or match["builder"])):
            continue
        holder = read(claim_path(path.with_name(match["hidden"] or match["name"])))
        if holder is not None and not holder.stale(time.time()):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def live(folder: Path) -> set[str]:
    """The names of the files under ``folder`` whose claims are live now."""
    now = time.time()
    names = set()
    for path in Path(folder).glob(".*.claim") if Path(folder).is_dir() else ():
        holder = read(path)
        if holder is not None and not holder.stale(now):
            names.add(path.name[1:-len(".claim")])
    return names


def read(path: Path) -> Holder | None:
    """Who holds the claim at ``path``; None when there is no claim. A file caught half-written
    (by its creator) counts by its modification time alone."""
    try:
        text = path.read_bytes().decode(errors="replace").strip()
        modified = path.stat().st_mtime
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
        return Holder(data["host"], int(data["pid"]), data["token"], float(data["heartbeat"]))
    except (ValueError, KeyError, TypeError):
        return Holder(None, None, None, modified)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _content(token: str) -> bytes:
    text = json.dumps({"host": HOST, "pid": os.getpid(), "token": token, "heartbeat": time.time()})
    return text.encode().ljust(_SIZE)


def _create(path: Path) -> Claim | None:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return None
    token = uuid.uuid4().hex
    os.pwrite(fd, _content(token), 0)
    os.fsync(fd)
    claim = Claim(path, token, fd)
    with _held_lock:
        _held[path] = claim
    _start_heartbeat()
    return claim


def _remove_stale(path: Path, seen: Holder) -> bool:
    """Delete the stale claim ``seen`` at ``path``, under a guard only one process can create."""
    guard = path.with_name(path.name + ".takeover")
    try:
        os.close(os.open(guard, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        if _age(guard) > TAKEOVER_STALE:
            guard.unlink(missing_ok=True)
        return False
    try:
        holder = read(path)
        if holder is not None and holder.token == seen.token and holder.stale(time.time()):
            path.unlink(missing_ok=True)
        return True
    finally:
        guard.unlink(missing_ok=True)


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


# One heartbeat thread per process, for every claim it holds. A forked child starts its own.
_held: dict[Path, Claim] = {}
_held_lock = threading.Lock()
_heart: tuple[int, threading.Thread] | None = None


def _start_heartbeat() -> None:
    global _heart
    if _heart is not None and _heart[0] == os.getpid() and _heart[1].is_alive():
        return
    thread = threading.Thread(target=_beat_forever, daemon=True, name="tlarena-claims-heartbeat")
    _heart = (os.getpid(), thread)
    thread.start()


def _beat_forever() -> None:
    while True:
        time.sleep(HEARTBEAT)
        with _held_lock:
            claims = list(_held.values())
        for claim in claims:
            if claim.pid != os.getpid():
                continue   # a forked child's copy of its parent's claim
            try:
                claim.beat()
            except OSError:   # released meanwhile, or the filesystem hiccuped: the next beat tries again
                pass
