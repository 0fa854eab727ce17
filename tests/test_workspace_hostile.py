"""Hostile cells (issue 15): the server killed with requests queued, forks, closed streams, runaway
threads, cells that outlive their interrupt, and writes outside the episode directory."""

from __future__ import annotations

import asyncio
import os
import signal
import textwrap
from pathlib import Path

import psutil
import pytest

from agent.workspace import WorkspaceConfig, WorkspaceServer, confine
from tests.test_workspace_faults import FAST, _gone, _session, _tools

KILL_SERVER = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nimport time\ntime.sleep(3)\n'survived'"


@pytest.fixture
async def server(tmp_path: Path):
    server = WorkspaceServer(_tools(tmp_path).preload, _tools(tmp_path).preload_kwargs)
    yield server
    await asyncio.wait_for(server.close(), 60)  # a hang fails the test instead of the suite


async def test_server_killed_with_requests_queued_is_survived(server, tmp_path) -> None:
    """Eight episodes churn (spawn, cells, close in the background) while one cell kills the server:
    every episode ends, the killer's cell is reported, later workspaces run, close returns."""
    tools = _tools(tmp_path)
    killer, results = [], []

    async def churn(i: int) -> None:
        for round_ in range(12):
            ws = await server.spawn(tools, episode_kwargs={"offset": i}, config=FAST, wait=False)
            if i == 0 and round_ == 3:
                killer.append(await ws.run(KILL_SERVER))
            results.append(await ws.run("lookup(1)"))
            await ws.close(wait=False)

    await asyncio.wait_for(asyncio.gather(*(churn(i) for i in range(8))), 120)
    assert killer[0].status == "crashed" and "workspace server died" in killer[0].note, killer
    assert all(r.status in ("ok", "crashed") for r in results), [r for r in results if r.status not in ("ok", "crashed")]
    assert sum(r.status == "ok" for r in results) >= 8 * 12 - 8
    async with await server.spawn(tools, config=FAST) as ws:
        assert (await ws.run("lookup(5)")).stdout == "5\n"


BOMB = textwrap.dedent("""
    import os, time
    for _ in range({n}):
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
    time.sleep(60)
""")


async def test_process_limit_holds_after_the_server_died(server, tmp_path) -> None:
    config = WorkspaceConfig(cell_timeout_s=20, max_processes=8)
    async with await server.spawn(_tools(tmp_path), config=config) as ws:
        await ws.run("x = 1")
        first = server.pid
        os.kill(first, signal.SIGKILL)
        for _ in range(200):  # until the agent process has seen the server go
            if server.orphaned(ws.pid):
                break
            await asyncio.sleep(0.05)
        result = await ws.run(BOMB.format(n=12))
        assert result.status == "crashed" and "more than 8 processes" in result.note, result
        assert "server died" in result.note and result.restarted
        assert (await ws.run("1 + 1")).stdout == "2\n"


async def test_workers_die_with_their_server(server, tmp_path) -> None:
    """A worker whose server is gone has nobody counting its processes: it is killed with all of them."""
    config = WorkspaceConfig(cell_timeout_s=20, max_processes=8)
    async with await server.spawn(_tools(tmp_path), config=config) as ws:
        old = ws.pid
        cell = asyncio.create_task(ws.run(BOMB.format(n=4)))
        while len(_session(old)) < 5:
            await asyncio.sleep(0.05)
        spawned = _session(old)
        os.kill(server.pid, signal.SIGKILL)
        result = await asyncio.wait_for(cell, 30)
        assert result.status == "crashed" and "workspace server died" in result.note, result
        assert _gone(spawned | {old})
        assert (await ws.run("lookup(1)")).stdout == "1\n"


async def test_a_forked_child_never_answers_for_the_worker(server, tmp_path) -> None:
    """The child of ``os.fork()`` in a cell runs on to the end of the cell; only the worker answers."""
    async with await server.spawn(_tools(tmp_path), config=FAST) as ws:
        forked = await ws.run("import os, sys\npid = os.fork()\nprint('child' if pid == 0 else 'parent')\n"
                              "if pid:\n    os.waitpid(pid, 0)")
        assert forked.status == "ok" and sorted(forked.stdout.split()) == ["child", "parent"], forked
        for i in range(5):
            assert (await ws.run(f"{i} * 10")).stdout == f"{i * 10}\n"


async def test_a_reply_for_another_cell_is_refused(server, tmp_path) -> None:
    """Even a process that writes a well-formed reply into the worker's channel cannot swap observations."""
    async with await server.spawn(_tools(tmp_path), config=FAST) as ws:
        forge = textwrap.dedent("""
            import json, os, stat, struct
            data = json.dumps({'cell': 99, 'stdout': 'forged', 'stderr': '', 'exception': ''}).encode()
            for fd in range(3, 100):
                try:
                    if stat.S_ISSOCK(os.fstat(fd).st_mode):
                        os.write(fd, struct.pack('!I', len(data)) + data)
                except OSError:
                    pass
        """)
        result = await ws.run(forge)
        assert result.status == "crashed" and "did not belong to this cell" in result.note, result
        assert (await ws.run("1 + 1")).stdout == "2\n"


@pytest.mark.parametrize("close", ["import os\nos.close(1)\nos.close(2)", "import sys\nsys.stdout.close()",
                                   "import os\nos.dup2(os.open(os.devnull, os.O_WRONLY), 1)"])
