"""What a collection runs: the task selection, the collect config, presets, and the checks made
before anything is written."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import Field

from agent.loop import AgentConfig
from core.config import Config, load_config, load_yaml
from core.llm.base import LLMClient
from core.llm.factory import ClientConfig
from tasks.task import Benchmark, PromptConfig, TaskSet

log = logging.getLogger(__name__)

PRESETS_DIR = Path(__file__).parent.parent / "presets"


class TaskSelection(Config):
    benchmark: str = "toolqa"
    data: str | None = None  # benchmark data: a corpus root, or "tiny"/"standard" for ToolQA-mini
    splits: list[str] | None = None
    groups: list[str] | None = None
    templates: list[str] | None = None
    per_template: int | None = None  # sample at most this many tasks per template
    limit: int | None = None  # then at most this many tasks overall
    seed: int = 0


class CollectConfig(Config):
    run_dir: Path
    preset: str = "custom"
    tasks: TaskSelection = Field(default_factory=TaskSelection)
    prompt: PromptConfig = Field(default_factory=PromptConfig)
    trials: int = 1
    client: ClientConfig = Field(default_factory=lambda: ClientConfig(backend="scripted-expert"))
    agent: AgentConfig = Field(default_factory=AgentConfig)
    concurrency: int = 64
    processes: int = Field(1, ge=1, description="collector processes sharing the episodes and the concurrency")
    retry_outages: bool = Field(True, description="on resume, run again the episodes that ended in llm_error "
                                                  "or workspace_error (the endpoint's or workspace's fault)")
    wandb: bool = False


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def describe_preset(name: str) -> str:
    """One line: the preset's name, trials, sampling (temperature, min_p, seed) and its comment."""
    file = PRESETS_DIR / f"{name}.yaml"
    data = load_yaml(file)
    agent = AgentConfig.model_validate(data.get("agent", {}))
    comment = file.read_text().splitlines()[0].lstrip("# ")
    sampling = f"{agent.sampling or 'custom'} (T={agent.temperature}, min_p={agent.min_p}, seed={agent.seed})"
    return f"{name:26s} trials={data.get('trials', 1)} {sampling:46s} {comment}"


def load_collect_config(preset: str | None = None, path: str | Path | None = None,
                        overrides: Sequence[str] = (), updates: dict[str, Any] | None = None) -> CollectConfig:
    """Preset (one word, see ``tasks/presets/``), then a config file, then ``updates`` (a nested dict
    of Python values), then ``key=value`` overrides."""
    base: dict[str, Any] = {}
    if preset:
        file = PRESETS_DIR / f"{preset}.yaml"
        if not file.exists():
            raise FileNotFoundError(f"unknown preset {preset!r}; choose from {', '.join(preset_names())}")
        base = load_yaml(file)
        base["preset"] = preset
    return load_config(CollectConfig, path, overrides, base=base, updates=updates)


def check_runnable(config: CollectConfig, client: LLMClient | None, benchmark: Benchmark | None) -> None:
    """Raise ``ValueError`` for a config that cannot run as given (before anything is written)."""
    if config.processes > 1 and (client is not None or benchmark is not None):
        raise ValueError("processes > 1 builds the client and the benchmark from the config in every "
                         "collector process; pass neither (or set processes=1)")
    if config.processes > 1 and config.client.backend == "hf-local":
        raise ValueError("processes > 1 with client.backend=hf-local would load the model once per process; "
                         "serve it (mnm serve) and use a vllm-* backend, or set processes=1")
    if config.processes > config.concurrency:
        raise ValueError(f"processes ({config.processes}) exceeds concurrency ({config.concurrency}): "
                         "each collector process needs at least one episode slot")
    if config.agent.sampling == "reference":
        log.warning("sampling=reference (min_p 0.7 at the server's default temperature) is nearly greedy and "
                    "depends on the server version: trials will differ little")


def select_tasks(benchmark: Benchmark, sel: TaskSelection) -> TaskSet:
    ts = TaskSet(benchmark.tasks()).filter(groups=sel.groups, templates=sel.templates, splits=sel.splits)
    if sel.per_template:
        ts = ts.sample(sel.per_template, seed=sel.seed, per="template")
    if sel.limit:
        ts = ts.sample(sel.limit, seed=sel.seed)
    return ts
