"""Safe hot reload: a changed shader is checked and warmed aside, and only a working one is swapped in.

Three places, no shared mutable state between them (they talk through queues):

- the watcher thread polls the files' modification stamps a few times a second, waits until a change
  has settled, reads and parses it (pure Python, no GL) and posts the document to the render thread;
- the render thread (`ShaderReloader.poll`/`take`, once per frame) describes the textures the layer
  is drawn with and hands the job to the warm thread; when the job comes back warmed, `take` gives the
  new document to the pipeline, which compiles it (a driver-cache hit), warms it into a few pixels and
  swaps it in at the frame boundary;
- the warm thread drives a low-priority child process (`engine.render.warm`) that compiles and draws
  the shader once, so the slow first-draw compile never happens on the render thread, and a shader
  that hangs the driver (an endless loop) is caught by a timeout instead of freezing the show.

A failure at any step keeps the last good version on the output, logs the error (file:line: message)
and keeps it in `errors()` for the preview overlay until a good version loads.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from engine.errors import HalationError, ShaderError
from engine.render.isf import IsfDocument, load_isf_source

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.25  # seconds between looks at the files: cheap (a stat per file), off the render path
WARM_TIMEOUT = 60.0  # wall seconds: a child that answers nothing for this long is treated as hung; a hang
# that burns CPU (an endless loop) is caught far sooner by DRAW_CPU_BUDGET, so this only has to outlast a
# child starved of CPU on a busy machine (it runs at low priority)
DRAW_CPU_BUDGET = 2.0  # CPU seconds the warm-up child may spend drawing a shader (twice) before it is refused

Stamp = tuple[tuple[int, int, int] | None, ...]
Spec = tuple[tuple[int, int], dict[str, dict]]  # output size, texture descriptions by input name


@dataclass(frozen=True)
class LookJob:
    """A whole look for the warm-up child to build as the show will (engine.render.warm.warm_look)."""

    preset: Path | None  # None: only the transition
    size: tuple[int, int]
    transition: str | None = None  # the morph's, when the look comes in through one


@dataclass(frozen=True)
class ShaderSource:
    """A shader's text as read from disk: what gets parsed, warmed and compiled."""

    path: Path
    fs: str
    vs: str | None


def read_source(path: Path) -> ShaderSource:
    try:
        fs = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ShaderError(f"cannot read shader: {exc.strerror or exc}", path=path) from None
    vs_path = path.with_suffix(".vs")
    vs = vs_path.read_text(encoding="utf-8", errors="replace") if vs_path.is_file() else None
    return ShaderSource(path, fs, vs)


