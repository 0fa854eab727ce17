"""The agent-side workspace of one episode (a :class:`~agent.workspace.sandbox.Sandbox`): runs cells in
its worker, through a :class:`WorkerChannel`, and survives the worker's faults."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time
from collections.abc import Coroutine
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from agent.workspace import protocol
from agent.workspace.config import WorkspaceConfig
from agent.workspace.sandbox import CellResult, CellStatus, WorkspaceError

_LOST = "it was restarted and its variables were lost (files in the working directory are kept)"


class WorkerChannel:
    """The agent's end of one worker: its pid (as a pidfd, safe against pid reuse) and its socket."""

    def __init__(self, pid: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.pid = pid
        self.pidfd = os.pidfd_open(pid)
        self.reader, self.writer = reader, writer

    async def send(self, message: dict[str, Any]) -> None:
        self.writer.write(protocol.encode(message))
        await self.writer.drain()

    async def receive(self) -> dict[str, Any]:
        return await protocol.read(self.reader)

    def signal(self, signum: int) -> None:
        with suppress(ProcessLookupError):
            signal.pidfd_send_signal(self.pidfd, signum)

    def close(self) -> None:
        """Drop the connection. Killing the worker is left to whoever kills its session (it leads
        it): a SIGKILL from here would cost the agent's event loop a slow system call."""
        self.writer.close()
        os.close(self.pidfd)


class WorkerPool(Protocol):
    """What a workspace needs from the server that forks its workers
    (:class:`agent.workspace.server_handle.WorkspaceServer`)."""

    async def fork(self, request: dict[str, Any], timeout: float) -> WorkerChannel: ...

    async def discard(self, channel: WorkerChannel) -> None: ...

    async def exit_info(self, pid: int, timeout: float) -> tuple[int | None, str]: ...

    def orphaned(self, pid: int) -> bool: ...

    def in_background(self, teardown: Coroutine[Any, Any, None]) -> None: ...


class Workspace:
    """A persistent Python namespace in a worker process; create it with ``WorkspaceServer.spawn``.

    ``run`` never raises for anything the cell does: timeouts, crashes and exceptions come back as
    a :class:`CellResult`. It raises :class:`WorkspaceError` only if no new worker can be started.
    Cells of one workspace run one at a time; different workspaces run concurrently.
    """

    def __init__(self, server: WorkerPool, request: dict[str, Any], workdir: Path, owns_workdir: bool,
                 config: WorkspaceConfig, tmpdir: Path | None = None) -> None:
        self.server, self.request, self.config = server, request, config
        self.workdir = workdir
        self.tmpdir = tmpdir  # the private temporary directory of a confined workspace, removed on close
        self.owns_workdir = owns_workdir
        self.closed = False
        self._worker: WorkerChannel | None = None
        self._lock = asyncio.Lock()
        self._stale = False  # the worker was left mid-cell and must be replaced
        self._pending_note = ""  # a restart outside any cell, which the next result must mention
        self._starting: asyncio.Task[None] | None = None  # the first worker, started in the background
        self._cells = 0  # cells sent; each reply names its cell

    @property
    def pid(self) -> int | None:
        """The current worker process."""
        return self._worker.pid if self._worker else None

    async def start(self, wait: bool = True) -> None:
        """Start the first worker; with ``wait=False`` it starts in the background and the first
        :meth:`run` waits for it (raising its :class:`WorkspaceError`), so an agent can overlap the
        start with its first LLM call."""
        if wait:
            await self._restart()
        else:
            self._starting = asyncio.create_task(self._restart())

    async def run(self, code: str, timeout: float | None = None) -> CellResult:
        """Run one cell; ``timeout`` (seconds) overrides ``config.cell_timeout_s``."""
        limit = self.config.cell_timeout_s if timeout is None else timeout
        async with self._lock:
            if self.closed:
                raise WorkspaceError("the workspace is closed")
            if self._starting is not None:
                starting, self._starting = self._starting, None
                await starting
            orphaned = self._worker is not None and self.server.orphaned(self._worker.pid)
            if self._worker is None or self._stale or orphaned:  # a cancelled cell, a failed restart, a dead server
                why = ("the previous cell did not finish" if self._stale else
                       "the workspace server died (a cell may have killed it)" if orphaned else
                       "the workspace had no worker")
                await self._restart()
                self._pending_note = f"{why}, so the workspace {_LOST}"
            try:
                return await self._run(code, limit)
            except BaseException:  # e.g. cancelled: the worker may still be busy with this cell
                if self._worker is not None:
                    self._worker.signal(signal.SIGKILL)
                    self._stale = True
                raise

    async def _run(self, code: str, limit: float) -> CellResult:
        """Interrupt the cell ``interrupt_grace_s`` (at most half the limit) before ``limit``; kill
        its worker at ``limit`` if it has not stopped."""
        assert self._worker is not None
        worker, start = self._worker, time.perf_counter()
        grace = min(self.config.interrupt_grace_s, limit / 2)
        reply = asyncio.ensure_future(self._exchange(worker, code))
        if await _finished(reply, limit - grace):
            message = reply.result()
            if message is None:
                return await self._crashed(worker, start)
            if "background_cpu_s" in message:  # the cell did not run: restart, then run it
                await self._restart()
                self._pending_note = (f"the workspace used {message['background_cpu_s']:.1f} s of CPU between "
                                      f"cells (threads or processes an earlier cell left running), so {_LOST}")
                return await self._run(code, limit)
            if "mismatch" in message:
                await self._restart()
                note = ("the workspace sent a reply that did not belong to this cell (a process the cell "
                        f"started may have written to its channel), so it was killed; {_LOST}")
                return self._result(None, "crashed", note, start, restarted=True)
            status: CellStatus = "exception" if message.get("exception") else "ok"
            return self._result(message, status, "", start)

        worker.signal(signal.SIGINT)
        if await _finished(reply, grace) and reply.result() is not None and "cell" in reply.result():
            note = (f"the cell timed out: it was interrupted after {limit - grace:g} s of its {limit:g} s "
                    f"limit (KeyboardInterrupt); the variables are kept")
            return self._result(reply.result(), "timeout", note, start)
        reply.cancel()
        seconds = time.perf_counter() - start
        await self._restart()
        note = (f"the cell timed out: it was interrupted after {limit - grace:g} s and did not stop within "
                f"{grace:g} s, so at its limit of {limit:g} s the workspace was killed; {_LOST}")
        return self._result(None, "timeout", note, start, restarted=True, seconds=seconds)

    async def _exchange(self, worker: WorkerChannel, code: str) -> dict[str, Any] | None:
        """The worker's reply, ``{"mismatch": True}`` for one that is not this cell's, or ``None`` if
        the worker died."""
        self._cells += 1
        try:
            await worker.send({"code": code, "cell": self._cells})
            message = await worker.receive()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):  # ValueError: garbled message
            return None
        return message if message.get("cell") == self._cells else {"mismatch": True}

    async def _crashed(self, worker: WorkerChannel, start: float) -> CellResult:
        if self.closed:
            return self._result(None, "crashed", "the workspace was closed while the cell ran", start)
        code, reason = await self.server.exit_info(worker.pid, timeout=1.0)
        await self._restart()
        how = _describe_exit(code, reason)
        note = f"the workspace process {how} while running the cell, so its output was lost; {_LOST}"
        return self._result(None, "crashed", note, start, restarted=True)

    async def _restart(self) -> None:
        """Replace the worker (killing everything the old one started) by a fresh fork of the server."""
        if self._worker is not None:
            await self.server.discard(self._worker)
            self._worker = None
        self._stale = False
        worker = await self.server.fork(self.request, self.config.start_timeout_s)
        if self.closed:  # closed while the new worker started
            await self.server.discard(worker)
            raise WorkspaceError("the workspace is closed")
        self._worker = worker

    def _result(self, message: dict[str, Any] | None, status: CellStatus, note: str, start: float,
                restarted: bool = False, seconds: float | None = None) -> CellResult:
        message = message or {}
        earlier, self._pending_note = self._pending_note, ""  # an earlier restart this cell ran after
        threads = ""
        if message.get("threads"):
            threads = (f"{message['threads']} thread(s) that cells started are still running; the workspace "
                       f"is restarted if they use more than {self.config.background_cpu_s:g} s of CPU between cells")
        notes = [n for n in (earlier, note, threads) if n]
        return CellResult(stdout=message.get("stdout", ""), stderr=message.get("stderr", ""),
                          exception=message.get("exception", ""), status=status,
                          restarted=restarted or bool(earlier), note="; ".join(notes),
                          seconds=time.perf_counter() - start if seconds is None else seconds,
                          completion=message.get("completion"))

    async def close(self, wait: bool = True) -> None:
        """Kill the worker and everything it started, and remove a workspace-created workdir. Idempotent.

        With ``wait=False`` this goes on in the background and the caller moves on at once (the
        server's ``close`` waits for it): for a caller that does not look at the workdir afterwards.
        """
        if self.closed:
            return
        self.closed = True
        if wait:
            await self._teardown()
        else:
            self.server.in_background(self._teardown())

    async def _teardown(self) -> None:
        try:
            if self._starting is not None:  # its worker, once started, sees `closed` and is discarded
                await asyncio.gather(self._starting, return_exceptions=True)
                self._starting = None
            if self._worker is not None:
                worker, self._worker = self._worker, None
                await self.server.discard(worker)
        finally:  # also when cancelled, e.g. by the end of the event loop
            for directory in ([self.workdir] if self.owns_workdir and not self.config.keep_workdir else []) + (
                    [self.tmpdir] if self.tmpdir is not None else []):
                try:
                    directory.rmdir()  # usually empty: one system call, no thread
                except OSError:
                    await asyncio.to_thread(shutil.rmtree, directory, True)

    async def __aenter__(self) -> Workspace:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()


async def _finished(task: asyncio.Future[Any], timeout: float) -> bool:
    done, _ = await asyncio.wait({task}, timeout=timeout)
    return bool(done)


def _describe_exit(code: int | None, reason: str) -> str:
    if reason:
        return f"was killed because {reason}"
    if code is None:
        return "died"
    if code < 0:
        try:
            return f"was killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"
