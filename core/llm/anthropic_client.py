"""Anthropic Messages API, with the prefill as a final assistant turn.

Mapping from OpenAI-style messages: system messages are joined into ``system=``; consecutive
messages of the same role are merged (the API needs user and assistant turns to alternate); the
prefill becomes (or extends) the final assistant turn. The API rejects trailing whitespace at the
end of a final assistant turn, so it is stripped before sending and the model's output is fixed up
afterwards (:func:`core.llm.sampling.after_prefill`): ``texts`` continue the full prefill. The API
names the stop sequence it stopped at, which is kept at the end of the text as vLLM does. There is
no ``n`` (``n`` calls are made), no seed, no ``min_p`` and no logprobs.

Newer models (Claude 4.6 on) reject an assistant prefill and a ``temperature``: use
``assistant_prefill=False`` (the prefill is then handled as in the chat backend: not sent, removed
from the output if the model writes it) and leave ``temperature`` unset for them.
"""

from __future__ import annotations

from typing import Any

import anthropic
from anthropic.types import Message as AnthropicMessage

from core.llm.base import Completion, Request
from core.llm.remote import RemoteClient
from core.llm.retry import MalformedResponse
from core.llm.sampling import after_prefill, split_prefill, strip_echoed_prefill
from core.messages import alternate_roles
from core.trajectory import Usage

FINISH_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length"}


def to_anthropic(messages: list[dict[str, str]], prefill: str) -> tuple[str, list[dict[str, str]], str]:
    """``(system, alternating messages, whitespace stripped from the final assistant turn)``."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    turns = [m for m in messages if m["role"] != "system"]
    if prefill:
        turns.append({"role": "assistant", "content": prefill})
    merged = alternate_roles(turns)
    trailing = ""
    if merged and merged[-1]["role"] == "assistant":
        head, trailing = split_prefill(merged[-1]["content"])
        if head:
            merged[-1]["content"] = head
        else:
            merged.pop()
    return system, merged, trailing


class AnthropicClient(RemoteClient[anthropic.AsyncAnthropic]):
    backend = "anthropic"
    single_sample = True

    def __init__(self, model: str, base_urls: list[str], *, assistant_prefill: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(model, base_urls, **kwargs)
        self.assistant_prefill = assistant_prefill

    def make_sdk(self, base_url: str) -> anthropic.AsyncAnthropic:
        timeout = self.policy.timeout_s  # aiohttp transport: see core.llm.openai_chat.openai_sdk
        return anthropic.AsyncAnthropic(base_url=base_url, api_key=self.api_key, max_retries=0, timeout=timeout,
                                        http_client=anthropic.DefaultAioHttpClient(timeout=timeout))

    def prepare(self, request: Request) -> dict[str, Any]:
        for name in ("seed", "min_p"):
            if getattr(request, name) is not None:
                self.warn_once(f"{name} is not supported by the Messages API; not sent")
        if request.logprobs:
            self.warn_once("the Messages API gives no logprobs")
        system, messages, _ = to_anthropic(request.messages, self._prefill(request))
        args: dict[str, Any] = {"model": self.model, "messages": messages,
                                "max_tokens": request.max_tokens}
        if system:
            args["system"] = system
        if request.stop:
            args["stop_sequences"] = request.stop
        # anthropic>=1.0 dropped temperature/top_p from create(); its migration guide says extra_body.
        body = {k: getattr(request, k) for k in ("temperature", "top_p") if getattr(request, k) is not None}
        if body or request.extra:
            args["extra_body"] = {**body, **request.extra}
        return args

    async def send(self, sdk: anthropic.AsyncAnthropic, base_url: str, request: Request,
                   args: dict[str, Any]) -> Completion:
        response = await sdk.messages.create(**args)
        if not isinstance(response, AnthropicMessage) or response.content is None or response.usage is None:
            raise MalformedResponse("no content or usage in message", endpoint=base_url)
        text = "".join(b.text for b in response.content if b.type == "text")
        if self.assistant_prefill:
            text = after_prefill(text, to_anthropic(request.messages, request.prefill)[2])
        else:
            text = strip_echoed_prefill(text, request.prefill)
        if response.stop_reason == "stop_sequence" and response.stop_sequence:
            text += response.stop_sequence
        usage = Usage(input_tokens=response.usage.input_tokens, calls=1,
                      output_tokens=response.usage.output_tokens)
        return Completion(texts=[text], usage=usage,
                          finish_reasons=[FINISH_REASONS.get(response.stop_reason or "", "stop")])

    def _prefill(self, request: Request) -> str:
        return request.prefill if self.assistant_prefill else ""
