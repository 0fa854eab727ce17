"""A local LLM server speaking the OpenAI and Anthropic HTTP protocols, with scheduled faults.

Routes: ``POST /v1/chat/completions``, ``POST /v1/completions`` (OpenAI / vLLM),
``POST /v1/messages`` (Anthropic), ``GET /v1/models`` and vLLM's ``POST /tokenize`` (with
``max_model_len`` only). Each generation request is answered by
a responder function after ``delay`` seconds; the text is cut at the request's stop strings (kept
only when the request sets vLLM's ``include_stop_str_in_output``) and at ``max_tokens`` words.
Token counts are whitespace word counts. Faults are injected by request number (0-based, over
generation routes): ``429`` (with ``Retry-After``), ``500``, ``503``, ``400``, ``401``, ``404``,
``timeout`` (hang for ``hang_s``), ``malformed`` (HTTP 200 with broken JSON), ``no_choices`` (valid
JSON without the answer), ``bad_choice`` (a choice whose text is null) and ``drop`` (close the
connection without a response); a server that is down (connection refused) is
:meth:`FakeLLMServer.go_down`. Binds to 127.0.0.1 only.

In tests::

    async with FakeLLMServer(delay=0.01, faults=["500", None]) as server:
        ...  # server.openai_url, server.received, server.max_in_flight

    with FakeLLMServer() as server:  # runs in a thread with its own event loop

For perf benchmarks::

    python -m tests.fakes.openai_server --delay 0.2 --port 8011 [--fault-rate 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from aiohttp import web

from core.heap import frozen_heap
from core.llm.sampling import cut_at_stop

Fault = Literal["429", "500", "503", "400", "401", "404", "timeout", "malformed", "no_choices", "bad_choice",
                "drop"]
Route = Literal["chat", "completions", "messages", "tokenize"]
HOST = "127.0.0.1"


@dataclass
class Call:
    """One generation request as received: the route, its JSON body, the sample index."""

    route: Route
    body: dict[str, Any]
    index: int = 0

    @property
    def prompt(self) -> str:
        """The completions prompt, or the last message's text for chat-style routes."""
        if self.route == "completions":
            return self.body["prompt"]
        return _text(self.body["messages"][-1]["content"])


def _text(content: str | list[dict[str, Any]]) -> str:
    """Message content as text (Anthropic content may be a list of blocks)."""
    return content if isinstance(content, str) else "".join(b.get("text", "") for b in content)


Responder = Callable[[Call], str]
FaultSchedule = Sequence[Fault | None] | Callable[[int], Fault | None]


def default_responder(call: Call) -> str:
    return "Hello from the fake server."


def _words(text: str) -> int:
    return len(text.split())


def _prompt_words(body: dict[str, Any]) -> int:
    """The prompt's token count: the chat messages' words, or the completions prompt's."""
    if "messages" in body:
        return sum(_words(_text(m["content"])) for m in body["messages"])
    return _words(body["prompt"])


def _cut(text: str, stops: list[str], keep_stop: bool, max_tokens: int | None) -> tuple[str, str | None, bool]:
    """(text, stop string hit or None, cut at max_tokens)."""
    text, stop = cut_at_stop(text, stops)
    if stop and not keep_stop:
        text = text[: -len(stop)]
    if max_tokens is not None and _words(text) > max_tokens:
        return " ".join(text.split()[:max_tokens]), None, True
    return text, stop, False


