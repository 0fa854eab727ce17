"""Shared helpers of the filters tests: scripted agents and real runs on the sample benchmark.

A scripted agent is a list of (monologue, code) steps replayed through the real agent loop and
workspace, so its trajectories are recorded exactly as a model's would be.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from core.llm.base import Request
from core.llm.factory import ClientConfig
from core.llm.scripted import ScriptedClient
from tasks.collection.config import CollectConfig, TaskSelection
from tasks.collection.runner import collect
from tasks.task import Benchmark, PromptConfig

Steps = Sequence[tuple[str, str]]

# A faulty agent on the sample task: a wrong item name, then the same failing cell again, then a
# fix, then a computed answer returned without having been printed.
FAULTY_SAMPLE: Steps = [
    ("I look up the price of apples.", "a = get_price('apples')\nprint(a)"),
    ("Let me run it once more.", "a = get_price('apples')\nprint(a)"),
    ("The error says the item is unknown: names are singular, so I use 'apple' and 'pear'.",
     "a, p = get_price('apple'), get_price('pear')\nprint(a, p)"),
    ("Now I compute the total and return it.", "total = 3 * a + 2 * p\ncomplete_task('total', f'{total:.2f}')"),
]


def step_index(request: Request) -> int:
    """How many actions of the requested kind the conversation already holds."""
    tag = "<inner_monologue>" if "inner_monologue" in request.prefill else "<run_ipython>"
    return sum(1 for m in request.messages if m["role"] == "assistant" and m["content"].startswith(tag))


def respond(request: Request, monologue: str, code: str) -> str:
    if "inner_monologue" in request.prefill:
        return f"{monologue}\n</inner_monologue>"
    return f"{code}\n</run_ipython>"


def scripted_agent(steps: Steps, model: str = "scripted-faulty") -> ScriptedClient:
    def policy(request: Request) -> str:
        mono, code = steps[min(step_index(request), len(steps) - 1)]
        return respond(request, mono, code)

    return ScriptedClient(policy, model=model)


def collect_config(run_dir: Path, client: ScriptedClient, selection: TaskSelection, trials: int = 1,
                   prompt: PromptConfig | None = None) -> CollectConfig:
    return CollectConfig(run_dir=run_dir, tasks=selection, trials=trials, concurrency=4,
                         prompt=prompt or PromptConfig(), client=ClientConfig(backend="scripted", model=client.model))


def collect_run(run_dir: Path, client: ScriptedClient, benchmark: Benchmark, selection: TaskSelection,
                trials: int = 1, prompt: PromptConfig | None = None) -> Path:
    config = collect_config(run_dir, client, selection, trials, prompt)
    return collect(config, client=client, benchmark=benchmark, show_progress=False)
