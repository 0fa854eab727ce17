"""Workspace speed: a trivial cell's round trip and an episode's start, vs a fresh Python per cell.

1. Round trip: median wall time of ``x = 1`` in a warm workspace (``--cells`` runs), against
   running ``python -c "x = 1"`` in a fresh interpreter (``--fresh`` runs), the cost of a design
   without a persistent worker (and one that could not keep variables anyway).
2. Episode start: median time of ``WorkspaceServer.spawn`` (fork from the warm server, bind, ready),
   and the one-off server start.
3. Throughput: ``--concurrent`` workspaces each running ``--cells`` trivial cells at once.
4. Confinement: episode start and round trip with ``confine`` off and on (user and mount namespaces).

    python benchmarking/perf/workspace_roundtrip.py
    python benchmarking/perf/workspace_roundtrip.py --cells 1000 --concurrent 64

The last line is the headline ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time

from agent.episode import ToolSpec
from agent.workspace import WorkspaceConfig, WorkspaceServer

NO_TOOLS = ToolSpec(bind="agent.workspace.worker:no_tools")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, default=200, help="trivial cells per timing")
    parser.add_argument("--fresh", type=int, default=20, help="fresh interpreters for the baseline")
    parser.add_argument("--spawns", type=int, default=20, help="episode starts to time")
    parser.add_argument("--concurrent", type=int, default=64, help="workspaces for the throughput run")
    return parser


def _median_ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000


async def _timed(coro) -> float:
    start = time.perf_counter()
    await coro
    return time.perf_counter() - start


async def main(args: argparse.Namespace) -> None:
    server = WorkspaceServer()
    try:
        server_start = await _timed(server.spawn(NO_TOOLS))  # starts the server, then the first worker
        print(f"server start + first episode: {server_start * 1000:.0f} ms")

        spawns = []
        for _ in range(args.spawns):
            start = time.perf_counter()
            ws = await server.spawn(NO_TOOLS)
            spawns.append(time.perf_counter() - start)
            await ws.close()
        print(f"episode start (spawn): median {_median_ms(spawns):.1f} ms over {args.spawns}")

        async with await server.spawn(NO_TOOLS) as ws:
            await ws.run("x = 1")
            cells = [await _timed(ws.run("x = 1")) for _ in range(args.cells)]

        workspaces = await asyncio.gather(*(server.spawn(NO_TOOLS) for _ in range(args.concurrent)))

        async def many(w):
            for _ in range(args.cells):
                await w.run("x = 1")

        elapsed = await _timed(asyncio.gather(*(many(w) for w in workspaces)))
        await asyncio.gather(*(w.close() for w in workspaces))
        total = args.concurrent * args.cells
        print(f"throughput: {total / elapsed:.0f} cells/s with {args.concurrent} workspaces at once")
        await _confinement(server, args)
    finally:
        await server.close()

    fresh = []
    for _ in range(args.fresh):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "x = 1"], check=True)
        fresh.append(time.perf_counter() - start)

    ours, theirs = _median_ms(cells), _median_ms(fresh)
    print(f"workspace round trip: median {ours:.2f} ms vs fresh python {theirs:.1f} ms "
          f"-> {theirs / ours:.1f}x faster")


async def _confinement(server: WorkspaceServer, args: argparse.Namespace) -> None:
    if server.confinement_error:
        print(f"confinement: not available here ({server.confinement_error})")
        return
    medians = {}
    for confine in (False, True):
        config = WorkspaceConfig(confine=confine)
        spawns = []
        for _ in range(args.spawns):
            start = time.perf_counter()
            ws = await server.spawn(NO_TOOLS, config=config)
            spawns.append(time.perf_counter() - start)
            await ws.close()
        async with await server.spawn(NO_TOOLS, config=config) as ws:
            await ws.run("x = 1")
            cells = [await _timed(ws.run("x = 1")) for _ in range(args.cells)]
        medians[confine] = (_median_ms(spawns), _median_ms(cells))
    (start_off, cell_off), (start_on, cell_on) = medians[False], medians[True]
    print(f"confinement: episode start {start_on:.1f} ms vs {start_off:.1f} ms unconfined "
          f"({start_on / start_off:.2f}x); round trip {cell_on:.2f} ms vs {cell_off:.2f} ms ({cell_on / cell_off:.2f}x)")


if __name__ == "__main__":
    asyncio.run(main(make_parser().parse_args()))
