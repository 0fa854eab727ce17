"""Runner scaling against a local OpenAI-protocol server that answers after a fixed delay.

Runs the sample benchmark through ``tasks.runner.collect`` with the ``vllm-chat`` client at 1, 16,
64 and 256 concurrent episodes (the fake server runs in its own process, so its CPU is not
counted in the collector's figures). Each episode takes ``--steps`` steps (two LLM calls and one
cell each); the default, 2, is the sample task's expert solution and the episode shape of
``agent_throughput.py``. Every level runs ``--waves`` waves (``waves x c`` episodes through ``c``
slots), so fixed costs such as starting the workspace server weigh the same at every level.
Each level runs ``--repeats`` times and the median rate counts (the range is printed: this
2-core VM varies by several points from run to run). Reports episodes per minute, efficiency
against ideal scaling from one episode
(throughput(c) / (c x throughput(1))), the collector's CPU time and RSS growth per episode, and
the CPU time per episode of the whole machine (collector, workspace workers, their server and the
fake LLM server together). From the latter it prints the share of the machine's cores that ideal
scaling would keep busy: near or above 100 % the cores, not the runner, set the limit. Target:
efficiency >= 90 % at 64. The last line is the headline.
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing as mp
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from benchmarking.fake_openai_server import Call, FakeLLMServer
from core.heap import frozen_heap
from tasks.runner import collect, load_collect_config

FINAL_CELL = "total = 3 * get_price('apple') + 2 * get_price('pear')\ncomplete_task('total', f'{total:.2f}')"


def respond(steps: int, call: Call) -> str:
    """Episodes of ``steps`` steps: price lookups, then a cell that computes and submits the answer."""
    done = sum(m["role"] == "assistant" for m in call.body["messages"])  # monologues and cells so far
    if done % 2 == 0:
        return "I look the prices up.\n</inner_monologue>"
    if done // 2 < steps - 1:
        return "print(get_price('apple'), get_price('pear'))\n</run_ipython>"
    return FINAL_CELL + "\n</run_ipython>"


def _serve(port: int, delay: float, steps: int) -> None:
    import asyncio

    async def serve() -> None:
        async with FakeLLMServer(functools.partial(respond, steps), delay=delay, port=port):
            with frozen_heap():
                await asyncio.Event().wait()

    asyncio.run(serve())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(concurrency: int, episodes: int, url: str, root: Path, steps: int) -> dict[str, float]:
    cfg = load_collect_config(None, None, [
        f"run_dir={root / f'c{concurrency}'}", "tasks.benchmark=sample", f"trials={episodes}",
        f"concurrency={concurrency}", "prompt.hints=none", "client.backend=vllm-chat",
        "client.model=fake", f"client.base_urls=[{url}]", f"client.max_concurrency={concurrency}",
        f"agent.max_steps={steps}",
    ])
    me = psutil.Process()
    cpu0, rss0, machine0 = sum(me.cpu_times()[:2]), me.memory_info().rss, _busy_s()
    start = time.perf_counter()
    run_dir = collect(cfg, show_progress=False)
    seconds = time.perf_counter() - start
    solved = json.loads((run_dir / "summary.json").read_text())["runs"][0]["overall"]["mean"]
    if solved != 1.0:
        raise RuntimeError(f"only {solved:.0%} of the episodes were solved; the benchmark measures working episodes")
    return {"seconds": seconds, "per_min": 60 * episodes / seconds,
            "cpu_ms": 1000 * (sum(me.cpu_times()[:2]) - cpu0) / episodes,
            "machine_cpu_ms": 1000 * (_busy_s() - machine0) / episodes,
            "rss_kb": (me.memory_info().rss - rss0) / 1024 / episodes}


def _busy_s() -> float:
    """CPU seconds the whole machine spent outside idle so far."""
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0)


def median_run(repeats: int, concurrency: int, episodes: int, url: str, root: Path, steps: int) -> dict[str, Any]:
    """``repeats`` runs of a level: the run with the median rate, and the range of the rates."""
    runs = sorted((run(concurrency, episodes, url, root / str(i), steps) for i in range(repeats)),
                  key=lambda r: r["per_min"])
    return {**runs[len(runs) // 2], "range": (runs[0]["per_min"], runs[-1]["per_min"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--delay", type=float, default=0.2, help="seconds the server takes per call")
    ap.add_argument("--steps", type=int, default=2, help="steps per episode (two LLM calls each)")
    ap.add_argument("--waves", type=int, default=6, help="episodes per level = waves x concurrency")
    ap.add_argument("--repeats", type=int, default=3, help="runs per level; the median counts")
    ap.add_argument("--levels", default="1,16,64,256")
    args = ap.parse_args()
    cores = psutil.cpu_count() or 1
    port = _free_port()
    server = mp.get_context("spawn").Process(target=_serve, args=(port, args.delay, args.steps), daemon=True)
    server.start()
    time.sleep(2.0)
    url = f"http://127.0.0.1:{port}/v1"
    results: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        run(4, 8, url, Path(tmp) / "warmup", args.steps)
        for c in map(int, args.levels.split(",")):
            episodes = args.waves * c
            r = results[c] = median_run(args.repeats, c, episodes, url, Path(tmp) / f"c{c}", args.steps)
            ideal = c * results[min(results)]["per_min"]
            load = ideal / 60_000 * r["machine_cpu_ms"] / cores
            low, high = (rate / ideal for rate in r["range"])
            print(f"concurrency {c:4d}: {episodes:4d} episodes in {r['seconds']:6.2f} s = {r['per_min']:7.0f}/min, "
                  f"efficiency {r['per_min'] / ideal:6.1%} (runs {low:.0%}-{high:.0%}); per episode: collector "
                  f"{r['cpu_ms']:.1f} ms CPU and {r['rss_kb']:.0f} KiB, machine {r['machine_cpu_ms']:.1f} ms CPU "
                  f"(ideal scaling would keep {load:.0%} of the {cores} cores busy)")
    server.terminate()
    base = results[min(results)]["per_min"]
    eff64 = results[64]["per_min"] / (64 * base) if 64 in results else float("nan")
    print(f"runner scaling, {args.steps}-step episodes at {args.delay * 1000:.0f} ms/call on {cores} cores: "
          f"efficiency at 64 concurrent episodes {eff64:.1%} of ideal, median of {args.repeats} runs "
          f"(target >= 90 %)")


if __name__ == "__main__":
    main()