async def test_closed_standard_streams_are_restored(server, tmp_path, close) -> None:
    async with await server.spawn(_tools(tmp_path), config=FAST) as ws:
        await ws.run(close)
        result = await ws.run("import sys\nprint('back')\nprint('err', file=sys.stderr)")
        assert (result.status, result.stdout, result.stderr) == ("ok", "back\n", "err\n"), result


async def test_runaway_threads_are_reported_and_stopped(server, tmp_path) -> None:
    config = WorkspaceConfig(cell_timeout_s=10, background_cpu_s=1.0)
    async with await server.spawn(_tools(tmp_path), config=config) as ws:
        await ws.run("x = 1")
        started = await ws.run("import threading\ndef spin():\n    while True:\n        pass\n"
                               "for _ in range(4):\n    threading.Thread(target=spin, daemon=True).start()")
        assert "4 thread(s) that cells started are still running" in started.note, started
        worker = psutil.Process(ws.pid)
        for _ in range(600):  # until the threads have burnt the allowance between cells
            if sum(worker.cpu_times()[:2]) > 2.0:
                break
            await asyncio.sleep(0.1)
        after = await ws.run("'x' in globals()")
        assert after.stdout == "False\n" and after.restarted and "of CPU between cells" in after.note, after
        assert _gone({worker.pid})


async def test_a_cell_that_ignores_its_interrupt_ends_within_its_limit(server, tmp_path) -> None:
    """The interrupt comes ``interrupt_grace_s`` before the limit, so the kill comes at the limit."""
    config = WorkspaceConfig(cell_timeout_s=4, interrupt_grace_s=1.5)
    code = textwrap.dedent("""
        import signal, time
        start = time.monotonic()
        try:
            time.sleep(60)
        except KeyboardInterrupt:
            open('interrupted_after', 'w').write(str(time.monotonic() - start))
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        time.sleep(60)
    """)
    async with await server.spawn(_tools(tmp_path), config=config) as ws:
        result = await ws.run(code)
        assert result.status == "timeout" and result.restarted
        assert "at its limit of 4 s the workspace was killed" in result.note, result
        assert (ws.workdir / "interrupted_after").exists()  # the interrupt came first: the kill ended no handler


ESCAPE = textwrap.dedent("""
    import os, socket, tempfile
    outcomes = []
    for path in [*{outside!r}, os.path.join(tempfile.gettempdir(), 'mine.txt'), 'here.txt', '/dev/shm/x']:
        try:
            open(path, 'w').write('x')
            outcomes.append('wrote')
        except OSError:
            outcomes.append('refused')
    try:
        socket.create_connection(('127.0.0.1', {port}), timeout=2).close()
        outcomes.append('connected')
    except OSError:
        outcomes.append('refused')
    print(*outcomes)
""")


@pytest.mark.skipif(bool(confine.probe()), reason="this machine does not allow unprivileged user namespaces")
async def test_confined_cells_write_only_their_directories_and_reach_no_network(server, tmp_path) -> None:
    listener = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    outside = [tmp_path / "escape.txt", Path.home() / f"mnm-escape-probe-{os.getpid()}.txt"]
    try:
        async with await server.spawn(_tools(tmp_path), config=FAST.model_copy(update={"confine": True})) as ws:
            result = await ws.run(ESCAPE.format(outside=[str(p) for p in outside], port=port))
            assert result.stdout.split() == ["refused", "refused", "wrote", "wrote", "wrote", "refused"], result
            assert not any(p.exists() for p in outside) and (ws.workdir / "here.txt").exists()
            remount = await ws.run("import os\nos.system('mount -o remount,rw / 2>/dev/null')\n"
                                   f"open({str(outside[1])!r}, 'w')")
            assert remount.status == "exception" and not outside[1].exists()
            tmpdir = ws.tmpdir
            assert (tmpdir / "mine.txt").exists()  # the private $TMPDIR
        assert not tmpdir.exists()
        async with await server.spawn(_tools(tmp_path), config=FAST.model_copy(update={"confine": False})) as ws:
            result = await ws.run(ESCAPE.format(outside=[str(outside[0])], port=port))
            assert result.stdout.split() == ["wrote", "wrote", "wrote", "wrote", "connected"], result
    finally:
        listener.close()
        outside[1].unlink(missing_ok=True)


async def test_without_confinement_one_warning_and_cells_still_run(server, tmp_path, caplog, monkeypatch) -> None:
    """Where the server found no user namespaces (injected here), workspaces run unconfined after one warning."""
    monkeypatch.setattr("agent.workspace.server_handle._warned_unconfined", False)
    async with await server.spawn(_tools(tmp_path), config=FAST) as ws:
        server.confinement_error = "OSError: unshare: Operation not permitted"  # the probe's answer elsewhere
        for _ in range(2):
            async with await server.spawn(_tools(tmp_path), config=FAST) as unconfined:
                outside = tmp_path / f"outside-{unconfined.pid}"
                assert (await unconfined.run(f"open({str(outside)!r}, 'w').write('x')")).status == "ok"
                assert outside.exists()
        assert (await ws.run("1")).stdout == "1\n"
    warnings = [r for r in caplog.records if "confinement is not available" in r.getMessage()]
    assert len(warnings) == 1 and "Operation not permitted" in warnings[0].getMessage()
