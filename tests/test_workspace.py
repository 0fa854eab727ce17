"""The workspace's normal behaviour: persistence, tools, shared preload, complete_task, output, concurrency."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import psutil
import pytest

from agent.episode import ToolSpec
from agent.workspace import (
    Workspace,
    WorkspaceConfig,
    WorkspaceError,
    WorkspaceServer,
    close_servers,
    open_workspace,
    proctree,
)
from agent.workspace.zygote import SWEEP_INTERVAL_S

TOOLS = ToolSpec(bind="tests.workspace_tools:bind", preload="tests.workspace_tools:preload",
                 preload_kwargs={"size": 1000})
FAST = WorkspaceConfig(cell_timeout_s=5, interrupt_grace_s=0.5)


@pytest.fixture
async def server():
    server = WorkspaceServer(TOOLS.preload, TOOLS.preload_kwargs)
    yield server
    await server.close()


async def test_variables_persist_and_a_final_expression_is_shown(server: WorkspaceServer) -> None:
    async with await server.spawn(TOOLS, config=FAST) as ws:
        assert (await ws.run("x = 20\ndef double(v):\n    return 2 * v")).status == "ok"
        result = await ws.run("y = double(x) + 2\ny")
        assert (result.stdout, result.status, result.exception) == ("42\n", "ok", "")
        assert (await ws.run("None")).stdout == ""
        assert (await ws.run("import asyncio\nawait asyncio.sleep(0)\nx")).stdout == "20\n"


async def test_cells_run_with_one_openmp_and_blas_thread(server: WorkspaceServer) -> None:
    async with await server.spawn(TOOLS, config=FAST) as ws:
        result = await ws.run("import os\n[os.environ[k] for k in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', "
                              "'MKL_NUM_THREADS')]")
        assert result.stdout == "['1', '1', '1']\n"


async def test_exceptions_are_plain_tracebacks_of_the_cell(server: WorkspaceServer) -> None:
    async with await server.spawn(TOOLS, config=FAST) as ws:
        result = await ws.run("a = 1\nb = a / 0")
        assert result.status == "exception"
        assert result.exception.startswith("Traceback (most recent call last):\n  File \"<cell-1>\", line 2")
        assert result.exception.rstrip().endswith("ZeroDivisionError: division by zero")
        assert "workspace" not in result.exception
        syntax = await ws.run("def f(:\n  pass")
        assert syntax.status == "exception" and "SyntaxError" in syntax.exception
        assert (await ws.run("a")).stdout == "1\n"


async def test_tracebacks_name_files_by_module_path(server: WorkspaceServer) -> None:
    """Not by where the checkout lives: the same episode gives the same text on every machine."""
    async with await server.spawn(TOOLS, config=FAST) as ws:
        result = await ws.run("import json\nlookup(10**9)")
        assert 'File "tests/workspace_tools.py", line' in result.exception
        assert "return table[i] + offset" in result.exception
        assert str(Path(__file__).resolve().parent) not in result.exception
        decode = await ws.run("json.loads('{')")
        assert 'File "json/decoder.py", line' in decode.exception and 'File "json/__init__.py"' in decode.exception


async def test_tools_are_bound_with_episode_kwargs_in_a_private_workdir(server: WorkspaceServer) -> None:
    ws = await server.spawn(TOOLS, episode_kwargs={"offset": 100}, config=FAST)
    assert ws.workdir.is_dir()
    result = await ws.run("print(lookup(5))\nprint(workdir())\nopen('notes.txt', 'w').write('hi')")
    assert result.stdout.splitlines()[:2] == ["105", str(ws.workdir.resolve())]
    assert (ws.workdir / "notes.txt").read_text() == "hi"
    await ws.close()
    assert not ws.workdir.exists()
    await ws.close()  # idempotent
    with pytest.raises(WorkspaceError):
        await ws.run("1")


async def test_a_given_workdir_is_kept(server: WorkspaceServer, tmp_path: Path) -> None:
    async with await server.spawn(TOOLS, workdir=tmp_path, config=FAST) as ws:
        await ws.run("open('answer.txt', 'w').write('42')")
    assert (tmp_path / "answer.txt").read_text() == "42"


async def test_preload_runs_once_and_workers_share_its_object(tmp_path: Path) -> None:
    counter = tmp_path / "preloads.txt"
    tools = ToolSpec(bind="tests.workspace_tools:bind", preload="tests.workspace_tools:preload",
                     preload_kwargs={"counter": str(counter)})
    try:
        workspaces = await asyncio.gather(*(open_workspace(tools, config=FAST) for _ in range(3)))
        seen = [await ws.run("print(preload_pid(), table_address(), lookup(999_999))") for ws in workspaces]
        lines = {r.stdout for r in seen}
        assert len(lines) == 1
        preload_pid = int(lines.pop().split()[0])
        assert counter.read_text().split() == [str(preload_pid)]
        assert preload_pid not in {ws.pid for ws in workspaces}
        for ws in workspaces:
            await ws.close()
    finally:
        await close_servers()


async def test_complete_task_checks_the_answer_type_by_class_name(server: WorkspaceServer) -> None:
    async with await server.spawn(TOOLS, answer_type="int", config=FAST) as ws:
        wrong = await ws.run("complete_task('done', '42')")
        assert wrong.completion is None and wrong.status == "exception"
        assert "TypeError: complete_task needs an answer of type int, got str" in wrong.exception
        right = await ws.run("print('before')\ncomplete_task('found it', 42)\nprint('never')")
        assert right.status == "ok" and right.stdout == "before\n"
        assert right.completion == {"report": "found it", "answer": 42, "answer_repr": "42", "answer_type": "int"}


async def test_complete_task_accepts_exceptions_and_makes_answers_json_safe(server: WorkspaceServer) -> None:
    async with await server.spawn(TOOLS, answer_type="set", config=FAST) as ws:
        result = await ws.run("try:\n    complete_task('r', {1, 2})\nexcept Exception:\n    pass")
        assert result.completion is not None and result.completion["answer"] == "{1, 2}"
        failed = await ws.run("complete_task('no data', ValueError('missing'))")
        assert failed.completion is not None
        assert failed.completion["answer_type"] == "ValueError"
        assert failed.completion["answer_repr"] == "ValueError('missing')"


async def test_output_is_captured_per_stream_and_capped(server: WorkspaceServer) -> None:
    config = WorkspaceConfig(output_cap=100, cell_timeout_s=10)
    async with await server.spawn(TOOLS, config=config) as ws:
        result = await ws.run("import sys, subprocess\nprint('out')\nprint('err', file=sys.stderr)\n"
                              "subprocess.run(['echo', 'from a subprocess'])")
        assert result.stdout.startswith("out\nfrom a subprocess\n") and result.stderr == "err\n"
        big = await ws.run("print('x' * 10_000_000)")
        assert big.stdout == "x" * 100 + "\n[... 9999901 more characters were cut]"
        lines = await ws.run("for i in range(200_000):\n    print(i)")
        assert lines.stdout.startswith("0\n1\n2\n") and len(lines.stdout) < 200
        assert (await ws.run("print('next cell')")).stdout == "next cell\n"
        error = await ws.run("raise ValueError('v' * 1000)")
        assert len(error.exception) < 200 and "more characters were cut" in error.exception


async def test_workspaces_run_concurrently(server: WorkspaceServer, tmp_path: Path) -> None:
    """16 cells meet at a barrier (each marks its arrival, then waits for all 16): cells run one after
    the other would each see only themselves."""
    config = FAST.model_copy(update={"confine": False, "cell_timeout_s": 90})  # the barrier is in tmp_path
    workspaces: list[Workspace] = await asyncio.gather(*(server.spawn(TOOLS, config=config) for _ in range(16)))
    cell = (f"import os, pathlib, time\nhere = pathlib.Path({str(tmp_path)!r})\n(here / str(os.getpid())).touch()\n"
            "deadline = time.monotonic() + 60\n"
            "while len(list(here.iterdir())) < 16 and time.monotonic() < deadline:\n    time.sleep(0.01)\n"
            "len(list(here.iterdir()))")
    results = await asyncio.gather(*(ws.run(cell) for ws in workspaces))
    await asyncio.gather(*(ws.close() for ws in workspaces))
    assert [r.stdout for r in results] == ["16\n"] * 16, results[0]


async def test_many_workspaces_open_and_close_at_once_through_a_full_control_socket(server: WorkspaceServer) -> None:
    """Spawn and kill requests that find the server's socket buffer full wait their turn, none is lost."""
    first = await server.spawn(TOOLS, config=FAST)
    assert server._control is not None
    server._control.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1)  # the kernel's minimum: fills at once
    workspaces = [first, *await asyncio.wait_for(
        asyncio.gather(*(server.spawn(TOOLS, config=FAST) for _ in range(40))), 60)]
    await asyncio.wait_for(asyncio.gather(*(ws.close() for ws in workspaces)), 60)
    assert not [p for p in psutil.Process(server.pid).children() if p.status() != psutil.STATUS_ZOMBIE]


