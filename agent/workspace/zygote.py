"""The workspace server process: runs ``preload`` once, then forks one worker per episode.

Started by :class:`agent.workspace.server_handle.WorkspaceServer` as ``python -m agent.workspace.zygote FD``
where FD is its end of a SOCK_SEQPACKET control socket. Messages on it (one JSON object a packet):

* agent -> server: ``{"preload", "preload_kwargs"}`` once, then spawn requests, each carrying the
  worker's end of a fresh stream socketpair as ancillary data (``socket.send_fds``), and
  ``{"kill": pid}`` to kill a worker's session and descendants;
* server -> agent: ``{"ready": pid, "confinement": why not available or ""}`` or ``{"error": traceback}`` once, then
  ``{"exited": pid, "code": returncode, "reason": str}`` whenever a worker ends and
  ``{"killed": [pid, ...]}`` once the processes of the sessions asked to be killed have died (one
  ``/proc`` scan serves all the requests read together; the loop never sleeps on a kill).

The server is a child subreaper: processes that escape a worker's session and tree get re-parented
to it, and a sweep every ``SWEEP_INTERVAL_S`` kills them (sparing processes ``preload`` started),
and kills any worker running more than its ``max_processes``. When the control socket closes (the agent process closed the server or died) it
kills all its workers and exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import json
import os
import select
import selectors
import signal
import socket
import sys
import time
import traceback
from typing import Any

from agent.workspace import confine, proctree, protocol, worker

SWEEP_INTERVAL_S = 0.5
KILL_ROUND_S = 0.002  # between checks whether killed processes have died
KILL_SCAN_INTERVAL_S = 0.025  # kill requests arriving closer together share a /proc scan
KILL_DEADLINE_S = 5.0  # then a session is reported as killed all the same
_PR_SET_CHILD_SUBREAPER = 36


class _Server:
    def __init__(self, control: socket.socket, shared: Any) -> None:
        self.control = control
        self.shared = shared
        self.workers: dict[int, int | None] = {}  # pid -> max_processes
        self.reasons: dict[int, str] = {}  # why the server killed a worker
        self.kill_requests: set[int] = set()  # worker sessions to kill in the next round
        self.last_kill_scan = 0.0
        self.killing: dict[int, tuple[set[int], float]] = {}  # session -> (processes killed, deadline)
        me = os.getpid()
        self.preload_children = {p.pid for p in proctree.scan() if p.ppid == me}  # not orphans
        self.wakeup_read, self.wakeup_write = os.pipe()
        os.set_blocking(self.wakeup_read, False)
        os.set_blocking(self.wakeup_write, False)
        signal.set_wakeup_fd(self.wakeup_write)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)  # wakes the selector via the wakeup fd
        self.selector = selectors.DefaultSelector()
        self.selector.register(control, selectors.EVENT_READ)
        self.selector.register(self.wakeup_read, selectors.EVENT_READ)

    def serve(self) -> None:
        next_sweep = time.monotonic() + SWEEP_INTERVAL_S
        while True:
            now = time.monotonic()
            wait = next_sweep - now
            if self.kill_requests:
                wait = min(wait, self.last_kill_scan + KILL_SCAN_INTERVAL_S - now)
            if self.killing:
                wait = min(wait, KILL_ROUND_S)
            for key, _ in self.selector.select(timeout=max(0.0, wait)):
                if key.fileobj is not self.control:
                    while _read_nonblocking(self.wakeup_read):
                        pass
                    continue
                while True:  # every packet already waiting, so that their kills share one scan
                    message, fds = _receive(self.control)
                    if not message:
                        return self.shutdown()
                    request = json.loads(message)
                    if "kill" in request:
                        self.kill_requests.add(request["kill"])
                    else:
                        self.spawn(request, fds[0])
                    if not select.select([self.control], [], [], 0)[0]:
                        break
            self.reap()
            if self.kill_requests or self.killing:
                self.kill_round()
            if time.monotonic() >= next_sweep:
                self.sweep()
                next_sweep = time.monotonic() + SWEEP_INTERVAL_S

    def kill_round(self) -> None:
        """SIGKILL the sessions asked for (one ``/proc`` scan serves them all, at most one scan per
        ``KILL_SCAN_INTERVAL_S``) and report those whose processes are all dead (or past their
        deadline). Never sleeps, so spawns go on meanwhile. A process forked between the scan and
        the kill ends up an orphan of this server, which the sweep kills."""
        now = time.monotonic()
        if self.kill_requests and now >= self.last_kill_scan + KILL_SCAN_INTERVAL_S:
            self.last_kill_scan = now
            procs = proctree.scan()
            for session in self.kill_requests:
                victims = proctree.tree(procs, {session})
                proctree.kill(victims)
                self.killing[session] = (victims, now + KILL_DEADLINE_S)
            self.kill_requests.clear()
        done = [session for session, (victims, deadline) in self.killing.items()
                if now >= deadline or not any(map(proctree.alive, victims))]
        if done:
            for session in done:
                del self.killing[session]
            self._tell({"killed": sorted(done)})

    def spawn(self, request: dict[str, Any], fd: int) -> None:
        sock = socket.socket(fileno=fd)
        _preimport(request["bind"])
        gc.freeze()  # the child's collections then leave the inherited objects' pages shared
        try:
            pid = os.fork()
        except OSError as e:
            protocol.send(sock, {"error": f"the workspace server could not fork a worker: {e}"})
            sock.close()
            return
        if pid == 0:
            try:
                self._become_worker()
                worker.serve(sock, request, self.shared)
            finally:
                os._exit(1)  # never return into the server's loop
        self.workers[pid] = request["config"]["max_processes"]
        sock.close()

    def _become_worker(self) -> None:
        """In the forked child: drop the server's descriptors and signal handling."""
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        self.selector.close()
        self.control.close()
        os.close(self.wakeup_read)
        os.close(self.wakeup_write)

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.workers:  # not an orphan we killed
                del self.workers[pid]
                self._tell({"exited": pid, "code": os.waitstatus_to_exitcode(status),
                            "reason": self.reasons.pop(pid, "")})

    def sweep(self) -> None:
        procs = proctree.scan()
        me = os.getpid()
        for p in procs:  # re-parented to us: escaped a worker's session and tree
            if p.ppid == me and p.pid not in self.workers and p.pid not in self.preload_children and not p.zombie:
                proctree.kill(proctree.tree(procs, {p.pid}, frozenset({p.pid})))
        for pid, limit in self.workers.items():
            members = proctree.tree(procs, {pid})
            if limit is not None and len(members) > limit:
                self.reasons[pid] = f"it ran more than {limit} processes at once"
                proctree.kill(members)

    def shutdown(self) -> None:
        proctree.kill_sessions(set(self.workers), deadline_s=2.0)
        self.sweep()

    def _tell(self, message: dict[str, Any]) -> None:
        try:
            self.control.send(json.dumps(message).encode())
        except OSError:  # the agent process is gone; the next select sees the closed socket
            pass


