"""One episode's worker: runs code cells in a persistent namespace (in a process forked by the server).

Everything here runs inside the worker. Output written to fds 1 and 2 (by ``print``, C code and
subprocesses alike) goes through pipes that a thread drains, keeping only the first ``output_cap``
characters of each per cell, so no amount of output is buffered in memory.
"""

from __future__ import annotations

import ast
import builtins
import codecs
import importlib
import inspect
import io
import json
import linecache
import os
import resource
import selectors
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from contextlib import suppress
from typing import TYPE_CHECKING, Any, NoReturn

from agent.workspace import confine, protocol

if TYPE_CHECKING:  # imported by the first cell that awaits: every worker would pay for it
    import asyncio

_OUTPUT_SETTLE_S = 0.1  # how long the end of a cell waits for output still in the pipes


class CPUTimeLimitExceeded(Exception):
    """The cell used more CPU time than the workspace allows."""


class _TaskCompleted(BaseException):
    """Raised by ``complete_task`` to end the cell (a BaseException so ``except Exception`` misses it)."""


def serve(sock: socket.socket, request: dict[str, Any], shared: Any) -> NoReturn:
    """Entry point in the freshly forked child: become a session leader, bind the tools, run cells."""
    status = 1
    try:
        os.setsid()
        protocol.send(sock, {"pid": os.getpid()})  # first, so the agent process can kill us if binding hangs
        _Worker(sock, request, shared).serve()
        status = 0
    except BaseException:
        with suppress(Exception):
            protocol.send(sock, {"error": traceback.format_exc()})
    finally:
        os._exit(status)


class _CappedText:
    """Decodes a byte stream incrementally, keeps the first ``cap`` characters and counts the rest."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.parts: list[str] = []
        self.kept = 0
        self.cut = 0

    def feed(self, data: bytes, final: bool = False) -> None:
        text = self.decoder.decode(data, final)
        room = self.cap - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.cut += max(0, len(text) - max(room, 0))

    def text(self) -> str:
        self.feed(b"", final=True)
        return cap_text("".join(self.parts), self.cap, self.cut)


def cap_text(text: str, cap: int, already_cut: int = 0) -> str:
    cut = already_cut + max(0, len(text) - cap)
    return text[:cap] + (f"\n[... {cut} more characters were cut]" if cut else "")


class _OutputCapture:
    """Points fds 1 and 2 at pipes and drains them in a thread into per-cell capped texts.

    The drain thread keeps the pipes from filling up while a cell runs; at the end of the cell the
    main thread reads what is left itself (no waiting for the thread to be scheduled, which costs
    milliseconds when many workers share a core). The drain thread also watches the agent process
    (pidfd) and kills the worker's process group when the agent dies, so no worker outlives it even
    if the server is gone.
    """

    def __init__(self, cap: int, agent_pid: int) -> None:
        self.cap = cap
        self.lock = threading.Lock()
        self.pipes: dict[int, str] = {}
        self.standard: dict[int, int] = {}  # fd 0, 1, 2 -> a private copy of what it should point at
        for target, name in ((1, "stdout"), (2, "stderr")):
            read_end, write_end = os.pipe()
            os.set_blocking(read_end, False)
            self.standard[target] = write_end
            self.pipes[read_end] = name
        self.standard[0] = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        self.restore()
        self.texts = {name: _CappedText(cap) for name in self.pipes.values()}
        self.selector = selectors.DefaultSelector()
        for fd in self.pipes:
            self.selector.register(fd, selectors.EVENT_READ)
        self.agent = os.pidfd_open(agent_pid)
        self.selector.register(self.agent, selectors.EVENT_READ)
        threading.Thread(target=self._drain, name="workspace-output", daemon=True).start()

    def restore(self) -> None:
        """Point fds 0, 1 and 2 where they belong again (a cell may have closed or redirected them)."""
        for target, fd in self.standard.items():
            os.dup2(fd, target)

    def _drain(self) -> None:
        while True:
            for key, _ in self.selector.select():
                if key.fd == self.agent:
                    os.killpg(os.getpid(), signal.SIGKILL)
                with self.lock:  # read and store under one lock, so `take` sees all bytes read so far
                    self._read(key.fd)

    def _read(self, fd: int) -> bool:
        """Store what ``fd`` holds now; False once it is empty."""
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return False
        self.texts[self.pipes[fd]].feed(data)
        return bool(data)

    def take(self) -> dict[str, str]:
        """The cell's capped stdout and stderr, once the pipes are empty (or output keeps coming)."""
        deadline = time.monotonic() + _OUTPUT_SETTLE_S
        with self.lock:
            for fd in self.pipes:
                while self._read(fd) and time.monotonic() < deadline:
                    pass
            texts = {name: t.text() for name, t in self.texts.items()}
            self.texts = {name: _CappedText(self.cap) for name in self.pipes.values()}
            return texts


