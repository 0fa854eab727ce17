"""Runner scaling against a local OpenAI-protocol server that answers after a fixed delay.

Runs the sample benchmark through ``tasks.collection.runner.collect`` with the ``vllm-chat`` client at 1, 16,
64 and 256 concurrent episodes (the fake server runs in its own process, so its CPU is not
counted in the collector's figures). Each episode takes ``--steps`` steps (two LLM calls and one
cell each); the default, 2, is the sample task's expert solution and the episode shape of
``agent_throughput.py``. Every level runs ``--waves`` waves (``waves x c`` episodes through ``c``
slots) and ``--repeats`` times; the run with the median rate counts (the range is printed: this
2-core VM varies by several points from run to run).

Two rates per level. The *steady* rate counts the episodes that finish while all ``c`` slots are
busy, after the first wave and before the drain: from the c-th to the (N-c)-th of the N
completions (each episode's ``started_at + wall_seconds``). That is the rate *at* ``c``
concurrent episodes; it leaves out the start-up burst (``c`` workspaces and connections opened at
once) and the final drain, during which fewer than ``c`` episodes run. The *whole-run* rate
divides all episodes by the wall time of ``collect``, start-up, drain and summary included; it is
printed too, since short runs pay those costs. Efficiency is against ideal scaling from one
episode: rate(c) / (c x rate(1)), each rate against its own kind at c = 1.

``--processes N`` runs each level with ``processes=min(N, c)`` collector processes (see
``tasks.collection.runner``); the default is one.

Also reported per episode: the collector's CPU time (its processes' together) and the RSS growth
of the calling process (with several processes, also their summed peak RSS), and the CPU time of
the whole machine (collector, workspace workers, their server and the fake LLM server together),
from which it prints the share of the machine's cores that ideal scaling would keep busy: near or
above 100 % the cores, not the runner, set the limit. Target: steady efficiency >= 90 % at 64.
The last line is the headline.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import multiprocessing as mp
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from agent.prompt import CODE_TAG, MONOLOGUE_TAG
from agent.scripted import ExpertStep, answer, steps_taken
from core.rundir import SUMMARY, trajectories
from core.serving import free_port
from tasks.collection.config import load_collect_config
from tasks.collection.runner import collect
from tests.fakes.openai_server import Call, FakeLLMServer

LOOKUP = ExpertStep("I look the prices up.", "print(get_price('apple'), get_price('pear'))")
FINAL = ExpertStep(LOOKUP.monologue,
                   "total = 3 * get_price('apple') + 2 * get_price('pear')\ncomplete_task('total', f'{total:.2f}')")


def respond(steps: int, call: Call) -> str:
    """Episodes of ``steps`` steps: price lookups, then a cell that computes and submits the answer."""
    messages = call.body["messages"]  # a chat request: the prefill is not sent, the parts alternate
    tag = MONOLOGUE_TAG if sum(m["role"] == "assistant" for m in messages) % 2 == 0 else CODE_TAG
    return answer(LOOKUP if steps_taken(messages) < steps - 1 else FINAL, tag)


def _serve(port: int, delay: float, steps: int) -> None:
    FakeLLMServer(functools.partial(respond, steps), delay=delay, port=port).serve_forever()


def run(concurrency: int, episodes: int, url: str, root: Path, steps: int, processes: int = 1) -> dict[str, float]:
    cfg = load_collect_config(None, None, [
        f"run_dir={root / f'c{concurrency}'}", "tasks.benchmark=sample", f"trials={episodes}",
        f"concurrency={concurrency}", "prompt.hints=none", "client.backend=vllm-chat",
        "client.model=fake", f"client.base_urls=[{url}]", f"client.max_concurrency={concurrency}",
        f"agent.max_steps={steps}", f"processes={min(processes, concurrency)}",
    ])
    me, shards = psutil.Process(), _Shards()
    cpu0, rss0, machine0 = sum(me.cpu_times()[:2]), me.memory_info().rss, _busy_s()
    if cfg.processes > 1:  # only then: its /proc scans would take the collector's own CPU
        shards.start()
    start = time.perf_counter()
    run_dir = collect(cfg, show_progress=False)
    seconds = time.perf_counter() - start
    shards.stop.set()
    if shards.is_alive():
        shards.join()
    solved = json.loads((run_dir / SUMMARY).read_text())["runs"][0]["pooled"]["mean"]
    if solved != 1.0:
        raise RuntimeError(f"only {solved:.0%} of the episodes were solved; the benchmark measures working episodes")
    ends = sorted(t.finished_at for t in trajectories(run_dir))
    return {"seconds": seconds, "per_min": 60 * episodes / seconds, "steady_per_min": steady_rate(ends, concurrency),
            "cpu_ms": 1000 * (sum(me.cpu_times()[:2]) - cpu0 + shards.seconds) / episodes,
            "machine_cpu_ms": 1000 * (_busy_s() - machine0) / episodes,
            "rss_kb": (me.memory_info().rss - rss0) / 1024 / episodes, "shards_peak_mib": shards.peak_rss / 2**20}


def steady_rate(ends: list[float], concurrency: int) -> float:
    """Episodes per minute between the c-th and the (N-c)-th of the sorted completion times."""
    window = ends[len(ends) - concurrency - 1] - ends[concurrency - 1]
    return 60 * (len(ends) - 2 * concurrency) / window


class _Shards(threading.Thread):
    """Samples this process's collector processes (``tasks.collection.shards``) every 20 ms while it runs: the
    CPU seconds (``seconds``, the sum of their last samples) and the peak RSS of each (``peak_rss``,
    summed); their workspace servers and workers are not included."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.cpu: dict[int, float] = {}
        self.rss: dict[int, int] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.02):
            for child in psutil.Process().children():
                with contextlib.suppress(psutil.Error):
                    if "tasks.collection.shards" in child.cmdline():
                        self.cpu[child.pid] = sum(child.cpu_times()[:2])
                        self.rss[child.pid] = max(self.rss.get(child.pid, 0), child.memory_info().rss)

    @property
    def seconds(self) -> float:
        return sum(self.cpu.values())

    @property
    def peak_rss(self) -> int:
        return sum(self.rss.values())


