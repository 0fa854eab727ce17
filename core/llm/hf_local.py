"""An in-process Hugging Face causal LM (small models, CPU or one GPU), with continuous batching.

Prompts are rendered like the vLLM completions backend (:func:`core.chat_template.render_prompt`:
the chat template with the generation prompt, then the prefill), tokenised without extra special
tokens (no double BOS). A request that cannot fit the model's context (the smaller of the config's
``max_position_embeddings`` and the tokenizer's ``model_max_length``) is refused before it is queued,
and its ``max_tokens`` is clamped to the room its prompt leaves. Generation runs in one thread
(:class:`core.llm.hf_batch.BatchGenerator`): concurrent requests, e.g. those of many episodes in
flight, are generated together with a KV cache, each joining the batch as soon as it arrives and
leaving it when it is done. Generation stops at the stop strings, which are kept at the end of the
text as vLLM does, and at a loop: once the text ends in one span repeated three times or more over
at least ``request.loop_stop`` tokens (:func:`core.llm.sampling.is_looping`), it ends with finish
reason ``repetition``.

Sampling: ``temperature=0`` is greedy; ``temperature=None`` samples at 1.0; no top-k (as vLLM and
OpenAI). A ``seed`` gives the request its own generator (reproducible whatever it is batched with).
Logprobs are those of the model's raw distribution for the chosen tokens. An optional PEFT
``adapter`` is loaded on top of the model.

Threads: torch uses ``threads`` intra-op threads, by default one less than the cores this process
may use (at least one): the remaining core runs the event loop, tokenisation and the workspace's
processes, which run with one BLAS/OpenMP thread each (:mod:`agent.workspace.server_handle`). A torch pool
as large as the machine stalls whenever another process takes one of its cores (measured on the
2-core machine under load: 1.0 tokens/s with 2 threads, 6.9 with 1).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM

from core.chat_template import count_tokens, load_tokenizer, render_prompt
from core.errors import LLMError
from core.llm.base import Completion, LLMClient, Request
from core.llm.hf_batch import BatchGenerator, Job
from core.llm.sampling import SamplingDefaults, fit_context, with_defaults


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class HFLocalClient(LLMClient):
    def __init__(self, model_path: str | Path, *, tokenizer: str | Path | None = None,
                 adapter: str | Path | None = None, device: str = "cpu", dtype: str = "auto",
                 defaults: SamplingDefaults | None = None, batch_window_s: float = 0.005,
                 max_batch_rows: int = 32, threads: int | None = None, name: str | None = None) -> None:
        self.model = name or str(model_path)
        self.defaults = defaults or SamplingDefaults()
        self.device = torch.device(device)
        self._threads_before = torch.get_num_threads()  # process-wide: given back by aclose()
        if self.device.type == "cpu":
            torch.set_num_threads(threads or max(1, available_cores() - 1))
        self.tokenizer = load_tokenizer(str(tokenizer or model_path))
        lm = AutoModelForCausalLM.from_pretrained(str(model_path), dtype=dtype, local_files_only=True)
        if adapter is not None:
            from peft import PeftModel

            lm = PeftModel.from_pretrained(lm, str(adapter))
        self.lm = lm.to(self.device).eval()
        eos = self.lm.generation_config.eos_token_id
        eos = eos if eos is not None else self.tokenizer.eos_token_id
        limits = [getattr(self.lm.config, "max_position_embeddings", None), self.tokenizer.model_max_length]
        self.context = min(n for n in limits if isinstance(n, int) and 0 < n < 10**8)
        self.generator = BatchGenerator(self.lm, self.tokenizer, set(eos if isinstance(eos, list) else [eos]),
                                        device=self.device, max_rows=max_batch_rows, batch_window_s=batch_window_s)

    def render(self, request: Request) -> str:
        return render_prompt(self.tokenizer, request.messages, request.prefill)

    def exact_prompt(self, request: Request) -> str:
        return self.render(request)

    def count_tokens(self, request: Request) -> int:
        return count_tokens(self.tokenizer, self.render(request))

    async def complete(self, request: Request) -> Completion:
        start = time.perf_counter()
        request = with_defaults(request, self.defaults)
        prompt = self.tokenizer(self.render(request), add_special_tokens=False).input_ids
        request = fit_context(request, len(prompt), self.context, self.model)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Completion] = loop.create_future()

        def deliver(result: Completion | BaseException) -> None:  # called by the generation thread
            if not loop.is_closed():
                loop.call_soon_threadsafe(self._settle, future, result)

        generator = None
        if request.seed is not None:
            generator = torch.Generator(self.device).manual_seed(request.seed)
        job = Job(request, prompt, deliver, generator)
        self.generator.submit(job)
        try:
            completion = await future
        except asyncio.CancelledError:
            job.cancelled = True
            raise
        completion.seconds = time.perf_counter() - start
        return completion

    def _settle(self, future: asyncio.Future[Completion], result: Completion | BaseException) -> None:
        if future.done():
            return
        if isinstance(result, BaseException):
            error = LLMError(f"hf-local generation with {self.model} failed: {type(result).__name__}: {result}")
            error.__cause__ = result
            future.set_exception(error)
        else:
            future.set_result(result)

    async def aclose(self) -> None:
        self.generator.close()
        torch.set_num_threads(self._threads_before)
