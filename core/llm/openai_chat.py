"""OpenAI-compatible chat endpoints (OpenAI, DeepSeek, DeepInfra, vLLM in chat mode).

Consecutive same-role messages are joined (:func:`core.messages.alternate_roles`), as the template
backends and training render them. The chat protocol has no assistant prefill: the prompt must ask the model to open its answer
with the tag, and the prefill is *not* sent. If the answer starts with the prefill anyway, it is
removed, so that ``texts`` continue the prefill as with every other backend. Generation is cut
only at the stop strings. vLLM (``vllm=True``) keeps the stop string it stopped at
(``include_stop_str_in_output``) and takes ``min_p`` and ``request.extra`` in the request body.
OpenAI and DeepSeek drop the stop string and do not say which one matched; when a request has a
single stop string and the call finished with ``stop``, that string is appended again (a turn the
model ended itself is then read as closed).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import openai

from core.llm.base import Completion, Request
from core.llm.remote import RemoteClient, common_args
from core.llm.retry import MalformedResponse
from core.llm.sampling import strip_echoed_prefill
from core.messages import alternate_roles
from core.trajectory import Usage


def openai_sdk(base_url: str, api_key: str | None, timeout_s: float) -> openai.AsyncOpenAI:
    """An OpenAI SDK client without its own retries (:mod:`core.llm.retry` retries).

    It uses the aiohttp transport: with many calls in flight the default one spends most of its
    time in connection-pool bookkeeping (measured: 640 calls, 64 in flight, 9.5 s vs 5.3 s).
    """
    return openai.AsyncOpenAI(base_url=base_url, api_key=api_key or "EMPTY", max_retries=0,
                              timeout=timeout_s, http_client=openai.DefaultAioHttpClient(timeout=timeout_s))


async def post_and_read(sdk: openai.AsyncOpenAI, path: str, args: dict[str, Any], endpoint: str,
                        read: Callable[[list[dict[str, Any]]], Completion]) -> Completion:
    """POST ``args`` through the SDK (its errors, timeouts and headers); ``read`` turns the answer's
    choices into a :class:`Completion`, and the usage is added here.

    The body is decoded here as plain JSON, not into the SDK's pydantic response models, and
    ``post()`` skips the deep, typing-driven transform of the params: together they cost several ms
    of CPU per call with long agent conversations and many calls in flight. An answer without
    choices, or whose fields are not what the protocol promises, is a :class:`MalformedResponse`.
    """
    data = json.loads(await sdk.post(path, body=args, cast_to=bytes))
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list) or not data["choices"]:
        raise MalformedResponse(f"no choices in the answer to {path}", endpoint=endpoint)
    try:
        completion = read(data["choices"])
        usage = data.get("usage") or {}
        completion.usage = Usage(input_tokens=usage.get("prompt_tokens") or 0,
                                 output_tokens=usage.get("completion_tokens") or 0, calls=1)
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        raise MalformedResponse(f"unexpected answer to {path}: {type(e).__name__}: {e}", endpoint=endpoint) from e
    return completion


class OpenAIChatClient(RemoteClient[openai.AsyncOpenAI]):
    backend = "openai-chat"

    def __init__(self, model: str, base_urls: list[str], *, vllm: bool = False, **kwargs: Any) -> None:
        super().__init__(model, base_urls, **kwargs)
        self.vllm = self.self_hosted = vllm

    def make_sdk(self, base_url: str) -> openai.AsyncOpenAI:
        return openai_sdk(base_url, self.api_key, self.policy.timeout_s)

    def prepare(self, request: Request) -> dict[str, Any]:
        args = {**common_args(self.model, request), "messages": alternate_roles(request.messages)}
        if request.logprobs:
            args["logprobs"] = True
        if self.vllm:
            args["include_stop_str_in_output"] = True
            if request.min_p is not None:
                args["min_p"] = request.min_p
        elif request.min_p is not None:
            self.warn_once("min_p is a vLLM option; not sent")
        return {**args, **request.extra}

    async def send(self, sdk: openai.AsyncOpenAI, base_url: str, request: Request,
                   args: dict[str, Any]) -> Completion:
        return await post_and_read(sdk, "/chat/completions", args, base_url,
                                   lambda choices: self._read(choices, request, base_url))

    def _read(self, choices: list[dict[str, Any]], request: Request, base_url: str) -> Completion:
        texts, logprobs, reasons = [], [], []
        for choice in choices:
            content = choice["message"]["content"]
            if not isinstance(content, str):
                raise MalformedResponse("a choice without message content", endpoint=base_url)
            reasons.append(choice.get("finish_reason") or "")
            texts.append(self._text(content, reasons[-1], request))
            logprobs.append([t["logprob"] for t in (choice.get("logprobs") or {}).get("content") or []])
        return Completion(texts=texts, logprobs=logprobs if request.logprobs else None, finish_reasons=reasons)

    def _text(self, content: str, finish_reason: str | None, request: Request) -> str:
        content = strip_echoed_prefill(content, request.prefill)
        if (not self.vllm and finish_reason == "stop" and len(request.stop) == 1
                and not content.endswith(request.stop[0])):
            content += request.stop[0]
        return content
