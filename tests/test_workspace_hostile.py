"""Hostile cells (issue 15): the server killed with requests queued, forks, closed streams, runaway
threads, cells that outlive their interrupt, and writes outside the episode directory."""

from __future__ import annotations

import asyncio
import os
import signal
import textwrap
from pathlib import Path

import pytest

from agent.workspace import WorkspaceConfig, WorkspaceServer
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
    killed = asyncio.Event()
    results = []

    async def churn(i: int) -> None:
        for round_ in range(12):
            ws = await server.spawn(tools, episode_kwargs={"offset": i}, config=FAST, wait=False)
            if i == 0 and round_ == 3:
                results.append(await ws.run(KILL_SERVER))
                killed.set()
            results.append(await ws.run("lookup(1)"))
            await ws.close(wait=False)

    await asyncio.wait_for(asyncio.gather(*(churn(i) for i in range(8))), 120)
    assert killed.is_set()
    assert all(r.status in ("ok", "crashed") for r in results), [r for r in results if r.status not in ("ok", "crashed")]
    kill = results[[i for i, r in enumerate(results) if "survived" in r.stdout or "server died" in r.note][0]]
    assert kill.status == "crashed" and "workspace server died" in kill.note, kill
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
