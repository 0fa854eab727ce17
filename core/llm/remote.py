"""What every HTTP backend shares: endpoint pool, retries, SDK clients per base URL, pricing.

A subclass builds the request arguments once per :class:`Request` (:meth:`RemoteClient.prepare`)
and sends one attempt to one base URL (:meth:`RemoteClient.send`); this class picks the replica,
retries, makes ``n`` calls when the protocol cannot sample ``n`` at once, times the
call and prices the usage (except on our own servers).
"""

from __future__ import annotations

import abc
import asyncio
import json
import logging
import time
from typing import Any, Generic, TypeVar

from core.config import redact
from core.llm.base import Completion, LLMClient, Request
from core.llm.endpoints import EndpointPool
from core.llm.pricing import priced
from core.llm.retry import RetryPolicy
from core.llm.sampling import SamplingDefaults, with_defaults

log = logging.getLogger(__name__)

SDK = TypeVar("SDK")


class RemoteClient(LLMClient, Generic[SDK]):
    backend: str = "remote"
    single_sample: bool = False  # the protocol has no n: ask n times
    self_hosted: bool = False  # our own server (vLLM): nothing to price

    def __init__(self, model: str, base_urls: list[str], *, api_key: str | None = None,
                 max_concurrency: int = 16, policy: RetryPolicy | None = None,
                 defaults: SamplingDefaults | None = None) -> None:
        self.model = model
        self.api_key = api_key
        self.pool = EndpointPool(base_urls, max_concurrency)
        self.policy = policy or RetryPolicy()
        self.defaults = defaults or SamplingDefaults()
        self._sdks: dict[str, tuple[asyncio.AbstractEventLoop, SDK]] = {}
        self._warned: set[str] = set()

    @abc.abstractmethod
    def make_sdk(self, base_url: str) -> SDK:
        """An SDK client for one base URL, with its own retries off (we retry)."""

    @abc.abstractmethod
    def prepare(self, request: Request) -> dict[str, Any]:
        """The SDK call's arguments for ``request`` (computed once, reused by every attempt)."""

    @abc.abstractmethod
    async def send(self, sdk: SDK, base_url: str, request: Request, args: dict[str, Any]) -> Completion:
        """One attempt; raise :class:`core.llm.retry.MalformedResponse` for an unusable answer."""

    def sdk(self, base_url: str) -> SDK:
        """The SDK client for ``base_url`` in the running loop (connections belong to one loop)."""
        loop = asyncio.get_running_loop()
        cached = self._sdks.get(base_url)
        if cached is None or cached[0] is not loop:
            cached = self._sdks[base_url] = (loop, self.make_sdk(base_url))
        return cached[1]

    def warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            log.warning("%s %s: %s", self.backend, self.model, redact(message))

    def exact_prompt(self, request: Request) -> str:
        """The prompt fields of the request body (messages, and a system prompt where separate), as JSON."""
        args = self.prepare(with_defaults(request, self.defaults))
        return json.dumps({k: args[k] for k in ("system", "messages") if k in args}, indent=1, ensure_ascii=False)

    async def complete(self, request: Request) -> Completion:
        start = time.perf_counter()
        request = with_defaults(request, self.defaults)
        if self.single_sample and request.n > 1:
            one = request.model_copy(update={"n": 1})
            completion = _merge(await asyncio.gather(*(self._call(one) for _ in range(request.n))))
        else:
            completion = await self._call(request)
        if not self.self_hosted:
            completion.usage = priced(self.model, completion.usage)
        completion.seconds = time.perf_counter() - start
        return completion

    async def fit(self, request: Request) -> Request:
        """``request`` made to fit the model's context, or refused, before it is sent (default: as is)."""
        return request

    async def _call(self, request: Request) -> Completion:
        args = self.prepare(await self.fit(request))
        return await self.pool.call(lambda url: self.send(self.sdk(url), url, request, args),
                                    self.policy, what=f"{self.backend} model {self.model!r}")

    async def aclose(self) -> None:
        sdks, self._sdks = self._sdks, {}
        for loop, sdk in sdks.values():
            if loop is asyncio.get_running_loop():
                await sdk.close()


def common_args(model: str, request: Request) -> dict[str, Any]:
    """The OpenAI-protocol fields shared by chat and completions requests (logprobs excluded)."""
    args: dict[str, Any] = {"model": model, "n": request.n, "max_tokens": request.max_tokens}
    for name in ("temperature", "top_p", "seed"):
        if getattr(request, name) is not None:
            args[name] = getattr(request, name)
    if request.stop:
        args["stop"] = request.stop
    return args


def _merge(parts: list[Completion]) -> Completion:
    usage = parts[0].usage
    for part in parts[1:]:
        usage = usage + part.usage
    logprobs = None
    if all(p.logprobs is not None for p in parts):
        logprobs = [lp for p in parts for lp in p.logprobs]
    return Completion(texts=[t for p in parts for t in p.texts], usage=usage, logprobs=logprobs,
                      finish_reasons=[r for p in parts for r in p.finish_reasons])