async def test_broken_bind_and_preload_raise_workspace_errors(server: WorkspaceServer) -> None:
    with pytest.raises(WorkspaceError, match="cannot be bound"):
        await server.spawn(TOOLS.model_copy(update={"bind": "tests.workspace_tools:bind_broken"}))
    broken = WorkspaceServer("tests.workspace_tools:no_such_preload")
    tools = ToolSpec(bind="tests.workspace_tools:bind", preload="tests.workspace_tools:no_such_preload")
    for _ in range(2):  # the failure is remembered, not retried
        with pytest.raises(WorkspaceError, match="no_such_preload"):
            await broken.spawn(tools)
    await broken.close()


async def test_torch_works_in_workers_after_the_server_used_its_thread_pool() -> None:
    tools = ToolSpec(bind="tests.workspace_tools:bind", preload="tests.workspace_tools:preload_torch")
    server = WorkspaceServer(tools.preload)
    try:
        async with await server.spawn(tools, config=WorkspaceConfig(cell_timeout_s=20)) as ws:
            result = await ws.run("import torch\na = torch.randn(300, 300)\nfor _ in range(5):\n"
                                  "    a = a @ a / 300\nprint(torch.get_num_threads(), a.shape)")
            assert result.stdout == "1 torch.Size([300, 300])\n", result
    finally:
        await server.close()


