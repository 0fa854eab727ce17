"""OpenAI-compatible chat endpoints (OpenAI, DeepSeek, DeepInfra, vLLM in chat mode).

Consecutive same-role messages are joined (:func:`core.messages.alternate_roles`), as the template
backends and training render them. The chat protocol has no assistant prefill: the prompt must ask the model to open its answer
with the tag, and the prefill is *not* sent. If the answer starts with the prefill anyway, it is
removed, so that ``texts`` continue the prefill as with every other backend. Generation is cut
only at the stop strings. vLLM (``vllm=True``) keeps the stop string it stopped at
(``include_stop_str_in_output``) and takes ``min_p`` and ``request.extra`` in the request body;
a request is fitted into its served context before it is sent (:meth:`OpenAIChatClient.fit`).
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
from core.llm.sampling import fit_context, strip_echoed_prefill
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


class OpenAIProtocolClient(RemoteClient[openai.AsyncOpenAI]):
    """What the chat and the vLLM completions backends share: the SDK, and the served context."""

    def __init__(self, model: str, base_urls: list[str], **kwargs: Any) -> None:
        super().__init__(model, base_urls, **kwargs)
        self._context: list[int | None] = []  # the served model's max_model_len, once known

    def make_sdk(self, base_url: str) -> openai.AsyncOpenAI:
        return openai_sdk(base_url, self.api_key, self.policy.timeout_s)

    async def context_length(self) -> int | None:
        """The served model's ``max_model_len`` (vLLM's ``/v1/models``, asked once); None if the server does not say."""
        if not self._context:
            async def ask(url: str) -> list[dict[str, Any]]:
                return json.loads(await self.sdk(url).get("/models", cast_to=bytes))["data"]

            models = await self.pool.call(ask, self.policy, what=f"{self.backend} model list")
            served = next((m for m in models if m.get("id") == self.model), {})
            self._context = [served.get("max_model_len")]
        return self._context[0]


class OpenAIChatClient(OpenAIProtocolClient):
    backend = "openai-chat"

    def __init__(self, model: str, base_urls: list[str], *, vllm: bool = False, **kwargs: Any) -> None:
        super().__init__(model, base_urls, **kwargs)
        self.vllm = self.self_hosted = vllm

    async def fit(self, request: Request) -> Request:
        """On vLLM, ``max_tokens`` clamped to the room the prompt leaves in the served context, or
        the request refused, before it is sent (the prompt is counted by the server's ``/tokenize``)."""
        if not self.vllm or (context := await self.context_length()) is None:
            return request
        return fit_context(request, await self.prompt_tokens(request), context, self.model)

    async def prompt_tokens(self, request: Request) -> int:
        """The prompt's length in tokens as vLLM counts it: its ``/tokenize`` route (at the server's
        root, beside ``/v1``) renders the messages with the served chat template."""
        body = {"model": self.model, "messages": alternate_roles(request.messages), "add_generation_prompt": True}

        async def ask(url: str) -> int:
            root = url.rstrip("/").removesuffix("/v1")
            return int(json.loads(await self.sdk(url).post(f"{root}/tokenize", body=body, cast_to=bytes))["count"])

        return await self.pool.call(ask, self.policy, what=f"{self.backend} token count")

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
