"""Concurrency limits per base URL, load balancing over replicas, failover."""

import asyncio
from contextlib import AsyncExitStack

import pytest

from core.llm.base import Request
from core.llm.openai_chat import OpenAIChatClient
from core.llm.retry import RetryPolicy
from tests.fakes.openai_server import FakeLLMServer

pytestmark = pytest.mark.timeout(30)  # a retry loop that hangs fails fast
FAST = RetryPolicy(max_attempts=3, timeout_s=2.0, base_delay_s=0.01, max_delay_s=0.1)
HELLO = Request(messages=[{"role": "user", "content": "hello"}], max_tokens=20)


def vllm(urls: list[str], limit: int = 16) -> OpenAIChatClient:
    return OpenAIChatClient("served", urls, vllm=True, max_concurrency=limit, policy=FAST)


async def test_concurrency_limit_is_respected():
    async with FakeLLMServer(delay=0.2) as server:
        client = vllm([server.openai_url], 3)
        results = await asyncio.gather(*(client.complete(HELLO) for _ in range(12)))
        await client.aclose()
    assert len(results) == 12
    assert server.max_in_flight == 3


async def test_limit_is_shared_by_clients_of_one_endpoint():
    async with FakeLLMServer(delay=0.2) as server:
        a, b = vllm([server.openai_url], 2), vllm([server.openai_url + "/"], 2)
        await asyncio.gather(*(c.complete(HELLO) for c in [a, b] * 5))
        await a.aclose()
        await b.aclose()
    assert server.max_in_flight == 2


async def test_load_is_spread_over_replicas():
    async with AsyncExitStack() as stack:
        servers = [await stack.enter_async_context(FakeLLMServer(delay=0.05)) for _ in range(2)]
        client = vllm([s.openai_url for s in servers], 4)
        await asyncio.gather(*(client.complete(HELLO) for _ in range(16)))
        await asyncio.gather(*(client.complete(HELLO) for _ in range(1)))
        for _ in range(4):  # one at a time: taken in turn
            await client.complete(HELLO)
        await client.aclose()
    assert sorted(len(s.received) for s in servers) == [10, 11]
    assert all(s.max_in_flight <= 4 for s in servers)


async def test_failed_replica_is_retried_on_another():
    async with AsyncExitStack() as stack:
        down, up = [await stack.enter_async_context(FakeLLMServer()) for _ in range(2)]
        await down.go_down()
        client = vllm([down.openai_url, up.openai_url])
        results = [await client.complete(HELLO) for _ in range(6)]
        await client.aclose()
    assert all(r.text for r in results)
    assert len(up.received) == 6


async def test_replica_with_server_errors_is_avoided():
    async with AsyncExitStack() as stack:
        flaky = await stack.enter_async_context(FakeLLMServer(faults=["500"] * 100))
        good = await stack.enter_async_context(FakeLLMServer())
        client = vllm([flaky.openai_url, good.openai_url])
        for _ in range(6):
            await client.complete(HELLO)
        await client.aclose()
    assert len(good.received) == 6
    assert len(flaky.received) <= 1  # once failed, it cools down