def _busy_s() -> float:
    """CPU seconds the whole machine spent outside idle so far."""
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0)


def median_run(repeats: int, concurrency: int, episodes: int, url: str, root: Path, steps: int,
               processes: int) -> dict[str, Any]:
    """``repeats`` runs of a level: the run with the median rate, and the range of the rates."""
    runs = sorted((run(concurrency, episodes, url, root / str(i), steps, processes) for i in range(repeats)),
                  key=lambda r: r["steady_per_min"])
    return {**runs[len(runs) // 2], "range": (runs[0]["steady_per_min"], runs[-1]["steady_per_min"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--delay", type=float, default=0.2, help="seconds the server takes per call")
    ap.add_argument("--steps", type=int, default=2, help="steps per episode (two LLM calls each)")
    ap.add_argument("--waves", type=int, default=10, help="episodes per level = waves x concurrency (at least 3)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per level; the median counts")
    ap.add_argument("--levels", default="1,16,64,256")
    ap.add_argument("--processes", type=int, default=1, help="collector processes per level (at most c)")
    args = ap.parse_args()
    if args.waves < 3:
        ap.error("--waves must be at least 3: the steady window lies between the first and the last wave")
    cores = psutil.cpu_count() or 1
    port = free_port()
    server = mp.get_context("spawn").Process(target=_serve, args=(port, args.delay, args.steps), daemon=True)
    server.start()
    time.sleep(2.0)
    url = f"http://127.0.0.1:{port}/v1"
    results: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        run(4, 12, url, Path(tmp) / "warmup", args.steps)
        for c in map(int, args.levels.split(",")):
            episodes = args.waves * c
            r = results[c] = median_run(args.repeats, c, episodes, url, Path(tmp) / f"c{c}", args.steps,
                                        args.processes)
            base = results[min(results)]
            ideal, ideal_whole = c * base["steady_per_min"], c * base["per_min"]
            load = ideal / 60_000 * r["machine_cpu_ms"] / cores
            low, high = (rate / ideal for rate in r["range"])
            peak = f" (+ its processes' peak {r['shards_peak_mib']:.0f} MiB)" if r["shards_peak_mib"] else ""
            print(f"concurrency {c:4d}: steady {r['steady_per_min']:7.0f}/min, efficiency "
                  f"{r['steady_per_min'] / ideal:6.1%} (runs {low:.0%}-{high:.0%}); whole run {episodes:4d} episodes in "
                  f"{r['seconds']:6.2f} s = {r['per_min']:7.0f}/min, efficiency {r['per_min'] / ideal_whole:6.1%}; "
                  f"per episode: collector {r['cpu_ms']:.1f} ms CPU and {r['rss_kb']:.0f} KiB{peak}, machine "
                  f"{r['machine_cpu_ms']:.1f} ms CPU (ideal scaling would keep {load:.0%} of the {cores} cores busy)")
    server.terminate()
    base = results[min(results)]
    eff64 = results[64]["steady_per_min"] / (64 * base["steady_per_min"]) if 64 in results else float("nan")
    whole64 = results[64]["per_min"] / (64 * base["per_min"]) if 64 in results else float("nan")
    print(f"runner scaling, {args.steps}-step episodes at {args.delay * 1000:.0f} ms/call on {cores} cores: "
          f"steady efficiency at 64 concurrent episodes {eff64:.1%} of ideal (whole run {whole64:.1%}), "
          f"{args.processes} collector process(es), median of {args.repeats} runs (target >= 90 %)")


if __name__ == "__main__":
    main()