class FakeLLMServer:
    def __init__(self, responder: Responder = default_responder, *, delay: float = 0.0,
                 faults: FaultSchedule = (), retry_after: float = 0.05, hang_s: float = 30.0,
                 port: int = 0, model: str = "fake-model", max_model_len: int | None = None) -> None:
        self.responder = responder
        self.delay = delay
        self.faults = faults
        self.retry_after = retry_after
        self.hang_s = hang_s
        self.port = port
        self.model = model
        self.max_model_len = max_model_len  # announced by /v1/models as vLLM does, when set
        self.received: list[Call] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._comeback: asyncio.Task[None] | None = None

    @property
    def openai_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    @property
    def anthropic_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/completions", self._completions)
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_get("/v1/models", self._models)
        if self.max_model_len is not None:
            app.router.add_post("/tokenize", self._tokenize)
        # handler_cancellation: a client that gives up cancels its hanging handler.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5,
                                     access_log=None)
        await self._runner.setup()
        await self.go_up()

    async def go_up(self) -> None:
        """Listen (again) on the server's port."""
        self._site = web.TCPSite(self._runner, HOST, self.port, reuse_address=True)
        await self._site.start()
        self.port = self._site._server.sockets[0].getsockname()[1]

    async def go_down(self, seconds: float | None = None) -> None:
        """Stop listening (clients get connection refused); come back after ``seconds`` if given."""
        await self._site.stop()
        if seconds is not None:
            self._comeback = asyncio.create_task(self._come_back(seconds))

    async def _come_back(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self.go_up()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeLLMServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def __enter__(self) -> FakeLLMServer:
        """Serve from a background thread with its own event loop."""
        self._loop = asyncio.new_event_loop()
        started = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self.start())
            started.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, name="fake-llm-server", daemon=True)
        self._thread.start()
        started.wait()
        return self

    def serve_forever(self, announce: bool = False) -> None:
        """Serve on a new event loop in this thread until interrupted (a server process's main)."""
        async def serve() -> None:
            async with self:
                if announce:
                    print(f"fake LLM server on {self.openai_url} (delay {self.delay} s)", flush=True)
                with frozen_heap():
                    await asyncio.Event().wait()

        try:
            asyncio.run(serve())
        except KeyboardInterrupt:
            pass

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.stop(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    # -- request handling --------------------------------------------------------------------

    def _fault_for(self, number: int) -> Fault | None:
        if callable(self.faults):
            return self.faults(number)
        return self.faults[number] if number < len(self.faults) else None

    async def _serve(self, request: web.Request, route: Route,
                     answer: Callable[[dict[str, Any]], dict[str, Any]]) -> web.StreamResponse:
        number = len(self.received)
        body = await request.json()
        self.received.append(Call(route, body))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            fault = self._fault_for(number)
            if fault == "timeout":
                await asyncio.sleep(self.hang_s)
            elif self.delay:
                await asyncio.sleep(self.delay)
            if fault is None or fault == "timeout":
                return web.json_response(answer(body))
            return self._faulty(request, fault, route)
        finally:
            self.in_flight -= 1

    def _faulty(self, request: web.Request, fault: Fault, route: Route) -> web.StreamResponse:
        if fault == "drop":
            request.transport.abort()
            return web.Response()
        if fault == "malformed":
            return web.Response(text='{"id": "broken", "choices": [', content_type="application/json")
        if fault == "no_choices":
            return web.json_response({"id": "empty", "object": "error-free nonsense"})
        if fault == "bad_choice":
            return web.json_response({"id": "odd", "choices": [{"index": 0, "text": None, "finish_reason": "stop",
                                                                "message": {"role": "assistant", "content": None}}]})
        headers = {"Retry-After": f"{self.retry_after:g}"} if fault == "429" else {}
        kind = "rate_limit_error" if fault == "429" else "api_error"
        error = {"type": "error", "error": {"type": kind, "message": f"injected fault {fault}"}}
        if route != "messages":
            error = {"error": {"message": f"injected fault {fault}", "type": kind, "code": fault}}
        return web.json_response(error, status=int(fault), headers=headers)

    def _samples(self, route: Route, body: dict[str, Any], keep_stop: bool):
        stops = body.get("stop_sequences" if route == "messages" else "stop") or []
        stops = [stops] if isinstance(stops, str) else stops
        for i in range(body.get("n") or 1):
            yield i, _cut(self.responder(Call(route, body, i)), stops, keep_stop, body.get("max_tokens"))

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, "chat", self._chat_answer)

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, "completions", self._completions_answer)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, "messages", self._messages_answer)

    async def _models(self, request: web.Request) -> web.StreamResponse:
        model = {"id": self.model, "object": "model", "created": 0, "owned_by": "fake"}
        if self.max_model_len is not None:
            model["max_model_len"] = self.max_model_len
        return web.json_response({"object": "list", "data": [model]})

    async def _tokenize(self, request: web.Request) -> web.StreamResponse:
        """vLLM's token count of a chat (``messages``) or a ``prompt``, counted as the usage counts it."""
        body = await request.json()
        self.received.append(Call("tokenize", body))
        count = _prompt_words(body)
        return web.json_response({"count": count, "max_model_len": self.max_model_len, "tokens": [0] * count})

    def _head(self, kind: str) -> dict[str, Any]:
        return {"id": f"{kind}-{uuid.uuid4().hex[:12]}", "object": kind, "created": int(time.time()),
                "model": self.model}

    def _chat_answer(self, body: dict[str, Any]) -> dict[str, Any]:
        keep = bool(body.get("include_stop_str_in_output"))
        choices, out = [], 0
        for i, (text, _stop, truncated) in self._samples("chat", body, keep):
            out += _words(text)
            logprobs = None
            if body.get("logprobs"):
                logprobs = {"content": [{"token": w, "logprob": -0.5, "bytes": None, "top_logprobs": []}
                                        for w in text.split()]}
            choices.append({"index": i, "message": {"role": "assistant", "content": text},
                            "finish_reason": "length" if truncated else "stop", "logprobs": logprobs})
        prompt = _prompt_words(body)
        return {**self._head("chat.completion"), "choices": choices, "usage": {
            "prompt_tokens": prompt, "completion_tokens": out, "total_tokens": prompt + out}}

    def _completions_answer(self, body: dict[str, Any]) -> dict[str, Any]:
        keep = bool(body.get("include_stop_str_in_output"))
        choices, out = [], 0
        for i, (text, _stop, truncated) in self._samples("completions", body, keep):
            out += _words(text)
            logprobs = None
            if body.get("logprobs") is not None:
                words = text.split()
                logprobs = {"tokens": words, "token_logprobs": [-0.5] * len(words),
                            "top_logprobs": None, "text_offset": list(range(len(words)))}
            choices.append({"index": i, "text": text, "logprobs": logprobs,
                            "finish_reason": "length" if truncated else "stop"})
        prompt = _prompt_words(body)
        return {**self._head("text_completion"), "choices": choices, "usage": {
            "prompt_tokens": prompt, "completion_tokens": out, "total_tokens": prompt + out}}

    def _messages_answer(self, body: dict[str, Any]) -> dict[str, Any]:
        ((_, (text, stop, truncated)),) = self._samples("messages", body, keep_stop=False)
        reason = "max_tokens" if truncated else "stop_sequence" if stop else "end_turn"
        prompt = _words(_text(body.get("system") or "")) + sum(
            _words(_text(m["content"])) for m in body["messages"])
        return {"id": f"msg_{uuid.uuid4().hex[:12]}", "type": "message", "role": "assistant",
                "model": body.get("model", self.model), "content": [{"type": "text", "text": text}],
                "stop_reason": reason, "stop_sequence": stop,
                "usage": {"input_tokens": prompt, "output_tokens": _words(text)}}


def random_faults(rate: float, kinds: Sequence[Fault], seed: int = 0) -> Callable[[int], Fault | None]:
    """A schedule that injects one of ``kinds`` into a ``rate`` fraction of requests."""
    rng = random.Random(seed)
    return lambda _number: rng.choice(list(kinds)) if rng.random() < rate else None


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds before each answer")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="fraction of requests that fail")
    parser.add_argument("--fault-kinds", default="429,500", help="comma-separated faults to draw from")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    kinds: list[Fault] = args.fault_kinds.split(",")  # type: ignore[assignment]
    unknown = set(kinds) - set(get_args(Fault))
    if unknown:
        parser.error(f"unknown fault kinds {sorted(unknown)}; choose from {', '.join(get_args(Fault))}")
    faults = random_faults(args.fault_rate, kinds, args.seed) if args.fault_rate else ()
    FakeLLMServer(delay=args.delay, faults=faults, port=args.port).serve_forever(announce=True)


if __name__ == "__main__":
    main()