def _preimport(target: str) -> None:
    """Import the bind function's module here, once, so every forked worker inherits it.

    Without this each worker imports it after the fork (tens of ms of CPU per episode). A module
    that fails to import is left for the worker, which reports the error to its agent.
    """
    module = target.partition(":")[0]
    if module not in sys.modules:
        with contextlib.suppress(Exception):
            importlib.import_module(module)


def _receive(control: socket.socket) -> tuple[bytes, list[int]]:
    """The next control packet and its descriptors (``b""`` when the agent closed the socket)."""
    try:
        message, fds, _, _ = socket.recv_fds(control, protocol.MAX_PACKET, 1)
    except ConnectionError:  # the agent process died or closed us abruptly
        return b"", []
    return message, fds


def _read_nonblocking(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except BlockingIOError:
        return b""


def main(control_fd: int) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the agent process, which then closes us
    control = socket.socket(fileno=control_fd)
    hello = json.loads(control.recv(protocol.MAX_PACKET))
    try:
        preload = hello["preload"]
        shared = worker.load_callable(preload)(**hello["preload_kwargs"]) if preload else None
    except BaseException:
        control.send(json.dumps({"error": traceback.format_exc()}).encode())
        return 1
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    control.send(json.dumps({"ready": os.getpid(), "confinement": confine.probe()}).encode())
    _Server(control, shared).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
