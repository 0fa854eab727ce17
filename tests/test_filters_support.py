"""Shared helpers of the filters tests: real runs of scripted agents (:mod:`tests.fakes.agents`)."""

from __future__ import annotations

from pathlib import Path

from core.llm.factory import ClientConfig
from core.llm.scripted import ScriptedClient
from tasks.collection.config import CollectConfig, TaskSelection
from tasks.collection.runner import collect
from tasks.task import Benchmark, PromptConfig


def collect_config(run_dir: Path, client: ScriptedClient, selection: TaskSelection, trials: int = 1,
                   prompt: PromptConfig | None = None) -> CollectConfig:
    return CollectConfig(run_dir=run_dir, tasks=selection, trials=trials, concurrency=4,
                         prompt=prompt or PromptConfig(), client=ClientConfig(backend="scripted", model=client.model))


def collect_run(run_dir: Path, client: ScriptedClient, benchmark: Benchmark, selection: TaskSelection,
                trials: int = 1, prompt: PromptConfig | None = None) -> Path:
    config = collect_config(run_dir, client, selection, trials, prompt)
    return collect(config, client=client, benchmark=benchmark, show_progress=False)
