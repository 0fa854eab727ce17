"""The agent-side handle of a workspace server (fork server), and the registry of servers by preload key."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import weakref
from collections.abc import Coroutine
from contextlib import suppress
from pathlib import Path
from typing import Any

from agent.episode import ToolSpec
from agent.workspace import proctree, protocol
from agent.workspace.config import WorkspaceConfig
from agent.workspace.sandbox import WorkspaceError
from agent.workspace.workspace import WorkerChannel, Workspace

_EXITS_KEPT = 4096  # exit reports remembered for crash notes
log = logging.getLogger(__name__)
_warned_unconfined = False
# One OpenMP/BLAS thread per workspace process: cells share the cores with the model (hf-local) and
# with each other, and each library sizing its pool to every core would oversubscribe them.
SINGLE_THREADED = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


class WorkspaceServer:
    """One server process per preload key: it runs ``preload`` once and forks a worker per episode.

    Restarts itself (running ``preload`` again) on the next spawn if the server process died.
    """

    def __init__(self, preload: str | None = None, preload_kwargs: dict[str, Any] | None = None,
                 start_timeout_s: float = 600.0) -> None:
        self.preload, self.preload_kwargs = preload, dict(preload_kwargs or {})
        self.start_timeout_s = start_timeout_s
        self.closed = False
        self._control: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._events: asyncio.Task[None] | None = None
        self._start_lock = asyncio.Lock()
        self._failure: WorkspaceError | None = None  # a failed preload is not retried
        self.confinement_error = ""  # why workers cannot be confined here ("" if they can)
        self._exits: dict[int, tuple[int, str]] = {}
        self._exit_waiters: dict[int, asyncio.Future[None]] = {}
        self._kill_waiters: dict[int, list[asyncio.Future[bool]]] = {}  # True: the server killed the session
        self._workers: set[int] = set()  # live workers forked by the current server process
        self._orphans: set[int] = set()  # workers whose server died: killed here, replaced on their next cell
        self._background: set[asyncio.Future[None]] = set()  # workspaces closing without their caller

    @property
    def pid(self) -> int | None:
        """The server process, while it runs."""
        return self._process.pid if self._running() else None

    def key(self) -> tuple[str | None, str]:
        return ToolSpec(bind="", preload=self.preload, preload_kwargs=self.preload_kwargs).preload_key()

    async def spawn(self, tools: ToolSpec, episode_kwargs: dict[str, Any] | None = None,
                    answer_type: str = "str", workdir: Path | None = None,
                    config: WorkspaceConfig | None = None, wait: bool = True) -> Workspace:
        """Fork a worker for one episode, bind ``tools`` in it and return its workspace.

        With ``wait=False`` it returns at once and the worker starts in the background (see
        :meth:`Workspace.start`)."""
        if tools.preload_key() != self.key():
            raise ValueError(f"tools with preload {tools.preload!r} do not belong to this server")
        config = config or WorkspaceConfig()
        owns_workdir = workdir is None
        workdir = Path(tempfile.mkdtemp(prefix="mnm-workspace-")) if workdir is None else Path(workdir)
        tmpdir = Path(tempfile.mkdtemp(prefix="mnm-tmp-")) if config.confine else None
        request = {"bind": tools.bind, "episode_kwargs": dict(episode_kwargs or {}), "answer_type": answer_type,
                   "workdir": str(workdir.resolve()), "config": config.model_dump(), "agent_pid": os.getpid(),
                   "confine": config.confine, "tmpdir": str(tmpdir) if tmpdir else None}
        workspace = Workspace(self, request, workdir, owns_workdir, config, tmpdir)
        try:
            await workspace.start(wait)
        except BaseException:
            await workspace.close()
            raise
        return workspace

    async def fork(self, request: dict[str, Any], timeout: float) -> WorkerChannel:
        """Start a worker and wait until its tools are bound; restarts a dead server once."""
        for attempt in range(2):
            await self._ensure_started()
            try:
                return await self._fork_once(self._confinable(request), timeout)
            except _ServerDied:
                if attempt:
                    raise WorkspaceError("the workspace server died twice while starting a worker") from None
        raise AssertionError("unreachable")

    def _confinable(self, request: dict[str, Any]) -> dict[str, Any]:
        """``request`` without confinement where this machine cannot confine (warned about once)."""
        global _warned_unconfined
        if not request["confine"] or not self.confinement_error:
            return request
        if not _warned_unconfined:
            _warned_unconfined = True
            log.warning("workspace confinement is not available on this machine (%s): model code can write "
                        "wherever this user can and use the network; set agent.workspace.confine=false "
                        "to acknowledge", self.confinement_error)
        return {**request, "confine": False}

    async def exit_info(self, pid: int, timeout: float) -> tuple[int | None, str]:
        """How a worker ended as its server saw it: (return code, reason), or (None, '') if unknown."""
        if pid not in self._exits and self._running():
            waiter = self._exit_waiters.setdefault(pid, asyncio.get_running_loop().create_future())
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(waiter), timeout)
            self._exit_waiters.pop(pid, None)
        return self._exits.pop(pid, (None, ""))

    async def discard(self, channel: WorkerChannel) -> None:
        """Kill a worker and every process it started; returns when they are gone.

        The server process does the ``/proc`` scan, once for all the workers whose kill requests
        arrived together, so the agent's event loop neither scans nor fights a scanning thread for
        the GIL. Without a running server the agent process scans itself.
        """
        channel.close()
        self._workers.discard(channel.pid)
        self._orphans.discard(channel.pid)
        if self._running() and self._control is not None:
            waiter = asyncio.get_running_loop().create_future()
            self._kill_waiters.setdefault(channel.pid, []).append(waiter)
            try:
                await _send_packet(self._control, json.dumps({"kill": channel.pid}).encode())
                if await waiter:
                    return
            except OSError:  # the server is gone
                pass
            finally:
                if waiter in (waiters := self._kill_waiters.get(channel.pid, [])):
                    waiters.remove(waiter)
        await asyncio.to_thread(proctree.kill_sessions, {channel.pid})

    def orphaned(self, pid: int) -> bool:
        """Whether worker ``pid`` was killed because its server died (its workspace must restart it)."""
        return pid in self._orphans

    def in_background(self, teardown: Coroutine[Any, Any, None]) -> None:
        """Run a workspace's teardown without its caller waiting; :meth:`close` waits for it."""
        task = asyncio.ensure_future(teardown)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def close(self) -> None:
        """Finish the background teardowns, then stop the server process; it kills all the workers it forked."""
        self.closed = True
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self._stop()

    async def _ensure_started(self) -> None:
        if self.closed:
            raise WorkspaceError("the workspace server is closed")
        async with self._start_lock:
            if self._failure is not None:
                raise self._failure
            if not self._running():
                await self._stop()
                try:
                    await self._start()
                except WorkspaceError as e:
                    self._failure = e
                    raise

    def _running(self) -> bool:
        return self._events is not None and not self._events.done()

    async def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # the server imports exactly what this process can import
        path = os.pathsep.join(p or os.getcwd() for p in sys.path)
        env = {**os.environ, "PYTHONPATH": path, **SINGLE_THREADED}
        with theirs:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "agent.workspace.zygote", str(theirs.fileno())],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, env=env)
        ours.setblocking(False)
        self._control = ours
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(ours, json.dumps({"preload": self.preload,
                                                  "preload_kwargs": self.preload_kwargs}).encode())
        try:
            reply = await asyncio.wait_for(loop.sock_recv(ours, protocol.MAX_PACKET), self.start_timeout_s)
        except asyncio.TimeoutError:
            await self._stop()
            raise WorkspaceError(f"preload {self.preload} took longer than {self.start_timeout_s} s") from None
        answer = json.loads(reply) if reply else {"error": "the workspace server exited during preload"}
        if "error" in answer:
            await self._stop()
            raise WorkspaceError(f"preload {self.preload} failed:\n{answer['error']}")
        self.confinement_error = answer["confinement"]
        self._events = asyncio.create_task(self._read_events(ours))

    async def _read_events(self, control: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while packet := await _receive_event(loop, control):
            event = json.loads(packet)
            if "killed" in event:
                for pid in event["killed"]:
                    _resolve(self._kill_waiters.pop(pid, []), True)
                continue
            pid = event["exited"]
            self._workers.discard(pid)
            self._exits[pid] = (event["code"], event["reason"])
            if len(self._exits) > _EXITS_KEPT:
                del self._exits[next(iter(self._exits))]
            if (waiter := self._exit_waiters.pop(pid, None)) is not None and not waiter.done():
                waiter.set_result(None)
        self._server_died()

    def _server_died(self) -> None:
        """The server process is gone (a cell may have killed it): nothing would enforce its workers'
        process limits any more, so kill them and everything they started (in the background;
        :meth:`close` waits); each workspace starts a fresh worker, and a fresh server, on its next cell."""
        workers, self._workers = self._workers, set()
        for pid in workers:
            self._exits[pid] = (None, "its workspace server died")
        self._orphans |= workers
        self._server_gone()
        if workers:
            self.in_background(asyncio.to_thread(proctree.kill_sessions, workers))

    def _server_gone(self) -> None:
        """Nobody will report exits or kills any more: wake whoever waits for one."""
        _resolve(list(self._exit_waiters.values()), None)
        _resolve([w for waiters in self._kill_waiters.values() for w in waiters], False)
        self._kill_waiters.clear()

    async def _stop(self) -> None:
        if self._events is not None:
            self._events.cancel()
            with suppress(asyncio.CancelledError):
                await self._events
            self._events = None
            self._server_gone()
        self._workers.clear()  # closing the control socket has the server kill them
        if self._control is not None:
            self._control.close()  # the server kills its workers and exits
            self._control = None
        if self._process is not None:
            process, self._process = self._process, None
            try:
                await asyncio.to_thread(process.wait, 5.0)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)

    async def _fork_once(self, request: dict[str, Any], timeout: float) -> WorkerChannel:
        assert self._control is not None and self._events is not None
        events = self._events  # another episode may restart the server meanwhile
        ours, theirs = socket.socketpair()
        with theirs:
            try:
                await _send_packet(self._control, json.dumps(request).encode(), theirs.fileno())
            except OSError:
                ours.close()
                await asyncio.wait({events}, timeout=5.0)  # its reader sees the end, so the retry restarts it
                raise _ServerDied from None
        reader, writer = await asyncio.open_unix_connection(sock=ours, limit=protocol.MAX_MESSAGE)
        try:
            hello = await asyncio.wait_for(protocol.read(reader), timeout)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.TimeoutError) as e:
            writer.close()
            await asyncio.wait({events}, timeout=1.0)
            if events.done():
                raise _ServerDied from None
            raise WorkspaceError(f"the workspace server did not start a worker ({type(e).__name__})") from None
        if "error" in hello:
            writer.close()
            raise WorkspaceError(hello["error"])
        try:
            channel = WorkerChannel(hello["pid"], reader, writer)
        except ProcessLookupError:
            writer.close()
            raise WorkspaceError(f"the workspace worker died while binding {request['bind']}") from None
        self._workers.add(channel.pid)
        try:
            ready = await asyncio.wait_for(channel.receive(), timeout)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.TimeoutError) as e:
            await self.discard(channel)
            what = "timed out" if isinstance(e, asyncio.TimeoutError) else "died"
            raise WorkspaceError(f"the workspace worker {what} while binding {request['bind']}") from None
        if "error" in ready:
            await self.discard(channel)
            raise WorkspaceError(f"binding the tools {request['bind']} failed:\n{ready['error']}")
        return channel


