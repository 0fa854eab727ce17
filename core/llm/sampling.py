"""Sampling defaults from a client's config, named sampling settings, fitting a request into the
model's context, the degeneration (loop) stop, and the prefill's trailing-whitespace bookkeeping."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from core.errors import LLMError
from core.llm.base import Request


class SamplingDefaults(BaseModel):
    """Values used for request fields the caller did not set explicitly (``None``: leave as is)."""

    temperature: float | None = Field(None, ge=0)
    top_p: float | None = Field(None, gt=0, le=1)
    min_p: float | None = Field(None, ge=0, le=1)
    max_tokens: int | None = Field(None, ge=1)
    loop_stop: int | None = Field(None, ge=0)


def with_defaults(request: Request, defaults: SamplingDefaults) -> Request:
    """``request`` with each default filled in where the request did not set that field itself."""
    update = {k: v for k, v in defaults.model_dump().items()
              if v is not None and k not in request.model_fields_set}
    return request.model_copy(update=update) if update else request


def fit_context(request: Request, prompt_tokens: int, context: int, model: str) -> Request:
    """``request`` with ``max_tokens`` clamped to the room the prompt leaves in a ``context``-token
    window; a prompt that leaves no room is refused (:class:`LLMError`) before anything is sent."""
    room = context - prompt_tokens
    if room < 1:
        raise LLMError(f"{model}: the prompt has {prompt_tokens} tokens and the model's context is {context}: "
                       f"no room to generate")
    return request.model_copy(update={"max_tokens": room}) if request.max_tokens > room else request


LOOP_REPEATS = 3
LOOP_MAX_PERIOD = 100


def is_looping(tokens: Sequence[int], min_tokens: int) -> bool:
    """True when ``tokens`` end in one span (of at most :data:`LOOP_MAX_PERIOD` tokens) repeated
    at least :data:`LOOP_REPEATS` times in a row, the repeats covering at least ``min_tokens``.

    This is the degeneration stop of ``Request.loop_stop``: a small model decoding greedily often
    falls into such a loop (the same sentence or code lines again and again) and would otherwise
    run every call to ``max_tokens``. With ``min_tokens=32`` a one-line loop ends after about 32
    tokens and a 40-token block after its third copy, while ordinary text and code, where a span
    rarely comes three times in a row, is not cut. ``min_tokens=0`` never stops.
    """
    n = len(tokens)
    if min_tokens < 1 or n < min_tokens:
        return False
    for period in range(1, min(LOOP_MAX_PERIOD, n // LOOP_REPEATS) + 1):
        if tokens[-1] != tokens[-1 - period]:
            continue
        span = max(min_tokens, LOOP_REPEATS * period)
        tail = list(tokens[-span:])
        if span <= n and tail[period:] == tail[:-period]:
            return True
    return False


def split_prefill(prefill: str) -> tuple[str, str]:
    """``(prefill without trailing whitespace, the trailing whitespace)``."""
    head = prefill.rstrip()
    return head, prefill[len(head):]


def after_prefill(output: str, trailing: str) -> str:
    """The continuation of a full prefill, from ``output`` that continued the prefill's head.

    Some protocols get only the prefill without its trailing whitespace (``trailing``, e.g. the
    newline after an opening tag). If the model wrote that whitespace, drop it; if it wrote other
    leading whitespace, drop that too, since the prefill's own whitespace stands in for it.
    """
    if not trailing:
        return output
    return output[len(trailing):] if output.startswith(trailing) else output.lstrip()


def strip_echoed_prefill(output: str, prefill: str) -> str:
    """For protocols without prefill: drop the prefill if the model wrote it itself."""
    head, trailing = split_prefill(prefill)
    if head and output.lstrip().startswith(head):
        return after_prefill(output.lstrip()[len(head):], trailing)
    return output


def cut_at_stop(text: str, stops: list[str]) -> tuple[str, str | None]:
    """``text`` up to and including its first stop string, and that stop string (or ``None``)."""
    hits = [(text.find(s), s) for s in stops if s and s in text]
    if not hits:
        return text, None
    pos, stop = min(hits)
    return text[: pos + len(stop)], stop


SamplingName = Literal["greedy", "sampled", "reference"]
SAMPLING: dict[str, dict[str, float | None]] = {
    "greedy": {"temperature": 0.0, "top_p": None, "min_p": None},
    # min_p sampling at the model's own temperature: diverse trials, no tail tokens.
    "sampled": {"temperature": 1.0, "top_p": None, "min_p": 0.1},
    # The reference implementation's vLLM setting: min_p 0.7 at the server's default temperature.
    # Caveat: nearly greedy, and version-dependent (newer vLLM applies the model's generation config).
    "reference": {"temperature": None, "top_p": None, "min_p": 0.7},
}
"""Named sampling settings (temperature, top_p, min_p) for agent, correction and evaluation configs."""