def stamp_of(paths: Iterable[Path]) -> Stamp:
    """Modification time, size and inode of each file (None if absent): any edit or save changes it."""
    out = []
    for p in paths:
        try:
            st = os.stat(p)
            out.append((st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            out.append(None)
    return tuple(out)


def watched_paths(path: Path, doc: IsfDocument | None) -> tuple[Path, ...]:
    """The .fs, the .vs beside it (even before it exists) and the images the shader imports."""
    extra = tuple(doc.imported.values()) if doc is not None else ()
    return (path, path.with_suffix(".vs"), *extra)


class _Watch:
    __slots__ = ("candidate", "path", "paths", "seq", "stamp")

    def __init__(self, path: Path, paths: tuple[Path, ...], stamp: Stamp, seq: int):
        self.path = path
        self.paths = paths
        self.stamp = stamp
        self.candidate: Stamp | None = None
        self.seq = seq


class ShaderWatcher(threading.Thread):
    """Polls shader files and posts ("parsed", key, seq, doc, source) or ("failed", key, seq, error)."""

    def __init__(self, inbox: queue.SimpleQueue, interval: float = POLL_INTERVAL):
        super().__init__(name="halation-shader-watch", daemon=True)
        self.inbox = inbox
        self.interval = interval
        self.commands: queue.SimpleQueue = queue.SimpleQueue()
        self._watches: dict[str, _Watch] = {}
        self._seq = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self._handle_commands()
            for key, w in list(self._watches.items()):
                self._check(key, w)
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=2.0)

    def _handle_commands(self) -> None:
        while not self.commands.empty():
            kind, key, path, paths, stamp = self.commands.get()
            self._seq += 1
            self._watches[key] = _Watch(path, paths, stamp, self._seq)
            if kind == "load":  # a requested swap to another file: load it now
                self._load(key, self._watches[key])

    def _check(self, key: str, w: _Watch) -> None:
        now = stamp_of(w.paths)
        if now == w.stamp:
            w.candidate = None
            return
        if now[0] is None:  # the .fs is gone (mid-save by rename): wait for it to come back
            return
        if now != w.candidate:  # changed since the last look: wait one more poll for the save to finish
            w.candidate = now
            return
        w.stamp, w.candidate = now, None
        self._load(key, w)

    def _load(self, key: str, w: _Watch) -> None:
        self._seq += 1
        w.seq = self._seq
        try:
            source = read_source(w.path)
            doc = load_isf_source(source.fs, w.path, source.vs)
        except HalationError as exc:
            error = exc if isinstance(exc, ShaderError) else ShaderError(exc.message, path=w.path)
            self.inbox.put(("failed", key, w.seq, error))
            return
        paths = watched_paths(w.path, doc)
        if paths != w.paths:  # the imports changed: watch the new set
            w.paths = paths
            w.stamp = stamp_of(paths)
        self.inbox.put(("parsed", key, w.seq, doc, source))


class WarmWorker:
    """The low-priority child process that draws each new shader once (see engine.render.warm)."""

    def __init__(self, timeout: float = WARM_TIMEOUT, draw_budget: float = DRAW_CPU_BUDGET):
        """`timeout`: wall seconds a job may take in all; `draw_budget`: CPU seconds its draws may use.
        CPU time, not wall time, so a child starved by a busy machine (it runs at low priority) is
        never mistaken for a hung one, and a real hang (all CPU, no answer) is caught in about a second."""
        self.timeout = timeout
        self.draw_budget = draw_budget
        self._proc: subprocess.Popen | None = None
        self.available = True
        self._next_id = 0
        self._lines: queue.SimpleQueue = queue.SimpleQueue()
        self._starting: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen | None:
        from engine.paths import ROOT

        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "engine.render.warm"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                env=env,
            )
        except OSError as exc:
            log.warning("shader warm-up worker cannot start (%s): reloads may hitch", exc)
            self.available = False
            return None
        self._lines = queue.SimpleQueue()
        self._starting = proc  # close() may kill it while it starts
        threading.Thread(
            target=_pump_lines, args=(proc.stdout, self._lines), name="halation-warm-read", daemon=True
        ).start()
        ready = self._read(proc, 30.0)
        self._starting = None
        if ready is None or not self.available:  # not available: closed while it started (the show ends)
            if self.available:
                log.warning("shader warm-up worker did not start: reloads may hitch")
            self._kill(proc)
            self.available = False
            return None
        return proc

    def _read(self, proc: subprocess.Popen, timeout: float) -> dict | None:
        """The child's next line as JSON; None on timeout or when it closed its end."""
        try:
            line = self._lines.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        try:
            return json.loads(line) if line else None
        except json.JSONDecodeError:
            return None

    def start(self) -> bool:
        """Start the child now (it takes a moment at low priority), so the first reload is quick."""
        if self._proc is None or self._proc.poll() is not None:
            self._proc = self._start() if self.available else None
        return self._proc is not None

    def warm(self, source: ShaderSource, spec: Spec) -> dict:
        """Draw the shader once in the child; {"ok": True}, an error dict, or {"ok": True, "cold": True}
        when no worker can run (the render thread then does the first draw itself)."""
        if not self.start():
            return {"ok": True, "cold": True}
        proc = self._proc  # close() from another thread may drop self._proc meanwhile
        self._next_id += 1
        size, images = spec
        job = {"id": self._next_id, "path": str(source.path), "fs": source.fs, "vs": source.vs}
        job.update(size=list(size), images=images)
        try:
            proc.stdin.write(json.dumps(job) + "\n")
            proc.stdin.flush()
        except (OSError, ValueError):  # ValueError: closed meanwhile
            self._kill(proc)
            self._proc = None
            return {"ok": True, "cold": True}
        result = self._answer(proc)
        if result is None or result.get("over_budget"):
            hung = proc.poll() is None
            self._kill(proc, at_once=True)
            self._proc = None
            if result is not None:
                message = (
                    f"drawing the shader took over {self.draw_budget:.0f} s of CPU"
                    " (an endless loop, or one bounded by TIME?)"
                )
            elif hung:
                message = f"drawing the shader took over {self.timeout:.0f} s (an endless loop?)"
            else:
                message = "the driver crashed while drawing the shader"
            return {"ok": False, "message": message, "path": str(source.path)}
        return result

    def warm_look(self, look: LookJob) -> dict:
        """Build a whole look in the child (its shaders checked already): {"ok": True} whatever comes of
        it, since a look that could not be warmed here still comes in (its first draws are then cold)."""
        if not self.start():
            return {"ok": True, "cold": True}
        proc = self._proc
        self._next_id += 1
        job = {"id": self._next_id, "look": look.preset and str(look.preset), "size": list(look.size)}
        job["transition"] = look.transition
        try:
            proc.stdin.write(json.dumps(job) + "\n")
            proc.stdin.flush()
        except (OSError, ValueError):
            self._kill(proc)
            self._proc = None
            return {"ok": True, "cold": True}
        result = self._answer(proc)  # no "compiled" stage: only the wall-clock limit applies
        if result is None:
            self._kill(proc, at_once=True)
            self._proc = None
            return {"ok": True, "cold": True}
        return {"ok": True}

    def _answer(self, proc: subprocess.Popen) -> dict | None:
        """The job's result; {"over_budget": True} when its draws use up the CPU budget; None on timeout."""
        deadline = time.monotonic() + self.timeout
        drawing_from = None  # the child's CPU time when its draws began
        while (left := deadline - time.monotonic()) > 0:
            result = self._read(proc, min(left, 0.1))
            if result is not None and result.get("stage") == "compiled":
                drawing_from = _cpu_seconds(proc.pid)
                continue
            if result is not None:
                return result
            if proc.poll() is not None:
                return None
            if drawing_from is not None and _cpu_seconds(proc.pid) - drawing_from > self.draw_budget:
                return {"over_budget": True}
        return None

    @staticmethod
    def _kill(proc: subprocess.Popen, at_once: bool = False) -> None:
        with contextlib.suppress(OSError):
            proc.stdin.close()
        if at_once:
            proc.kill()
        try:
            proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):  # killed; a busy machine may reap it late
                proc.wait(timeout=5.0)

    def close(self, at_once: bool = False) -> None:
        proc, self._proc = self._proc or self._starting, None
        if proc is not None:
            self._kill(proc, at_once)