def _refuse_input(prompt: object = "") -> NoReturn:
    raise RuntimeError("input() is not available: nobody can type into this workspace; "
                       "compute the value or read it from a file instead")


def no_tools(shared: Any, **episode_kwargs: Any) -> dict[str, Any]:
    """The ``bind`` of episodes without tools (``ToolSpec(bind="agent.workspace.worker:no_tools")``)."""
    return {}


def load_callable(target: str) -> Any:
    """The function named by ``"module:function"``."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _json_safe(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError, OverflowError, RecursionError):
        return repr(value)


def format_exception(error: BaseException) -> str:
    """A plain traceback without the worker's own frames, files named by their module path."""
    formatted = traceback.TracebackException.from_exception(error)  # reads the source lines now
    pending, seen = [formatted], set()
    while pending:
        te = pending.pop()
        if id(te) in seen:
            continue
        seen.add(id(te))
        te.stack = traceback.StackSummary.from_list([f for f in te.stack if f.filename != __file__])
        for frame in te.stack:
            frame.filename = module_path(frame.filename)
        pending.extend(x for x in (te.__cause__, te.__context__) if x is not None)
    return "".join(formatted.format())


def module_path(filename: str) -> str:
    """A module's file as a path inside the package tree it was imported from (``tasks/toolqa/tools.py``,
    ``json/decoder.py``); other names (``<cell-1>``) unchanged. Where the checkout or the interpreter
    lives says nothing to the model, and would make identical episodes differ between machines."""
    for name, module in list(sys.modules.items()):
        if getattr(module, "__file__", None) == filename:
            root = filename
            for _ in range(name.count(".") + 1 + (os.path.basename(filename) == "__init__.py")):
                root = os.path.dirname(root)
            return os.path.relpath(filename, root)
    return filename