async def test_processes_started_by_preload_are_not_swept() -> None:
    tools = ToolSpec(bind="tests.workspace_tools:bind", preload="tests.workspace_tools:preload",
                     preload_kwargs={"size": 10, "helper": True})
    server = WorkspaceServer(tools.preload, tools.preload_kwargs)
    async with await server.spawn(tools, config=FAST) as ws:
        helper = psutil.Process(int((await ws.run("helper_pid()")).stdout))
        await asyncio.sleep(3 * SWEEP_INTERVAL_S)
        alive = helper.is_running() and helper.status() != psutil.STATUS_ZOMBIE
    await server.close()
    helper.kill()
    assert alive


async def test_a_background_start_is_awaited_by_the_first_cell(server: WorkspaceServer, tmp_path: Path) -> None:
    marker = tmp_path / "go"
    slow = TOOLS.model_copy(update={"bind": "tests.workspace_tools:bind_when"})
    ws = await server.spawn(slow, episode_kwargs={"marker": str(marker)}, config=FAST, wait=False)
    assert ws.pid is None  # returned while the worker still waits for the marker
    marker.touch()
    assert (await ws.run("lookup(3)")).stdout == "3\n"
    await ws.close()
    broken = await server.spawn(TOOLS.model_copy(update={"bind": "tests.workspace_tools:bind_broken"}),
                                config=FAST, wait=False)
    with pytest.raises(WorkspaceError, match="cannot be bound"):
        await broken.run("1")
    await broken.close()


async def test_closing_in_the_background_finishes_before_the_server_closes(tmp_path: Path) -> None:
    server = WorkspaceServer(TOOLS.preload, TOOLS.preload_kwargs)
    ws = await server.spawn(TOOLS, config=FAST)
    await ws.run("import subprocess\nchild = subprocess.Popen(['sleep', '30'])")
    worker = ws.pid
    marker = tmp_path / "go"
    starting = await server.spawn(TOOLS.model_copy(update={"bind": "tests.workspace_tools:bind_when"}),
                                  episode_kwargs={"marker": str(marker)}, config=FAST, wait=False)
    await asyncio.wait_for(ws.close(wait=False), 30)
    # before its worker is up (it waits for the marker): waiting for it would never end
    await asyncio.wait_for(starting.close(wait=False), 30)
    marker.touch()
    await server.close()
    assert not ws.workdir.exists() and not starting.workdir.exists()
    assert not proctree.tree(proctree.scan(), {worker})
