"""LLM-judge filters: one prompt per mistake, a structured verdict, temperature 0, cached.

The judge sees the task, every step up to the one under review (monologue and code) and, unless
the filter says ``show_outputs: false``, the cells' outputs, the reviewed step's own output
included (the paper's judges never saw outputs; many mistakes only show in them). A review can
override every judge's setting (``mnm review --paper``: no outputs, the paper's protocol). It answers
``<reasoning>...</reasoning><answer>True|False</answer>`` where ``True`` means *the last step
makes the mistake*; a JSON object ``{"reasoning": ..., "mistake": true|false}`` is accepted too.
Verdicts are cached in a JSONL file keyed by filter, trajectory, step and prompt hash, so a
re-run (or a resumed review) never asks twice.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from pydantic import BaseModel

from agent.prompt import CODE_TAG, MONOLOGUE_TAG, close_tag, open_tag
from core.errors import MnmError
from core.llm.base import LLMClient, Request
from core.store import JsonlStore
from core.trajectory import Trajectory
from filters.base import Check, Filter
from filters.spec import FilterSpec, JudgeSpec

DEFAULT_PROMPT = """\
You review one step of an AI agent. The agent solves a task by thinking in an inner monologue and \
then running a cell of Python code in a Jupyter-like environment that has the task's tools.

You look for ONE specific mistake:
<mistake>
{mistake}
</mistake>
{examples}
Here is what the agent did so far; the step under review is the last one.
<trajectory>
{transcript}
</trajectory>

Does the LAST step make the mistake described above? Judge only the last step. First reason \
briefly inside <reasoning>...</reasoning>, then answer <answer>True</answer> if the last step \
makes the mistake, or <answer>False</answer> if it does not."""

_ANSWER = re.compile(r"<answer>\s*(true|false)\s*</answer>", re.IGNORECASE)
_REASONING = re.compile(r"<reasoning>(.*?)</reasoning>", re.DOTALL | re.IGNORECASE)


class JudgeError(MnmError):
    """A judge response without a usable verdict."""


def render_examples(spec: JudgeSpec) -> str:
    if not spec.examples:
        return ""
    blocks = [f"<example>\n{e.situation.strip()}\n<reasoning>{e.reasoning.strip()}</reasoning>"
              f"<answer>{e.mistake}</answer>\n</example>" for e in spec.examples]
    return "\nWorked examples:\n" + "\n".join(blocks) + "\n"


def transcript(traj: Trajectory, step: int, show_outputs: bool = True) -> str:
    """The task and steps ``0..step`` as plain text for a judge."""
    task = next((m.text for m in traj.messages if m.kind == "task"), "")
    parts = [task.strip()]
    for s in traj.steps[: step + 1]:
        text = (f"### Step {s.index + 1}\n{open_tag(MONOLOGUE_TAG)}{s.monologue}\n{close_tag(MONOLOGUE_TAG)}\n"
                f"{open_tag(CODE_TAG)}{s.code}\n{close_tag(CODE_TAG)}")
        if show_outputs:
            text += f"\n{s.observation}"
        parts.append(text)
    return "\n\n".join(parts)


def judge_prompt(spec: FilterSpec, traj: Trajectory, step: int) -> str:
    j = spec.judge
    assert j is not None, "judge_prompt needs a judge filter"
    fields = {"{mistake}": j.mistake.strip(), "{examples}": render_examples(j),
              "{transcript}": transcript(traj, step, j.show_outputs)}
    text = j.prompt or DEFAULT_PROMPT
    for placeholder, value in fields.items():  # not str.format: prompts may show JSON braces
        text = text.replace(placeholder, value)
    return text


def parse_verdict(text: str) -> Check:
    """``Check(flagged, reasoning)`` from a judge response; :class:`JudgeError` if there is none."""
    answers = _ANSWER.findall(text)
    if answers:
        reasoning = _REASONING.search(text)
        return Check(answers[-1].lower() == "true", (reasoning.group(1) if reasoning else "").strip())
    start, end = text.find("{"), text.rfind("}")
    if start >= 0 and end > start:
        try:
            obj = json.loads(text[start : end + 1])
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict) and isinstance(obj.get("mistake"), bool):
            return Check(obj["mistake"], str(obj.get("reasoning", "")).strip())
    raise JudgeError(f"no <answer>True|False</answer> in judge response: {text[:200]!r}")


class CachedVerdict(BaseModel):
    key: str
    response: str
    model: str = ""


class JudgeCache:
    """Judge responses on disk (JSONL), keyed by filter, trajectory, step and prompt hash."""

    def __init__(self, path: str | Path) -> None:
        self.store = JsonlStore(path, CachedVerdict)
        self._seen = self.store.latest_by_key()

    @staticmethod
    def key(filter_name: str, traj: Trajectory, step: int, prompt: str) -> str:
        digest = hashlib.sha256(prompt.encode()).hexdigest()[:16]
        return f"{filter_name}|{traj.key}|{step}|{digest}"

    def get(self, key: str) -> str | None:
        hit = self._seen.get(key)
        return hit.response if hit else None

    def put(self, key: str, response: str, model: str) -> None:
        record = CachedVerdict(key=key, response=response, model=model)
        self.store.append(record)
        self._seen[key] = record


class JudgeFilter(Filter):
    """A judge filter asking ``client`` (temperature 0) about one step at a time."""

    def __init__(self, spec: FilterSpec, client: LLMClient, cache: JudgeCache | None = None,
                 max_tokens: int = 800) -> None:
        super().__init__(spec)
        self.client, self.cache, self.max_tokens = client, cache, max_tokens

    async def acheck(self, traj: Trajectory, step: int) -> Check:
        prompt = judge_prompt(self.spec, traj, step)
        key = JudgeCache.key(self.name, traj, step, prompt)
        response = self.cache.get(key) if self.cache else None
        if response is None:
            request = Request(messages=[{"role": "user", "content": prompt}], temperature=0.0,
                              max_tokens=self.max_tokens)
            response = (await self.client.complete(request)).text
            verdict = parse_verdict(response)  # raises before an unusable answer is cached
            if self.cache:
                self.cache.put(key, response, self.client.model)
            return verdict
        return parse_verdict(response)
