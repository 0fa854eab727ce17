"""Runner scaling against a local OpenAI-protocol server that answers after a fixed delay.

Runs the sample benchmark through ``tasks.runner.collect`` with the ``vllm-chat`` client at 1, 16,
64 and 256 concurrent episodes (the fake server runs in its own process, so its CPU is not
counted in the collector's figures). Reports episodes per minute, efficiency against ideal
scaling from one episode (throughput(c) / (c x throughput(1))), the collector's CPU time and RSS
growth per episode, and the CPU time per episode of the whole machine (collector, workspace
workers, their server and the fake LLM server together). From the latter it prints the ceiling
that the machine's cores put on the efficiency: with ``n`` cores and ``x`` CPU seconds per
episode no run can exceed ``n / x`` episodes per second, whatever the collector does. Target:
efficiency >= 90 % at 64. The last line is the headline.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import socket
import tempfile
import time
from pathlib import Path

import psutil

from benchmarking.fake_openai_server import Call, FakeLLMServer
from tasks.runner import collect, load_collect_config
from tasks.sample import ANSWER


def respond(call: Call) -> str:
    """A one-step agent: a short monologue, then complete_task with the right answer."""
    if "inner monologue" in call.prompt:
        return "I know the total.\n</inner_monologue>"
    return f"complete_task('total', {ANSWER!r})\n</run_ipython>"


def _serve(port: int, delay: float) -> None:
    import asyncio

    async def main() -> None:
        async with FakeLLMServer(respond, delay=delay, port=port):
            await asyncio.Event().wait()

    asyncio.run(main())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(concurrency: int, episodes: int, url: str, root: Path) -> dict[str, float]:
    cfg = load_collect_config(None, None, [
        f"run_dir={root / f'c{concurrency}'}", "tasks.benchmark=sample", f"trials={episodes}",
        f"concurrency={concurrency}", "prompt.hints=none", "client.backend=vllm-chat",
        "client.model=fake", f"client.base_urls=[{url}]", f"client.max_concurrency={concurrency}",
    ])
    me = psutil.Process()
    cpu0, rss0, machine0 = sum(me.cpu_times()[:2]), me.memory_info().rss, _busy_s()
    start = time.perf_counter()
    collect(cfg, show_progress=False)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "per_min": 60 * episodes / seconds,
            "cpu_ms": 1000 * (sum(me.cpu_times()[:2]) - cpu0) / episodes,
            "machine_cpu_ms": 1000 * (_busy_s() - machine0) / episodes,
            "rss_kb": (me.memory_info().rss - rss0) / 1024 / episodes}


def _busy_s() -> float:
    """CPU seconds the whole machine spent outside idle so far."""
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("--levels", default="1,16,64,256")
    args = ap.parse_args()
    cores = psutil.cpu_count() or 1
    port = _free_port()
    server = mp.get_context("spawn").Process(target=_serve, args=(port, args.delay), daemon=True)
    server.start()
    time.sleep(2.0)
    url = f"http://127.0.0.1:{port}/v1"
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        run(4, 8, url, Path(tmp) / "warmup")
        for c in map(int, args.levels.split(",")):
            episodes = 8 if c == 1 else 4 * c  # four waves: a sustained rate, not one burst
            r = results[c] = run(c, episodes, url, Path(tmp))
            ideal = c * results[min(results)]["per_min"]
            ceiling = min(1.0, cores * 60_000 / r["machine_cpu_ms"] / ideal)
            print(f"concurrency {c:4d}: {episodes:4d} episodes in {r['seconds']:6.2f} s = {r['per_min']:8.0f}/min, "
                  f"efficiency {r['per_min'] / ideal:6.1%} (the {cores} cores allow {ceiling:6.1%}); per episode: "
                  f"collector {r['cpu_ms']:.1f} ms CPU and {r['rss_kb']:.0f} KiB, machine {r['machine_cpu_ms']:.1f} ms CPU")
    server.terminate()
    base = results[min(results)]["per_min"]
    eff64 = results[64]["per_min"] / (64 * base) if 64 in results else float("nan")
    print(f"runner scaling at {args.delay * 1000:.0f} ms/call on {cores} cores: efficiency at 64 concurrent "
          f"episodes {eff64:.1%} of ideal (target >= 90 %)")


if __name__ == "__main__":
    main()
