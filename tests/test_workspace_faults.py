"""Faulty cells: each ends in a clear observation, a bystander workspace keeps working, and no process is left."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from agent.episode import ToolSpec
from agent.workspace import Workspace, WorkspaceConfig, WorkspaceServer, proctree

FAST = WorkspaceConfig(cell_timeout_s=5, interrupt_grace_s=0.5)


def _tools(tmp_path: Path) -> ToolSpec:
    return ToolSpec(bind="tests.workspace_tools:bind", preload="tests.workspace_tools:preload",
                    preload_kwargs={"size": 10, "counter": str(tmp_path / "preloads.txt")})


@pytest.fixture
async def server(tmp_path: Path):
    server = WorkspaceServer(_tools(tmp_path).preload, _tools(tmp_path).preload_kwargs)
    yield server
    await server.close()


@pytest.fixture
async def bystander(server: WorkspaceServer, tmp_path: Path):
    async with await server.spawn(_tools(tmp_path), config=FAST) as ws:
        await ws.run("n = 0")
        yield ws


async def _alongside(bystander: Workspace, fault):
    """Run ``fault`` while the bystander keeps running short cells; return the fault's result."""
    done = asyncio.Event()

    async def keep_working() -> list[str]:
        outputs = []
        while not done.is_set():
            result = await bystander.run("n += 1\nn", timeout=5)
            assert result.status == "ok", result
            outputs.append(result.stdout)
            await asyncio.sleep(0.05)
        return outputs

    worker = asyncio.create_task(keep_working())
    try:
        return await fault
    finally:
        done.set()
        outputs = await worker
        assert outputs == [f"{i}\n" for i in range(int(outputs[0]), int(outputs[0]) + len(outputs))]


