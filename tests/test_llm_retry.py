"""Retries against injected faults: each fault is retried, or fails with a clear LLMError."""

import email.utils
import time

import httpx2
import openai
import pytest

from core.llm.base import Completion, Request
from core.llm.openai_chat import OpenAIChatClient
from core.llm.retry import LLMCallError, RetryPolicy, backoff_s, call_with_retries, retry_after_s
from tests.fakes.openai_server import FakeLLMServer

pytestmark = pytest.mark.timeout(30)  # a retry loop that hangs fails fast
FAST = RetryPolicy(max_attempts=3, timeout_s=0.5, base_delay_s=0.01, max_delay_s=0.1)
RETRYABLE = ["429", "500", "503", "malformed", "no_choices", "bad_choice", "drop", "timeout"]
HELLO = Request(messages=[{"role": "user", "content": "hello"}], max_tokens=20)


async def ask(server: FakeLLMServer, policy: RetryPolicy = FAST) -> Completion:
    client = OpenAIChatClient("gpt-4o", [server.openai_url], policy=policy)
    try:
        return await client.complete(HELLO)
    finally:
        await client.aclose()


def test_backoff_is_full_jitter_and_capped():
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=3.0)
    delays = [backoff_s(attempt, policy) for attempt in (1, 2, 3, 4) for _ in range(200)]
    assert all(0 <= d <= 3.0 for d in delays)
    assert max(backoff_s(1, policy) for _ in range(200)) <= 1.0
    assert min(backoff_s(1, policy, server_wait=2.0) for _ in range(50)) >= 2.0
    assert backoff_s(1, policy, server_wait=100.0) <= 3.0


@pytest.mark.parametrize("fault", RETRYABLE)
async def test_fault_is_retried_then_succeeds(fault):
    async with FakeLLMServer(faults=[fault], hang_s=5) as server:
        completion = await ask(server)
    assert completion.text == "Hello from the fake server."
    assert len(server.received) == 2


async def test_every_retry_is_a_warning_with_its_cause(caplog):
    async with FakeLLMServer(faults=["503", "timeout"], hang_s=5) as server:
        await ask(server)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "retrying" in r.getMessage()]
    assert len(warnings) == 2
    assert "attempt 1 of 3 failed (HTTP 503" in warnings[0]
    assert "attempt 2 of 3 failed (AttemptTimeout" in warnings[1] and "within 0.5 s" in warnings[1]


@pytest.mark.parametrize("fault", RETRYABLE)
async def test_persistent_fault_gives_clear_error(fault):
    async with FakeLLMServer(faults=[fault] * 3, hang_s=5) as server:
        with pytest.raises(LLMCallError) as err:
            await ask(server)
    assert err.value.attempts == 3 and err.value.retryable
    assert "gave up after 3 attempts" in str(err.value)
    assert f"127.0.0.1:{server.port}" in str(err.value)
    assert err.value.status == (int(fault) if fault.isdigit() else None)


@pytest.mark.parametrize("fault", ["400", "401", "404"])
async def test_client_errors_fail_at_once(fault):
    async with FakeLLMServer(faults=[fault]) as server:
        with pytest.raises(LLMCallError) as err:
            await ask(server)
    assert len(server.received) == 1
    assert err.value.status == int(fault) and not err.value.retryable
    assert f"HTTP {fault}" in str(err.value) and "not retryable" in str(err.value)


async def test_server_down_gives_clear_error():
    async with FakeLLMServer() as server:
        await server.go_down()
        with pytest.raises(LLMCallError, match="gave up after 3 attempts") as err:
            await ask(server)
    assert "ConnectionRefusedError" in str(err.value) and str(server.port) in str(err.value)


async def test_server_that_comes_back_is_reached():
    patient = RetryPolicy(max_attempts=10, timeout_s=0.5, base_delay_s=0.1, max_delay_s=0.2)
    async with FakeLLMServer() as server:
        await server.go_down(seconds=0.3)
        assert (await ask(server, patient)).text
    assert len(server.received) == 1


async def test_retry_after_is_honoured():
    async with FakeLLMServer(faults=["429"], retry_after=0.3) as server:
        start = time.perf_counter()
        await ask(server, FAST.model_copy(update={"max_delay_s": 1.0}))
    assert time.perf_counter() - start >= 0.3


async def test_bugs_are_not_retried():
    calls = []

    async def attempt():
        calls.append(1)
        raise KeyError("a bug, not an endpoint failure")

    with pytest.raises(KeyError):
        await call_with_retries(attempt, FAST, what="test")
    assert len(calls) == 1


def test_retry_after_header_forms():
    def rate_limited(headers: dict[str, str]) -> openai.RateLimitError:
        request = httpx2.Request("POST", "http://127.0.0.1:1/v1/chat/completions")
        return openai.RateLimitError("slow down", response=httpx2.Response(429, headers=headers, request=request),
                                     body=None)

    in_30s = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert retry_after_s(rate_limited({"retry-after": "2"})) == 2.0
    assert retry_after_s(rate_limited({"retry-after-ms": "150"})) == 0.15
    assert 25 < retry_after_s(rate_limited({"retry-after": in_30s})) <= 30
    assert retry_after_s(rate_limited({"retry-after": "soon"})) is None
    assert retry_after_s(rate_limited({})) is None
