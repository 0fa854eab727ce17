"""The one async interface every LLM backend implements.

A :class:`Request` carries chat messages (``[{role, content}]``), the opening tag the response
must start with (``prefill``), stop strings, the number of samples and sampling options. A backend
returns a :class:`Completion`: the generated texts *without* the prefill, usage, logprobs and
sampled token ids where the backend offers them, and why each text ended (``finish_reasons``:
``stop``, ``length``, or ``repetition`` where the backend ends a text that fell into a loop, see
``Request.loop_stop``). Backends decide how to honour the prefill (rendered into the prompt,
assistant prefill, or only cut at the stop string) and say so in their docstring.
"""

from __future__ import annotations

import abc
import json
from typing import Any

from pydantic import BaseModel, Field

from core.trajectory import Usage


class Request(BaseModel):
    messages: list[dict[str, str]]
    prefill: str = ""
    stop: list[str] = Field(default_factory=list)
    n: int = 1
    temperature: float | None = None
    top_p: float | None = None
    min_p: float | None = None
    max_tokens: int = 1000
    loop_stop: int = 32  # end a text that loops (core.llm.sampling.is_looping); 0: off
    seed: int | None = None
    logprobs: bool = False
    extra: dict[str, Any] = Field(default_factory=dict)


class Completion(BaseModel):
    texts: list[str]
    usage: Usage = Field(default_factory=Usage)
    logprobs: list[list[float]] | None = None
    token_ids: list[list[int]] | None = None  # the sampled token ids of each text, where the backend knows them
    finish_reasons: list[str] = Field(default_factory=list)
    seconds: float = 0.0

    @property
    def text(self) -> str:
        return self.texts[0]


class LLMClient(abc.ABC):
    """Async text generation. ``model`` names what is recorded in trajectories."""

    model: str = ""

    @abc.abstractmethod
    async def complete(self, request: Request) -> Completion:
        """Generate ``request.n`` continuations; raise :class:`core.errors.LLMError` on failure."""

    def exact_prompt(self, request: Request) -> str:
        """The prompt as the model receives it (here: the messages and the prefill, as JSON)."""
        return json.dumps({"messages": request.messages, "prefill": request.prefill}, indent=1, ensure_ascii=False)

    async def aclose(self) -> None:  # noqa: B027 (a no-op is the right default)
        """Release connections (no-op by default)."""

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