def _resolve(waiters: list[asyncio.Future[Any]], value: Any) -> None:
    for waiter in waiters:
        if not waiter.done():
            waiter.set_result(value)


class _ServerDied(Exception):
    """The server process was gone when a worker was requested."""


async def _receive_event(loop: asyncio.AbstractEventLoop, control: socket.socket) -> bytes:
    """The next packet from the server; ``b""`` once it is gone (a reset, when it died with packets
    unread, means the same as end of file)."""
    try:
        return await loop.sock_recv(control, protocol.MAX_PACKET)
    except ConnectionError:
        return b""


async def _send_packet(sock: socket.socket, data: bytes, fd: int | None = None) -> None:
    """Send one packet (with a file descriptor attached, if given) on a non-blocking socket.

    Not ``loop.sock_sendall``: the loop keeps one writer per socket, so concurrent sends that
    find the buffer full would replace each other's callbacks and wait forever.
    """
    while True:
        try:
            socket.send_fds(sock, [data], [] if fd is None else [fd])
            return
        except BlockingIOError:
            await asyncio.sleep(0.001)


_servers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str | None, str], WorkspaceServer]]
_servers = weakref.WeakKeyDictionary()


def server_for(tools: ToolSpec) -> WorkspaceServer:
    """The server of the running event loop for ``tools.preload_key()``, created on first use."""
    servers = _servers.setdefault(asyncio.get_running_loop(), {})
    key = tools.preload_key()
    if key not in servers or servers[key].closed:
        servers[key] = WorkspaceServer(tools.preload, tools.preload_kwargs)
    return servers[key]


async def open_workspace(tools: ToolSpec, episode_kwargs: dict[str, Any] | None = None,
                         answer_type: str = "str", workdir: Path | None = None,
                         config: WorkspaceConfig | None = None, wait: bool = True) -> Workspace:
    """A workspace from the shared server for ``tools`` (use as ``async with await open_workspace(...)``)."""
    return await server_for(tools).spawn(tools, episode_kwargs, answer_type, workdir, config, wait)


async def close_servers() -> None:
    """Close every server of the running event loop (and with them all their workers)."""
    servers = _servers.pop(asyncio.get_running_loop(), {})
    await asyncio.gather(*(server.close() for server in servers.values()))
