"""LLM judges and the review stage: scripted judge, cache, options, and the local OpenAI-protocol server."""

from __future__ import annotations

import json
import re

import pytest

from core.errors import ConfigError, LLMError
from core.llm.base import Request
from core.llm.factory import ClientConfig
from core.llm.scripted import ScriptedClient
from core.rundir import load_run
from filters.judge import JudgeError, judge_prompt, parse_verdict
from filters.review import load_verdicts, review, review_async
from filters.spec import LIBRARY, load_filter
from tasks.collection.config import TaskSelection
from tasks.experts import expert_client
from tasks.sample import SampleBenchmark
from tests.fakes.agents import faulty_agent
from tests.fakes.openai_server import Call, FakeLLMServer
from tests.test_filters_support import collect_run

JUDGE_FILE = """\
name: retries-unchanged
kind: judge
description: Retries a failing call without changing it.
judge:
  mistake: The last step runs a tool call that raised in the previous step again, unchanged.
  examples:
    - situation: "Step 1 raised KeyError for get_price('kiwis'); step 2 runs get_price('kiwis') again."
      mistake: true
      reasoning: The same failing call is repeated.
hint: The call failed; fix its arguments before running it again.
"""


def verdict_for(prompt: str) -> str:
    """A judge that answers from the last step of the transcript: True when it retries 'apples'."""
    last = prompt.split("### Step")[-1]
    step = int(re.match(r" (\d+)", last).group(1))
    mistake = step > 1 and "get_price('apples')" in last
    return f"<reasoning>step {step}: {'retries' if mistake else 'fine'}</reasoning><answer>{mistake}</answer>"


def scripted_judge(model: str = "judge") -> ScriptedClient:
    return ScriptedClient(lambda r: verdict_for(r.messages[-1]["content"]), model=model)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    bench, sel = SampleBenchmark(), TaskSelection(benchmark="sample")
    return [collect_run(root / "expert", expert_client(bench), bench, sel),
            collect_run(root / "faulty", faulty_agent(), bench, sel)]


@pytest.fixture
def filters(tmp_path):
    judge = tmp_path / "retries-unchanged.yaml"
    judge.write_text(JUDGE_FILE)
    return [LIBRARY / "toolqa" / "repeated-cell.yaml", judge]


def test_review_with_rules_and_a_scripted_judge(runs, filters, tmp_path):
    path = review(runs, filters, tmp_path / "review", judge_client=scripted_judge(), show_progress=False)
    verdicts = load_verdicts(tmp_path / "review", flagged_only=False)
    assert len(verdicts) == 2 * (2 + 4)  # two filters × (2 expert steps + 4 faulty steps)
    flagged = sorted((v.filter, v.run.endswith("faulty"), v.step) for v in verdicts if v.flagged)
    assert flagged == [("repeated-cell", True, 1), ("retries-unchanged", True, 1)]
    judged = next(v for v in verdicts if v.flagged and v.kind == "judge")
    assert judged.reason == "step 2: retries" and judged.hint.startswith("The call failed")
    summary = json.loads((tmp_path / "review" / "review.json").read_text())
    assert summary["flagged"] == {"repeated-cell": 1, "retries-unchanged": 1} and summary["errors"] == 0
    assert path.name == "verdicts.jsonl"


def test_verdicts_are_cached_and_a_review_resumes(runs, filters, tmp_path):
    out = tmp_path / "review"
    judge = scripted_judge()
    review(runs, filters, out, judge_client=judge, show_progress=False)
    first = {v.key: v.flagged for v in load_verdicts(out, flagged_only=False)}
    (out / "verdicts.jsonl").unlink()

    def broken(request: Request) -> str:
        raise LLMError("the judge must not be called again")

    review(runs, filters, out, judge_client=ScriptedClient(broken), show_progress=False)
    assert {v.key: v.flagged for v in load_verdicts(out, flagged_only=False)} == first
    lines = (out / "verdicts.jsonl").read_text().splitlines()
    review(runs, filters, out, judge_client=ScriptedClient(broken), show_progress=False)
    assert (out / "verdicts.jsonl").read_text().splitlines() == lines  # nothing recomputed


def test_unusable_judge_answers_are_recorded_not_cached_and_retried(runs, filters, tmp_path):
    out = tmp_path / "review"
    review(runs, filters, out, judge_client=ScriptedClient(lambda r: "I think so."), show_progress=False)
    verdicts = load_verdicts(out, flagged_only=False)
    errors = [v for v in verdicts if v.error]
    assert len(errors) == 6 and all("JudgeError" in v.error and not v.flagged for v in errors)
    assert not (out / "judge_cache.jsonl").exists() or not (out / "judge_cache.jsonl").read_text()
    review(runs, filters, out, judge_client=scripted_judge(), show_progress=False)
    assert not [v for v in load_verdicts(out, flagged_only=False) if v.error]


def test_judge_prompt_shows_outputs_unless_told_not_to(runs, filters):
    faulty = load_run(runs[1])[0]
    spec = load_filter(filters[1])
    shown = judge_prompt(spec, faulty, 1)
    assert "unknown item" in shown and "<mistake>" in shown and "get_price('kiwis')" in shown  # worked example
    hidden = spec.model_copy(update={"judge": spec.judge.model_copy(update={"show_outputs": False})})
    assert "unknown item" not in judge_prompt(hidden, faulty, 1)
    assert "### Step 3" not in shown  # only steps up to the reviewed one


def test_parse_verdict_forms():
    assert parse_verdict("<reasoning>r</reasoning>\n<answer> true </answer>") == (True, "r")
    assert parse_verdict('Verdict: {"reasoning": "ok", "mistake": false}') == (False, "ok")
    with pytest.raises(JudgeError):
        parse_verdict("<answer>maybe</answer>")


def test_judge_without_client_is_a_config_error(runs, filters, tmp_path):
    with pytest.raises(ConfigError, match="retries-unchanged"):
        review(runs, filters, tmp_path / "review", show_progress=False)


async def test_judge_through_the_local_openai_server(runs, filters, tmp_path):
    def responder(call: Call) -> str:
        return verdict_for(call.prompt)

    async with FakeLLMServer(responder, delay=0.05) as server:
        judge = ClientConfig(backend="vllm-chat", model="judge", base_urls=[server.openai_url], temperature=0.7)
        await review_async(runs, filters, tmp_path / "review", judge_client=judge, concurrency=4,
                           show_progress=False)
    assert len(server.received) == 6 and server.max_in_flight > 1
    assert all(c.body["temperature"] == 0.0 for c in server.received)
    flagged = [(v.filter, v.step) for v in load_verdicts(tmp_path / "review") if v.run.endswith("faulty")]
    assert sorted(flagged) == [("repeated-cell", 1), ("retries-unchanged", 1)]


def test_editing_a_filter_file_makes_the_review_check_again(runs, tmp_path):
    rule = tmp_path / "repeated-cell.yaml"
    rule.write_text((LIBRARY / "toolqa" / "repeated-cell.yaml").read_text())
    review(runs, [rule], tmp_path / "review", show_progress=False)
    rule.write_text(rule.read_text().replace("You are about to run the same cell again", "Same cell again"))
    review(runs, [rule], tmp_path / "review", show_progress=False)
    verdicts = load_verdicts(tmp_path / "review", flagged_only=False)
    assert len(verdicts) == 6 and len((tmp_path / "review" / "verdicts.jsonl").read_text().splitlines()) == 12
    assert [v.hint.split(";")[0] for v in verdicts if v.flagged] == ["Same cell again"]
