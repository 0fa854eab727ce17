"""Endpoints: a concurrency limit per base URL and load balancing over replicas.

Every client that talks to the same base URL (in one event loop) shares one :class:`Endpoint`,
so its ``max_concurrency`` limit holds across clients. An :class:`EndpointPool` spreads calls
over several base URLs (data-parallel vLLM replicas): each attempt goes to the replica with the
fewest calls in flight (ties taken in turn), skipping replicas that failed within the last
``cooldown_s`` seconds while a healthy one is left, so a retry lands on another replica.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from core.config import redact
from core.llm.retry import RetryPolicy, call_with_retries, is_retryable, within

log = logging.getLogger(__name__)

T = TypeVar("T")


class Endpoint:
    """One base URL: a semaphore of ``limit`` slots, calls in flight, time of the last failure."""

    def __init__(self, url: str, limit: int) -> None:
        self.url = url
        self.limit = limit
        self.semaphore = asyncio.Semaphore(limit)
        self.in_flight = 0  # calls holding or waiting for a slot
        self.failed_at: float | None = None
        self.ignored_limits: set[int] = set()

    def cooling(self, now: float, cooldown_s: float) -> bool:
        return self.failed_at is not None and now - self.failed_at < cooldown_s


# Semaphores belong to one event loop, so the registry is per loop.
_REGISTRY: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Endpoint]] = (
    weakref.WeakKeyDictionary())


def shared_endpoint(url: str, limit: int) -> Endpoint:
    """The running loop's :class:`Endpoint` for ``url``; the first caller's ``limit`` holds."""
    endpoints = _REGISTRY.setdefault(asyncio.get_running_loop(), {})
    endpoint = endpoints.get(url)
    if endpoint is None:
        endpoint = endpoints[url] = Endpoint(url, limit)
    elif endpoint.limit != limit and limit not in endpoint.ignored_limits:
        endpoint.ignored_limits.add(limit)
        log.warning("endpoint %s already limited to %d concurrent calls; ignoring limit %d",
                    redact(url), endpoint.limit, limit)
    return endpoint


class EndpointPool:
    def __init__(self, urls: list[str], max_concurrency: int, *, cooldown_s: float = 5.0) -> None:
        if not urls:
            raise ValueError("an endpoint pool needs at least one base URL")
        self.urls = [u.rstrip("/") for u in urls]
        self.max_concurrency = max_concurrency
        self.cooldown_s = cooldown_s
        self._turn = itertools.count()

    def pick(self) -> Endpoint:
        """The least loaded healthy endpoint (all endpoints if none is healthy), ties in turn."""
        endpoints = [shared_endpoint(u, self.max_concurrency) for u in self.urls]
        now = time.monotonic()
        healthy = [e for e in endpoints if not e.cooling(now, self.cooldown_s)] or endpoints
        least = min(e.in_flight for e in healthy)
        candidates = [e for e in healthy if e.in_flight == least]
        return candidates[next(self._turn) % len(candidates)]

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Endpoint]:
        """Hold one concurrency slot of the picked endpoint; mark it failed on a retryable error."""
        endpoint = self.pick()
        endpoint.in_flight += 1
        try:
            async with endpoint.semaphore:
                yield endpoint
            endpoint.failed_at = None
        except Exception as exc:
            if is_retryable(exc):
                endpoint.failed_at = time.monotonic()
            raise
        finally:
            endpoint.in_flight -= 1

    async def call(self, fn: Callable[[str], Awaitable[T]], policy: RetryPolicy, *, what: str) -> T:
        """``fn(base_url)`` with retries, each attempt on a picked endpoint within its time limit."""

        async def attempt() -> T:
            async with self.slot() as endpoint:
                return await within(fn(endpoint.url), policy.timeout_s, endpoint=endpoint.url)

        return await call_with_retries(attempt, policy, what=what)
