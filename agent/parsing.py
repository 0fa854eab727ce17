"""Robust parsing of the model's monologue and code responses.

The opening tag is prefilled (or requested), so a response is the text *after* it. Every deviation
from the format is recorded as a named problem; problems with the code block are reported back to
the agent as its observation instead of running anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.prompt import CODE_TAG, MONOLOGUE_TAG

CUT_PROBLEMS = {"length": "truncated", "repetition": "repetition"}
"""The problem recorded for a text without its closing tag, by the backend's finish reason."""

_FENCE = re.compile(r"```[a-zA-Z0-9_+-]*\n(.*?)```", re.DOTALL)


@dataclass
class Parsed:
    body: str
    problems: list[str] = field(default_factory=list)
    error: str | None = None  # set when the code must not run; the text is the agent's observation


def _strip_opening(text: str, tag: str, problems: list[str]) -> str:
    stripped = text.lstrip()
    if stripped.startswith(f"<{tag}>"):
        problems.append("repeated_opening_tag")
        return stripped[len(tag) + 2:]
    return text


def _cut_at_close(text: str, tag: str, problems: list[str], cut: str | None) -> str:
    close = f"</{tag}"
    pos = text.find(close)
    if pos < 0:
        problems.append(CUT_PROBLEMS.get(cut or "", "missing_closing_tag"))
        return text
    rest = text[pos + len(close):].lstrip(">").strip()
    if rest:
        problems.append("text_outside_tags")
    return text[:pos]


def parse_monologue(text: str, cut: str | None = None) -> Parsed:
    """``cut``: the finish reason when the backend ended the text early (``length``, ``repetition``)."""
    problems: list[str] = []
    body = _strip_opening(text, MONOLOGUE_TAG, problems)
    body = _cut_at_close(body, MONOLOGUE_TAG, problems, cut)
    if f"<{CODE_TAG}>" in body:
        problems.append("code_in_monologue")
        body = body[: body.find(f"<{CODE_TAG}>")]
    body = body.strip()
    if not body:
        problems.append("empty_monologue")
    return Parsed(body=body, problems=problems)


def parse_code(text: str, cut: str | None = None) -> Parsed:
    """``cut``: as for :func:`parse_monologue`; cut code is not run."""
    problems: list[str] = []
    body = _strip_opening(text, CODE_TAG, problems)
    body = _cut_at_close(body, CODE_TAG, problems, cut)
    blocks = _FENCE.findall(body)
    if len(blocks) > 1:
        problems.append("several_code_blocks")
        return Parsed(body=body.strip(), problems=problems, error=(
            f"Your <{CODE_TAG}> block contained {len(blocks)} separate code blocks, so nothing was run. "
            f"Put the code of one cell directly inside <{CODE_TAG}>...</{CODE_TAG}>, without ``` fences."))
    if blocks:
        problems.append("code_fence")
        body = blocks[0]
    body = body.strip("\n")
    if not body.strip():
        problems.append("empty_code")
        return Parsed(body="", problems=problems, error=(
            f"Your <{CODE_TAG}> block was empty, so nothing was run. Write Python code inside "
            f"<{CODE_TAG}>...</{CODE_TAG}>."))
    if "truncated" in problems:
        return Parsed(body=body, problems=problems, error=(
            "Your code was cut off by the response length limit, so nothing was run. "
            "Write shorter cells."))
    if "repetition" in problems:
        return Parsed(body=body, problems=problems, error=(
            "Your code kept repeating the same lines, so it was cut off and nothing was run. "
            "Write each line once and close the cell with </run_ipython>."))
    return Parsed(body=body, problems=problems)
