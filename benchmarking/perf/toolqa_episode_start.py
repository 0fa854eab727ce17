# %% [markdown]
# # ToolQA episode start with the `standard` flights table
#
# Time from "open a workspace" to "the agent's first cell has the flights table" (``df =
# load_db('flights')``), median over episodes, for
# * **preloaded**: the workspace server read and stringified the table once (``tools.preload``);
#   each episode is a fork that shares it copy-on-write;
# * **re-reading** (baseline): each episode's worker reads and stringifies the CSV itself.
#
# Set the knobs in the first cell, then run the cells, or ``python
# benchmarking/perf/toolqa_episode_start.py``. The last line is the speed-up of preloading
# (baseline median / preloaded median).

# %% tags=["parameters"]
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from agent.episode import ToolSpec
from agent.workspace import close_servers, open_workspace
from core.asyncio_compat import run_sync
from tasks.toolqa.build import build_toolqa_mini
from tasks.toolqa.corpus import Corpus
from tasks.toolqa.tools import ToolQAData, tools_for

EPISODES = 20
BASELINE_EPISODES = 5
ROOT: Path | None = None  # a corpus root with the flights table; None: build one in a temporary folder
PROFILE = "standard"  # the ToolQA-mini profile of the flights table built when ROOT is None

# %%
FIRST_CELL = "df = load_db('flights')\nprint(len(df))"


def bind_rereading(shared: Any, root: str, group: str = "flights") -> dict[str, Any]:
    """Baseline bind: read the corpus table inside the episode's worker (no preloaded state)."""
    return tools_for(ToolQAData(Corpus(root)).load([group]), group)


async def episode_start_ms(tools: ToolSpec, episode_kwargs: dict[str, Any]) -> float:
    start = time.perf_counter()
    async with await open_workspace(tools, episode_kwargs) as ws:
        result = await ws.run(FIRST_CELL)
        elapsed = time.perf_counter() - start
    if result.status != "ok" or not result.stdout.strip().splitlines()[-1].isdigit():
        raise RuntimeError(f"first cell failed: {result.stdout}{result.exception}")
    return 1000 * elapsed


async def measure(root: Path, episodes: int, baseline_episodes: int) -> tuple[list[float], list[float], int]:
    preloaded = ToolSpec(bind="tasks.toolqa.tools:bind", preload="tasks.toolqa.tools:preload",
                         preload_kwargs={"root": str(root), "groups": ["flights"]})
    rereading = ToolSpec(bind="benchmarking.perf.toolqa_episode_start:bind_rereading")
    rows = len(Corpus(root).table("flights"))
    try:
        await episode_start_ms(preloaded, {"group": "flights"})  # starts the server (one preload)
        fast = [await episode_start_ms(preloaded, {"group": "flights"}) for _ in range(episodes)]
        slow = [await episode_start_ms(rereading, {"root": str(root)}) for _ in range(baseline_episodes)]
    finally:
        await close_servers()
    return fast, slow, rows


def main(episodes: int, baseline_episodes: int, root: Path | None, profile: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = root or build_toolqa_mini(Path(tmp) / f"{profile}-flights", profile, groups=["flights"])
        csv_mb = (root / "data/external_corpus/flights/Combined_Flights_2022.csv").stat().st_size / 1e6
        fast, slow, rows = run_sync(measure(root, episodes, baseline_episodes))
    print(f"flights table: {rows} rows, {csv_mb:.1f} MB CSV")
    print(f"preloaded (fork) episode start: median {statistics.median(fast):.1f} ms over {len(fast)} episodes")
    print(f"re-reading CSV episode start:   median {statistics.median(slow):.1f} ms over {len(slow)} episodes")
    print(f"speed-up of preloading: {statistics.median(slow) / statistics.median(fast):.1f}x")


# %% (guarded: the baseline's workspaces import this module for bind_rereading)
if __name__ == "__main__":
    main(EPISODES, BASELINE_EPISODES, ROOT, PROFILE)