def _gone(pids: set[int], within_s: float = 30.0) -> bool:
    """Whether all ``pids`` have ended (zombies count as ended) within ``within_s``."""
    end = time.monotonic() + within_s
    while time.monotonic() < end:
        if not any(_running(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _session(pid: int) -> set[int]:
    return proctree.tree(proctree.scan(), {pid})


async def test_infinite_loop_is_interrupted_and_keeps_variables(server, bystander, tmp_path) -> None:
    async with await server.spawn(_tools(tmp_path), config=FAST) as ws:
        await ws.run("x = 7")
        result = await _alongside(bystander, ws.run("while True:\n    pass", timeout=1))
        assert (result.status, result.restarted) == ("timeout", False)
        assert "KeyboardInterrupt" in result.exception and "interrupted after 0.5 s of its 1 s limit" in result.note
        assert (await ws.run("x")).stdout == "7\n"


async def test_loop_ignoring_interrupts_is_killed_and_replaced(server, bystander, tmp_path) -> None:
    async with await server.spawn(_tools(tmp_path), config=FAST) as ws:
        await ws.run("x = 7\nimport signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)")
        old = ws.pid
        code = "signal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
        result = await _alongside(bystander, ws.run(code, timeout=1))
        assert (result.status, result.restarted) == ("timeout", True)
        assert "variables were lost" in result.note
        assert _gone({old}) and not _session(old)
        after = await ws.run("x")
        assert after.status == "exception" and "NameError" in after.exception and ws.pid != old


async def test_unbounded_allocation_raises_memory_error(server, bystander, tmp_path) -> None:
    config = WorkspaceConfig(cell_timeout_s=10, memory_mb=256)
    async with await server.spawn(_tools(tmp_path), config=config) as ws:
        code = "blocks = []\nwhile True:\n    blocks.append(bytearray(2**24))"
        result = await _alongside(bystander, ws.run(code))
        assert result.status == "exception" and "MemoryError" in result.exception
        assert (await ws.run("del blocks\nlen('still alive')")).stdout == "11\n"


@pytest.mark.parametrize(("code", "how"), [("import os\nos._exit(3)", "exited with code 3"),
                                           ("import os\nos.kill(os.getpid(), 9)", "killed by signal SIGKILL")])
async def test_a_dying_worker_is_replaced(server, bystander, tmp_path, code, how) -> None:
    async with await server.spawn(_tools(tmp_path), config=FAST) as ws:
        await ws.run("x = 7")
        old = ws.pid
        result = await _alongside(bystander, ws.run(code))
        assert (result.status, result.restarted) == ("crashed", True)
        assert how in result.note and "variables were lost" in result.note
        assert _gone({old})
        assert "NameError" in (await ws.run("x")).exception
        assert (await ws.run("lookup(3)")).stdout == "3\n"


async def test_fork_bomb_over_max_processes_is_killed(server, bystander, tmp_path) -> None:
    config = WorkspaceConfig(cell_timeout_s=20, max_processes=8)
    code = textwrap.dedent("""
        import os, time
        for _ in range(12):
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
        time.sleep(60)
    """)
    async with await server.spawn(_tools(tmp_path), config=config) as ws:
        old = ws.pid
        result = await _alongside(bystander, ws.run(code))
        assert result.status == "crashed" and "more than 8 processes" in result.note
        assert _gone(_session(old) | {old}) and not _session(old)
        assert (await ws.run("1 + 1")).stdout == "2\n"


ESCAPES = textwrap.dedent("""
    import os, time
    def child(escape):
        pid = os.fork()
        if pid == 0:
            escape()
            time.sleep(60)
            os._exit(0)
        return pid
    def daemon():
        os.setsid()
        grandchild = os.fork()
        if grandchild:
            open('daemon.pid', 'w').write(str(grandchild))
            os._exit(0)
    pids = [child(lambda: os.setpgid(0, 0)), child(os.setsid), child(daemon)]
    while not os.path.exists('daemon.pid'):
        time.sleep(0.01)
    pids.append(int(open('daemon.pid').read()))
    print(*pids)
""")


async def test_processes_that_leave_the_session_are_killed_on_timeout(server, bystander, tmp_path) -> None:
    async with await server.spawn(_tools(tmp_path), config=FAST) as ws:
        old = ws.pid
        spawned = {int(p) for p in (await ws.run(ESCAPES)).stdout.split()}
        assert len(spawned) == 4
        stuck = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(60)"
        result = await _alongside(bystander, ws.run(stuck, timeout=1))
        assert result.restarted
        assert _gone(spawned | {old}) and not _session(old)


async def test_close_kills_everything_the_worker_started(server, tmp_path) -> None:
    ws = await server.spawn(_tools(tmp_path), config=FAST)
    old = ws.pid
    spawned = {int(p) for p in (await ws.run(ESCAPES)).stdout.split()}
    await ws.close()
    assert _gone(spawned | {old}) and not _session(old)


async def test_printing_ten_megabytes_is_capped(server, bystander, tmp_path) -> None:
    async with await server.spawn(_tools(tmp_path), config=FAST) as ws:
        result = await _alongside(bystander, ws.run("import sys\nsys.stderr.write('e' * 10_000_000)\n"
                                                    "for _ in range(1000):\n    print('o' * 10_000)"))
        assert result.status == "ok"
        assert result.stdout.startswith("o" * 4000) and "9997000 more characters were cut" in result.stdout
        assert result.stderr.startswith("e" * 4000) and "9996000 more characters were cut" in result.stderr


async def test_killing_the_server_restarts_it_and_its_workspaces(server, bystander, tmp_path) -> None:
    """A dead server's workers are killed (nothing would enforce their limits), so their variables are
    lost; each workspace, and the server, restarts on the next cell."""
    async with await server.spawn(_tools(tmp_path), config=FAST) as ws:
        first_server = server.pid
        await ws.run("x = 7")
        old = ws.pid
        killed = await ws.run("import os, time\nos.kill(os.getppid(), 9)\ntime.sleep(3)\n'still here'")
        assert killed.status == "crashed" and "workspace server died" in killed.note, killed
        assert _gone({first_server, old}) and not _session(old)
        after = await ws.run("'x' in globals()")
        assert after.stdout == "False\n" and killed.restarted
        assert (await bystander.run("lookup(2)")).stdout == "2\n"
        async with await server.spawn(_tools(tmp_path), config=FAST) as fresh:
            assert (await fresh.run("lookup(2)")).stdout == "2\n"
            assert server.pid not in (None, first_server)
        assert len((tmp_path / "preloads.txt").read_text().split()) == 2
        old = ws.pid
    assert _gone({old}) and not _session(old)


async def test_input_is_refused(server, bystander, tmp_path) -> None:
    async with await server.spawn(_tools(tmp_path), config=FAST) as ws:
        result = await _alongside(bystander, ws.run("name = input('your name? ')"))
        assert result.status == "exception" and "input() is not available" in result.exception
        assert (await ws.run("import sys\nsys.stdin.read()")).stdout == "''\n"


async def test_cpu_limit_raises_in_the_cell(server, tmp_path) -> None:
    config = WorkspaceConfig(cell_timeout_s=20, cpu_seconds=1)
    async with await server.spawn(_tools(tmp_path), config=config) as ws:
        result = await ws.run("while True:\n    pass")
        assert result.status == "exception" and "CPUTimeLimitExceeded" in result.exception
        assert (await ws.run("1")).status == "ok"


async def test_close_and_cancel_during_a_cell(server, tmp_path) -> None:
    ws = await server.spawn(_tools(tmp_path), config=FAST)
    await ws.run("x = 7")
    cancelled = asyncio.create_task(ws.run("import time\ntime.sleep(30)"))
    await asyncio.sleep(0.3)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    after = await ws.run("'fresh' if 'x' not in globals() else 'stale'")
    assert after.stdout == "'fresh'\n" and after.restarted and "did not finish" in after.note
    running = asyncio.create_task(ws.run("import time\ntime.sleep(30)"))
    await asyncio.sleep(0.3)
    old = ws.pid
    await ws.close()
    result = await running
    assert result.status == "crashed" and "closed" in result.note
    assert _gone({old})


def test_workers_die_with_the_agent_process(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import asyncio, os, signal
        from agent.episode import ToolSpec
        from agent.workspace import open_workspace
        async def main():
            ws = await open_workspace(ToolSpec(bind="tests.workspace_tools:bind"))
            print(ws.pid, ws.server.pid, flush=True)
            await ws.run("import os\\nif os.fork() == 0:\\n    import time; time.sleep(60)")
            os.kill(os.getpid(), signal.SIGKILL)
        asyncio.run(main())
    """)
    agent = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                           cwd=Path(__file__).parent.parent)
    assert agent.returncode == -signal.SIGKILL, agent.stderr
    worker, server = map(int, agent.stdout.split())
    assert _gone({worker, server}) and not _session(worker)
    assert os.getpid() != worker
