"""The agent's sandboxed, persistent Python workspace: one worker process per episode.

Design
------
* **The seam** (``sandbox.py``). The agent loop runs cells through the :class:`Sandbox` protocol
  (``run(code) -> CellResult``, ``close(wait)``) opened by an :class:`OpenSandbox`; ``open_workspace``
  is this package's, and another sandbox (a container, a remote worker) plugs in beside it.
* **Fork server.** A :class:`WorkspaceServer` (``server_handle.py``, the agent's handle of the
  server) exists once per ``ToolSpec.preload_key()``. It starts
  a server process (``zygote.py``) that runs ``preload(**preload_kwargs)`` once and then forks one
  worker per episode, so multi-GB read-only tables are shared copy-on-write. The agent sends each
  spawn request with one end of a fresh socketpair attached (``socket.send_fds``); the forked worker
  calls ``setsid()``, binds the episode's tools (``bind(shared, **episode_kwargs)``), and talks to the
  agent directly over that socket with length-prefixed JSON (``protocol.py``). Nothing in the agent
  process blocks: it uses asyncio streams, so hundreds of workspaces share one event loop.
* **Workers** (``worker.py``) keep one namespace across cells, show a final expression's value,
  capture fds 1 and 2 (print, C code, subprocesses) through pipes keeping the first ``output_cap``
  characters per stream, refuse ``input()``, format tracebacks without their own frames, and provide
  ``complete_task(report, answer)``: it checks the answer's class *name* against the episode's answer
  type (an ``Exception`` is always accepted), raises ``TypeError`` otherwise, and on success ends the
  cell and sets ``CellResult.completion``.
* **Faults become observations** (``workspace.py``). A cell gets SIGINT (``KeyboardInterrupt``)
  ``interrupt_grace_s`` before its wall-clock limit; if it has not stopped at the limit the worker's
  whole process tree is killed and a fresh worker is forked (``status="timeout"``, ``restarted=True``).
  A worker that dies (``os._exit``, a signal, a limit, its server's death) gives ``status="crashed"``
  and is replaced. ``note`` tells the agent what happened and that its variables were lost; it also
  counts threads that cells left running, and a worker that uses more than ``background_cpu_s`` of
  CPU between cells is restarted. Each reply names its cell and a process a cell forks has the
  channel closed, so no observation can belong to another cell; fds 0-2 and ``sys.std*`` are
  restored before each cell.
* **Confinement** (``confine.py``, ``confine=True`` by default): user and mount namespaces leave a
  worker the file system read-only except its working directory and a private ``$TMPDIR``, and no
  network (``network=True`` allows it). Where the machine lacks unprivileged user namespaces the
  server says so once (a warning) and workers run unconfined.
* **Limits**: ``RLIMIT_AS`` (``memory_mb`` on top of what the fork inherited; an allocation beyond it
  raises ``MemoryError``), per-cell ``RLIMIT_CPU``, ``max_processes`` (the server kills a worker
  whose session exceeds it; ``RLIMIT_NPROC`` would count all of the user's processes and does not
  bind root), and a private working directory, removed on close unless configured otherwise.
* **No stray processes.** A worker's processes are its session plus all their descendants
  (``proctree.py``); close and restart have the server SIGKILL them and wait until they are dead
  (kills requested together share one ``/proc`` scan). The server is a child subreaper: a process
  that escaped by double fork, or was forked just as its session was killed, becomes its orphan,
  and the sweep kills orphans. If the agent process dies, the server (its control socket closes)
  and each worker (it watches the agent's pidfd) kill themselves. If the server dies (a cell may
  kill it), the agent process kills its workers and all they started (no process limit goes
  unenforced) and the server restarts on the next spawn.
* **Overlap.** ``open_workspace(..., wait=False)`` returns at once and the first cell waits for the
  worker, so the agent starts its worker while the model writes the first step;
  ``Workspace.close(wait=False)`` tears it down in the background (``WorkspaceServer.close`` waits).

Limits of the isolation
-----------------------
This is process isolation with resource limits, for an agent that makes mistakes, **not a security
sandbox** against malicious code: workers run as the same user, read what that user can read, may
kill other processes of that user (the server included; it is restarted, re-running ``preload``, on
the next spawn), and may escape limits a privileged user can raise; unconfined, they also write
wherever that user can and use the network. Linux only (``/proc``, pidfd, ``prctl``). Forking after ``preload`` started threads is
unsafe for libraries whose threads hold locks or form a pool; workers set torch to one thread for
this reason (its OpenMP pool would hang the first parallel operation after the fork).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.workspace.config import WorkspaceConfig
    from agent.workspace.sandbox import CellResult, CellStatus, OpenSandbox, Sandbox, WorkspaceError
    from agent.workspace.server_handle import WorkspaceServer, close_servers, open_workspace, server_for
    from agent.workspace.workspace import Workspace

# Imported on first use: the server process imports this package for its worker modules only, and
# everything it imports makes each fork and each worker's exit slower.
_HOMES = {"Workspace": "workspace", "CellResult": "sandbox", "CellStatus": "sandbox", "OpenSandbox": "sandbox",
          "Sandbox": "sandbox", "WorkspaceError": "sandbox", "WorkspaceConfig": "config",
          "WorkspaceServer": "server_handle", "close_servers": "server_handle", "open_workspace": "server_handle",
          "server_for": "server_handle"}
__all__ = ["CellResult", "CellStatus", "OpenSandbox", "Sandbox", "Workspace", "WorkspaceConfig", "WorkspaceError",
           "WorkspaceServer", "close_servers", "open_workspace", "server_for"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
