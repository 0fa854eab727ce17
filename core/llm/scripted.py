"""A client that replays given responses: for tests, demos and the scripted expert.

Responses come from a list (consumed in order, per conversation length is not tracked) or from a
policy function ``policy(request) -> str`` that may look at the conversation. Token counts are
whitespace word counts unless a ``count_tokens`` function is given.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from core.errors import LLMError
from core.llm.base import Completion, LLMClient, Request
from core.llm.sampling import cut_at_stop
from core.trajectory import Usage

Policy = Callable[[Request], str]


def _words(text: str) -> int:
    return len(text.split())


class ScriptedClient(LLMClient):
    def __init__(self, responses: Iterable[str] | Policy, *, model: str = "scripted",
                 delay: float = 0.0, count_tokens: Callable[[str], int] = _words) -> None:
        self.model = model
        self.delay = delay
        self.count_tokens = count_tokens
        if callable(responses):
            self._policy: Policy | None = responses
            self._queue: list[str] = []
        else:
            self._policy = None
            self._queue = list(responses)

    async def complete(self, request: Request) -> Completion:
        start = time.perf_counter()
        if self.delay:
            await asyncio.sleep(self.delay)
        texts = [self._next(request) for _ in range(request.n)]
        texts = [cut_at_stop(t, request.stop)[0] for t in texts]
        prompt = sum(self.count_tokens(m["content"]) for m in request.messages)
        usage = Usage(input_tokens=prompt, calls=1,
                      output_tokens=sum(self.count_tokens(t) for t in texts))
        return Completion(texts=texts, usage=usage, seconds=time.perf_counter() - start,
                          finish_reasons=["stop"] * len(texts))

    def _next(self, request: Request) -> str:
        if self._policy is not None:
            return self._policy(request)
        if not self._queue:
            raise LLMError("scripted client ran out of responses")
        return self._queue.pop(0)

