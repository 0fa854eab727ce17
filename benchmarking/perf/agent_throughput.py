"""Agent loop overhead and concurrency (issue: foundation).

1. Overhead: episodes of the sample task with a zero-latency scripted client, pinned to one CPU
   core (the workspace workers inherit the pinning): steps per second, target >= 100.
2. Concurrency: episodes against a client that takes 200 ms per call, 64 in flight at a time;
   efficiency = measured throughput / (64 x single-episode throughput), target >= 80 %. The
   headline is sustained throughput (4 x 64 episodes through 64 slots, so starts and ends spread
   out as in a real run); a single burst of 64 episodes that start and end in lockstep is printed
   too, as the worst case.
The last line is the headline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

from agent.loop import AgentConfig, run_episode
from agent.scripted import ExpertStep, scripted_agent, steps_taken
from agent.workspace import close_servers
from core.llm.scripted import ScriptedClient
from tasks import sample


def _client(delay: float, steps: int) -> ScriptedClient:
    """Looks prices up for ``steps - 1`` steps, then runs the expert's final cell."""
    lookup = ExpertStep("I look the prices up.", sample.EXPERT[0].code)
    final = ExpertStep(lookup.monologue, sample.EXPERT[1].code)
    return scripted_agent(lambda request: lookup if steps_taken(request.messages) < steps - 1 else final,
                          delay=delay)


async def _episodes(n: int, concurrency: int, delay: float, length: int) -> tuple[float, int]:
    client, sem, cfg = _client(delay, length), asyncio.Semaphore(concurrency), AgentConfig()
    spec = sample.episode(max_steps=length)
    steps = 0

    async def one() -> None:
        nonlocal steps
        async with sem:
            traj = await run_episode(spec, client, cfg, detach_teardown=True)  # as the runner does
        assert sample.grade(traj.outcome.answer) == 1.0, traj.outcome
        steps += len(traj.steps)

    await run_episode(spec, client, cfg)  # warm up the workspace server
    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return time.perf_counter() - start, steps


async def main(episodes: int, concurrency: int, delay: float) -> None:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    seconds, steps = await _episodes(episodes, 1, 0.0, 10)
    rate = steps / seconds
    print(f"overhead: {steps} steps ({episodes} episodes of 10 steps, workspace start included) in "
          f"{seconds:.2f} s on one core -> {rate:.0f} steps/s (target >= 100)")
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))

    one_s, _ = await _episodes(4, 1, delay, 2)
    per_episode = one_s / 4
    burst_s, _ = await _episodes(concurrency, concurrency, delay, 2)
    burst = per_episode / burst_s  # ideal: all episodes in parallel take as long as one
    waves = 4
    sustained_s, _ = await _episodes(waves * concurrency, concurrency, delay, 2)
    efficiency = waves * per_episode / sustained_s
    print(f"concurrency: 1 episode {per_episode * 1000:.0f} ms; a burst of {concurrency} at once {burst_s:.2f} s "
          f"({burst:.0%} of ideal); {waves * concurrency} through {concurrency} slots {sustained_s:.2f} s "
          f"(ideal {waves * per_episode:.2f} s)")
    await close_servers()
    print(f"agent: {rate:.0f} steps/s on one core (>= 100); {concurrency} concurrent episodes at "
          f"{delay * 1000:.0f} ms/call: {efficiency:.0%} of ideal throughput (>= 80 %)")

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--episodes", type=int, default=30)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--delay", type=float, default=0.2)
    args = ap.parse_args()
    asyncio.run(main(args.episodes, args.concurrency, args.delay))
