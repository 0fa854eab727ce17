"""Scripted agents that need no model: the benchmark's expert, and a deliberately wrong agent.

The expert replays a benchmark's known-good solution (``Benchmark.expert(task)``: a list of
:class:`tasks.toolqa.template.ExpertStep`) through the real agent loop and workspace, so a run with
it proves that tools, tasks and graders agree (100 %). The wrong agent completes every task at
once with an answer that no grader accepts (0 %). Both are selected like any other client, with
``client.backend: scripted-expert`` or ``scripted-wrong``.
"""

from __future__ import annotations

from core.llm.base import LLMClient, Request
from core.llm.factory import ClientConfig, make_client
from core.llm.scripted import ScriptedClient
from tasks.task import Benchmark

WRONG_ANSWER = "I do not know."


def _task_text(request: Request) -> str:
    return request.messages[0]["content"]


def _step_index(request: Request) -> int:
    """How many actions of this kind the agent has already taken."""
    kind = "<inner_monologue>" if "inner_monologue" in request.prefill else "<run_ipython>"
    return sum(1 for m in request.messages if m["role"] == "assistant" and m["content"].startswith(kind))


def expert_client(benchmark: Benchmark) -> ScriptedClient:
    """A client that answers every task of ``benchmark`` with its expert solution."""
    by_text: dict[str, list] = {}

    def policy(request: Request) -> str:
        text = _task_text(request)
        if text not in by_text:
            by_text.update(benchmark.expert_index())
        steps = by_text[text]
        k = min(_step_index(request), len(steps) - 1)
        if "inner_monologue" in request.prefill:
            return f"{steps[k].monologue}\n</inner_monologue>"
        return f"{steps[k].code}\n</run_ipython>"

    return ScriptedClient(policy, model="scripted-expert")


def wrong_client() -> ScriptedClient:
    def policy(request: Request) -> str:
        if "inner_monologue" in request.prefill:
            return "I will answer right away.\n</inner_monologue>"
        return f"complete_task('guess', {WRONG_ANSWER!r})\n</run_ipython>"

    return ScriptedClient(policy, model="scripted-wrong")


def client_for(config: ClientConfig, benchmark: Benchmark) -> LLMClient:
    if config.backend == "scripted-expert":
        return expert_client(benchmark)
    if config.backend == "scripted-wrong":
        return wrong_client()
    return make_client(config)