class _Worker:
    def __init__(self, sock: socket.socket, request: dict[str, Any], shared: Any) -> None:
        self.sock = sock
        self.config: dict[str, Any] = request["config"]
        self.answer_type: str = request["answer_type"]
        self.cap: int = self.config["output_cap"]
        self.cell = 0
        self.in_cell = False
        self.completion: dict[str, Any] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

        self.pid = os.getpid()
        if request["confine"]:  # first: it needs a single-threaded process
            confine.confine(request["tmpdir"], [request["workdir"]], network=self.config["network"])
            os.environ["TMPDIR"] = request["tmpdir"]
            tempfile.tempdir = None  # gettempdir() looks again
        os.set_inheritable(sock.fileno(), False)  # programs a cell runs never see the channel
        os.register_at_fork(after_in_child=self._detach)
        os.chdir(request["workdir"])
        self.output = _OutputCapture(self.cap, request["agent_pid"])
        self.streams: list[io.TextIOWrapper] = []
        self._reset_stdio()
        builtins.input = _refuse_input
        _limit_inherited_thread_pools()
        signal.signal(signal.SIGINT, self._on_interrupt)
        signal.signal(signal.SIGXCPU, self._on_cpu_limit)

        tools = load_callable(request["bind"])(shared, **request["episode_kwargs"])
        if not isinstance(tools, dict):
            raise TypeError(f"{request['bind']} returned {type(tools).__name__}, expected a dict of tools")
        self.namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins, **tools,
                                          "complete_task": self._complete_task_function()}
        self._take_output()  # whatever binding printed is not the first cell's output
        self.own_threads = {t.ident for t in threading.enumerate()}
        self.cpu_after_cell = time.process_time()
        if self.config["memory_mb"]:  # counted on top of what the fork inherited (e.g. pre-loaded tables)
            limit = _address_space() + self.config["memory_mb"] * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    def serve(self) -> None:
        protocol.send(self.sock, {"ready": True})
        while (request := protocol.receive(self.sock)) is not None:
            background = time.process_time() - self.cpu_after_cell
            if background > self.config["background_cpu_s"]:
                protocol.send(self.sock, {"cell": request["cell"], "background_cpu_s": background})
                continue
            try:
                reply = self.run_cell(request["code"])
            except KeyboardInterrupt:  # arrived just as the cell ended
                reply = {**self._take_output(), "exception": "KeyboardInterrupt", "completion": self.completion}
            self.cpu_after_cell = time.process_time()
            protocol.send(self.sock, {**reply, "cell": request["cell"], "threads": self._cell_threads()})

    def _detach(self) -> None:
        """In a process a cell forked: it must never answer for the worker (its end of the channel is closed)."""
        self.sock.close()

    def _cell_threads(self) -> int:
        """Threads that cells started and that are still running."""
        return sum(t.ident not in self.own_threads for t in threading.enumerate())

    def run_cell(self, code: str) -> dict[str, Any]:
        self.cell += 1
        self.completion = None
        filename = f"<cell-{self.cell}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        self._reset_stdio()
        signal.signal(signal.SIGINT, self._on_interrupt)  # the previous cell may have replaced it
        self._start_cpu_budget()
        exception = ""
        try:
            self.in_cell = True
            self._execute(code, filename)
        except _TaskCompleted:
            pass
        except BaseException as e:  # the agent's error, reported as an observation
            self.in_cell = False
            exception = cap_text(format_exception(e), self.cap)
        finally:
            self.in_cell = False
        if os.getpid() != self.pid:  # a process the cell forked ran to the end of the cell
            for stream in self.streams:
                with suppress(ValueError, OSError):
                    stream.flush()
            os._exit(0)
        return {**self._take_output(), "exception": exception, "completion": self.completion}

    def _take_output(self) -> dict[str, str]:
        for stream in self.streams:
            with suppress(ValueError, OSError):  # the cell may have closed it
                stream.flush()
        return self.output.take()

    def _execute(self, code: str, filename: str) -> None:
        """Run ``code``; like an interactive prompt, show the value of a final expression."""
        tree = ast.parse(code, filename)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        self._await(eval(compile(tree, filename, "exec", flags=flags), self.namespace))
        if last is not None:
            expression = ast.Expression(last.value)
            value = self._await(eval(compile(expression, filename, "eval", flags=flags), self.namespace))
            if value is not None:
                print(repr(value))

    def _await(self, value: Any) -> Any:
        """Finish a cell that used top-level ``await``."""
        if not inspect.iscoroutine(value):
            return value
        if self.loop is None:
            import asyncio

            self.loop = asyncio.new_event_loop()
        return self.loop.run_until_complete(value)

    def _complete_task_function(self) -> Any:
        worker = self

        def complete_task(report: str, answer: Any) -> NoReturn:
            """End the task: ``report`` says what was done, ``answer`` is the result (or an Exception)."""
            if not isinstance(answer, Exception) and type(answer).__name__ != worker.answer_type:
                raise TypeError(f"complete_task needs an answer of type {worker.answer_type}, "
                                f"got {type(answer).__name__}: {cap_text(repr(answer), 200)}")
            worker.completion = {"report": str(report), "answer": _json_safe(answer),
                                 "answer_repr": cap_text(repr(answer), worker.cap),
                                 "answer_type": type(answer).__name__}
            raise _TaskCompleted

        return complete_task

    def _reset_stdio(self) -> None:
        """Undo a previous cell's reassignment, closing or redirection of the standard streams."""
        self.output.restore()
        if not self.streams or any(stream.closed for stream in self.streams):
            self.streams = [io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding="utf-8",
                                             errors="backslashreplace", line_buffering=True) for fd in (1, 2)]
        sys.stdout, sys.stderr, sys.stdin = self.streams[0], self.streams[1], io.StringIO()

    def _start_cpu_budget(self) -> None:
        if not self.config["cpu_seconds"]:
            return
        usage = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(usage.ru_utime + usage.ru_stime) + self.config["cpu_seconds"]
        resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.getrlimit(resource.RLIMIT_CPU)[1]))

    def _on_interrupt(self, signum: int, frame: Any) -> None:
        if self.in_cell:
            raise KeyboardInterrupt

    def _on_cpu_limit(self, signum: int, frame: Any) -> None:
        if self.in_cell:
            raise CPUTimeLimitExceeded(f"the cell used more than {self.config['cpu_seconds']} s of CPU time")


def _limit_inherited_thread_pools() -> None:
    """Keep torch single-threaded in a worker when the server already used its OpenMP pool.

    The pool's threads do not survive ``fork`` and the child's next parallel operation would wait
    for them forever (PyTorch's DataLoader workers do the same for this reason).
    """
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def _address_space() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * resource.getpagesize()
