"""Scripted agents that need no model: the benchmark's expert, and a deliberately wrong agent.

The expert replays a benchmark's known-good solution (``Benchmark.expert(task)``: a list of
:class:`agent.scripted.ExpertStep`) through the real agent loop and workspace, so a run with
it proves that tools, tasks and graders agree (100 %). The wrong agent completes every task at
once with an answer that no grader accepts (0 %). Both are selected like any other client, with
``client.backend: scripted-expert`` or ``scripted-wrong``.
"""

from __future__ import annotations

from agent.scripted import ExpertStep, next_step, replay_agent, scripted_agent
from core.llm.base import LLMClient, Request
from core.llm.factory import ClientConfig, make_client
from core.llm.scripted import ScriptedClient
from tasks.task import Benchmark

WRONG_ANSWER = "I do not know."


def expert_client(benchmark: Benchmark) -> ScriptedClient:
    """A client that answers every task of ``benchmark`` with its expert solution."""
    by_text: dict[str, list[ExpertStep]] = {}

    def choose(request: Request) -> ExpertStep:
        text = request.messages[0]["content"]
        if text not in by_text:
            by_text.update(benchmark.expert_index())
        return next_step(by_text[text], request.messages)

    return scripted_agent(choose, model="scripted-expert")


def wrong_client() -> ScriptedClient:
    return replay_agent([ExpertStep("I will answer right away.", f"complete_task('guess', {WRONG_ANSWER!r})")],
                        model="scripted-wrong")


def client_for(config: ClientConfig, benchmark: Benchmark) -> LLMClient:
    if config.backend == "scripted-expert":
        return expert_client(benchmark)
    if config.backend == "scripted-wrong":
        return wrong_client()
    return make_client(config)
