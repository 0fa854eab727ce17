"""Retries for remote LLM calls: by error class, capped exponential backoff with full jitter.

Retried: HTTP 408/409/429 and 5xx, timeouts (the SDK's or our own per-attempt limit), connection
errors and malformed responses (bad JSON, missing fields). Anything else from an endpoint (400,
401, 403, 404, 422...) fails at once. Exceptions that are not endpoint failures (bugs) propagate
unchanged. A server's ``Retry-After`` wins over the computed delay when it is longer, up to
``max_delay_s``. Waiting uses ``asyncio.sleep`` only. Every retry is logged as a warning with its cause
(a run that waits on a failing server says so at once).

The SDK clients are built with ``max_retries=0``: this loop retries instead, because only it can
move the next attempt to another replica (see :mod:`core.llm.endpoints`).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import BaseModel, Field

from core.errors import LLMError

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRYABLE_STATUS = {408, 409, 429}
_SDKS = ("openai", "anthropic")


def _sdk_errors(name: str) -> tuple[type[Exception], ...]:
    """The exception class ``name`` of each LLM SDK imported so far. An SDK never imported raised
    nothing, and importing both only to classify errors would cost every command a second."""
    return tuple(getattr(sys.modules[sdk], name) for sdk in _SDKS if sdk in sys.modules)


def _status_errors() -> tuple[type[Exception], ...]:
    return _sdk_errors("APIStatusError")


def _connection_errors() -> tuple[type[Exception], ...]:  # timeouts included
    return _sdk_errors("APIConnectionError")


def _malformed_errors() -> tuple[type[Exception], ...]:
    return json.JSONDecodeError, *_sdk_errors("APIResponseValidationError")


class RetryPolicy(BaseModel):
    max_attempts: int = Field(3, ge=1, description="attempts in all, the first one included")
    timeout_s: float = Field(120.0, gt=0, description="limit for one attempt")
    base_delay_s: float = Field(1.0, ge=0, description="backoff before the second attempt (mean half)")
    max_delay_s: float = Field(30.0, ge=0, description="cap on any wait, Retry-After included")


class LLMCallError(LLMError):
    """An endpoint call that failed for good; ``status`` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None, endpoint: str | None, attempts: int,
                 retryable: bool) -> None:
        super().__init__(message, retryable=retryable)
        self.status, self.endpoint, self.attempts = status, endpoint, attempts


class MalformedResponse(LLMError):
    """A response that arrived but cannot be used (raised by backends; retried)."""

    def __init__(self, message: str, *, endpoint: str) -> None:
        super().__init__(f"malformed response from {endpoint}: {message}", retryable=True)
        self.endpoint = endpoint


class AttemptTimeout(LLMError):
    """Our own per-attempt limit ran out (the SDK's may be looser: it limits each read)."""

    def __init__(self, seconds: float, *, endpoint: str) -> None:
        super().__init__(f"no response from {endpoint} within {seconds:g} s", retryable=True)
        self.endpoint = endpoint


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, _status_errors()):
        return exc.status_code in RETRYABLE_STATUS or exc.status_code >= 500
    if isinstance(exc, LLMError):
        return exc.retryable
    return isinstance(exc, _connection_errors() + _malformed_errors())


def status_of(exc: BaseException) -> int | None:
    return exc.status_code if isinstance(exc, _status_errors()) else None


def endpoint_of(exc: BaseException) -> str | None:
    """The URL the failed request went to, when the error knows it."""
    if isinstance(exc, _status_errors()):
        return str(exc.response.request.url)
    if isinstance(exc, _connection_errors()):
        return str(exc.request.url)
    return getattr(exc, "endpoint", None)


def retry_after_s(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms`` or ``retry-after``: seconds or date)."""
    if not isinstance(exc, _status_errors()):
        return None
    headers = exc.response.headers
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / divisor)
        except ValueError:
            pass
    try:
        date = email.utils.parsedate_to_datetime(headers.get("retry-after", ""))
    except (TypeError, ValueError):
        return None
    return max(0.0, date.timestamp() - time.time())


def backoff_s(attempt: int, policy: RetryPolicy, server_wait: float | None = None) -> float:
    """Wait after failed ``attempt`` (1-based): full jitter over ``base * 2**(attempt-1)``, capped."""
    ceiling = min(policy.max_delay_s, policy.base_delay_s * 2 ** (attempt - 1))
    delay = random.uniform(0.0, ceiling)
    if server_wait is not None:
        delay = max(delay, min(server_wait, policy.max_delay_s))
    return delay


def describe(exc: BaseException) -> str:
    """One line: status or error class, endpoint, message, and for transport errors the root cause
    (the SDKs say "Connection error." or even "Request timed out." for a refused connection)."""
    status = status_of(exc)
    where = endpoint_of(exc)
    head = f"HTTP {status}" if status is not None else type(exc).__name__
    text = f"{head} from {where}: {exc}" if where and where not in str(exc) else f"{head}: {exc}"
    root = exc
    while root.__cause__ is not None:
        root = root.__cause__
    if isinstance(exc, _connection_errors()) and root is not exc:
        text += f" ({type(root).__name__}: {root})"
    return text


async def within(awaitable: Awaitable[T], seconds: float, *, endpoint: str) -> T:
    """Await one attempt's network part: :class:`AttemptTimeout` after ``seconds``, and unparsable
    answers as :class:`MalformedResponse`, both naming ``endpoint``."""
    try:
        return await asyncio.wait_for(awaitable, seconds)
    except asyncio.TimeoutError as exc:
        raise AttemptTimeout(seconds, endpoint=endpoint) from exc
    except _malformed_errors() as exc:
        raise MalformedResponse(f"{type(exc).__name__}: {exc}", endpoint=endpoint) from exc


async def call_with_retries(attempt: Callable[[], Awaitable[T]], policy: RetryPolicy, *,
                            what: str) -> T:
    """Run ``attempt`` until it succeeds, fails for good, or ``policy.max_attempts`` are spent.

    ``attempt`` bounds its own network part with :func:`within` (``policy.timeout_s``), so time
    spent queueing for a concurrency slot does not count. A final failure raises
    :class:`LLMCallError` naming ``what``, the status, the endpoint and the number of attempts.
    """
    n = 0
    while True:
        n += 1
        try:
            return await attempt()
        except (*_status_errors(), *_connection_errors(), *_malformed_errors(), LLMError) as exc:
            retryable = is_retryable(exc)
            if not retryable or n >= policy.max_attempts:
                outcome = f"gave up after {n} attempts" if retryable else f"not retryable (attempt {n})"
                raise LLMCallError(
                    f"{what}: {outcome}; last error: {describe(exc)}",
                    status=status_of(exc), endpoint=endpoint_of(exc), attempts=n,
                    retryable=retryable) from exc
            delay = backoff_s(n, policy, retry_after_s(exc))
            log.warning("%s: attempt %d of %d failed (%s); retrying in %.1f s", what, n, policy.max_attempts,
                        describe(exc), delay)
            await asyncio.sleep(delay)