class WarmService(threading.Thread):
    """Runs warm jobs one after another in one child process and posts ("warmed", key, seq, doc) or
    ("failed", key, seq, error) to each job's reply queue. One per show: hot reload and the looks built
    aside (engine.runtime.looks) share it, so a recall does not start another child. A job whose `wanted()`
    is False by the time its turn comes (a newer request superseded it) is dropped unwarmed."""

    def __init__(self, worker: WarmWorker):
        super().__init__(name="halation-shader-warm", daemon=True)
        self.worker = worker
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._running = False
        self._lock = threading.Lock()

    def ensure_started(self) -> None:
        with self._lock:
            if not self._running:
                self._running = True
                self.start()

    def submit(self, reply: queue.SimpleQueue, key: str, seq: int, doc, source, spec, wanted=None) -> None:
        self.ensure_started()
        self.jobs.put((reply, key, seq, doc, source, spec, wanted))

    def run(self) -> None:
        self.worker.start()
        while True:
            job = self.jobs.get()
            if job is None:
                break
            reply, key, seq, doc, source, spec, wanted = job
            if wanted is not None and not wanted():
                continue
            if isinstance(source, LookJob):
                result = self.worker.warm_look(source)
            else:
                result = self.worker.warm(source, spec)
            if result.get("ok"):
                reply.put(("warmed", key, seq, doc))
            else:
                reply.put(("failed", key, seq, _error_from(result, doc)))
        self.worker.close()

    def stop(self) -> None:
        """Stop now: a shader being warmed is abandoned (its child killed), so a show ends in a moment."""
        if self._running:
            self.jobs.put(None)
            self.worker.available = False  # no new child for the jobs still queued
            self.worker.close(at_once=True)
            self.join(timeout=2.0)


def _pump_lines(stream, lines: queue.SimpleQueue) -> None:
    """The child's stdout, line by line, into a queue (a reader thread: no select on a buffered pipe)."""
    with contextlib.suppress(OSError, ValueError):
        for line in stream:
            lines.put(line)
    lines.put("")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads (llvmpipe draws on several), from /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _error_from(result: dict, doc: IsfDocument) -> ShaderError:
    """The child names the file it blamed (the .fs, or the .vs for vertex errors) as the job gave it."""
    path = Path(result.get("path") or doc.path)
    return ShaderError(str(result.get("message", "shader failed")), path=path, line=result.get("line"))


class ShaderReloader:
    """The render thread's side of hot reload: call `poll()` once per frame, then `take(key, spec)` for
    each layer before drawing it. Only the render thread touches this object."""

    def __init__(
        self,
        *,
        interval: float = POLL_INTERVAL,
        warm: bool = True,
        warm_timeout: float = WARM_TIMEOUT,
        service: WarmService | None = None,
    ):
        """`service`: the show's warm service to share (left running on close); else one of our own."""
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._watcher = ShaderWatcher(self._inbox, interval)
        self._own_warm = service is None
        self._warm = (service or WarmService(WarmWorker(warm_timeout))) if warm else None
        self._latest: dict[str, int] = {}
        self._parsed: dict[str, tuple[int, IsfDocument, ShaderSource]] = {}
        self._ready: dict[str, IsfDocument] = {}
        self._errors: dict[str, ShaderError] = {}
        self._warming: dict[str, int] = {}
        self._started = False

    def watch(self, key: str, path: Path, doc: IsfDocument | None = None) -> None:
        """Reload `key` whenever `path` (or its .vs, or an image it imports) changes on disk."""
        self._start()
        paths = watched_paths(Path(path), doc)
        # Stamp now, on the caller's thread: an edit made before the watcher's first look still counts.
        self._watcher.commands.put(("watch", key, Path(path), paths, stamp_of(paths)))

    def request(self, key: str, path: Path) -> None:
        """Swap `key` to another shader file through the same safe path (build aside, swap if it works)."""
        self._start()
        paths = watched_paths(Path(path), None)
        self._watcher.commands.put(("load", key, Path(path), paths, stamp_of(paths)))

    def _start(self) -> None:
        if not self._started:
            self._started = True
            self._watcher.start()
            if self._warm is not None:
                self._warm.ensure_started()

    def poll(self) -> None:
        """Take in what the watcher and the warm worker finished since the last frame (non-blocking)."""
        inbox = self._inbox
        while not inbox.empty():
            msg = inbox.get()
            kind, key, seq = msg[0], msg[1], msg[2]
            if kind in ("parsed", "failed") and seq >= self._latest.get(key, 0):
                self._latest[key] = seq
                self._ready.pop(key, None)
                self._parsed.pop(key, None)
            if seq < self._latest.get(key, 0):
                continue  # a newer edit of the same file is already on its way
            if kind != "parsed" and self._warming.get(key) == seq:
                del self._warming[key]
            if kind == "parsed":
                self._parsed[key] = (seq, msg[3], msg[4])
            elif kind == "warmed":
                self._ready[key] = msg[3]
            elif kind == "failed":
                self.failed(key, msg[3])

    def take(self, key: str, spec: Callable[[IsfDocument], Spec]) -> IsfDocument | None:
        """A warmed document ready to swap in for `key`, else None. `spec` describes the output size and
        the textures the layer is drawn with; it is called only when a change needs warming."""
        if self._parsed and key in self._parsed:
            seq, doc, source = self._parsed.pop(key)
            if self._warm is None:
                return doc
            self._warm.submit(self._inbox, key, seq, doc, source, spec(doc))
            self._warming[key] = seq
        if self._ready and key in self._ready:
            return self._ready.pop(key)
        return None

    def failed(self, key: str, error: ShaderError) -> None:
        """Record a failed reload: the last good version stays; the error is logged and kept."""
        if str(self._errors.get(key)) != str(error):
            log.error("%s (keeping the last good version)", error)
        self._errors[key] = error

    def accepted(self, key: str, doc: IsfDocument) -> None:
        """A new version of `key` is on the output: forget its error."""
        self._errors.pop(key, None)
        log.info("reloaded %s", doc.path)

    def errors(self) -> list[ShaderError]:
        """Current reload errors, one per layer whose last edit failed (cleared when one works)."""
        return list(self._errors.values())

    def pending(self) -> bool:
        """True while a known change is being warmed or waits to be swapped in."""
        return bool(self._parsed or self._ready or self._warming)

    def close(self) -> None:
        if self._started:
            self._watcher.stop()
            if self._warm is not None and self._own_warm:
                self._warm.stop()
