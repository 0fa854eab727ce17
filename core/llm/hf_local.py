"""An in-process Hugging Face causal LM (small models, CPU or one GPU), with request batching.

Prompts are rendered like the vLLM completions backend: the tokenizer's chat template with the
generation prompt, then the prefill, tokenised without extra special tokens (no double BOS).
Requests that arrive within ``batch_window_s`` of each other (and any that queue up while a batch
runs) are generated together: one left-padded batch per group of requests with the same sampling
settings, run in a worker thread so the event loop stays free. Generation stops at the stop
strings (``stop_strings``, row by row), which are kept at the end of the text as vLLM does.

Sampling: ``temperature=0`` is greedy; ``temperature=None`` samples at 1.0; no top-k (as vLLM and
OpenAI). A ``seed`` seeds a batch's sampling without touching the global RNG; a seeded request
is reproducible when it is batched with the same requests. Logprobs are those of the model's raw
distribution for the chosen tokens. An optional PEFT ``adapter`` is loaded on top of the model.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, PreTrainedTokenizerBase

from core.chat_template import count_tokens, load_tokenizer, render_prompt
from core.errors import LLMError
from core.llm.base import Completion, LLMClient, Request
from core.llm.sampling import SamplingDefaults, cut_at_stop, with_defaults
from core.trajectory import Usage


@dataclass
class _Pending:
    request: Request
    future: asyncio.Future[Completion] = field(repr=False)


@dataclass
class _Worker:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[_Pending]
    task: asyncio.Task[None]


def _sampling_key(request: Request) -> tuple:
    """Requests batch together only when these settings agree."""
    return (request.temperature, request.top_p, request.min_p, request.max_tokens, tuple(request.stop),
            request.seed, request.logprobs)


class HFLocalClient(LLMClient):
    def __init__(self, model_path: str | Path, *, tokenizer: str | Path | None = None,
                 adapter: str | Path | None = None, device: str = "cpu", dtype: str = "auto",
                 defaults: SamplingDefaults | None = None, batch_window_s: float = 0.005,
                 max_batch_rows: int = 32, name: str | None = None) -> None:
        self.model = name or str(model_path)
        self.defaults = defaults or SamplingDefaults()
        self.batch_window_s = batch_window_s
        self.max_batch_rows = max_batch_rows
        self.device = torch.device(device)
        self.tokenizer: PreTrainedTokenizerBase = load_tokenizer(str(tokenizer or model_path))
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        lm = AutoModelForCausalLM.from_pretrained(str(model_path), dtype=dtype, local_files_only=True)
        if adapter is not None:
            from peft import PeftModel

            lm = PeftModel.from_pretrained(lm, str(adapter))
        self.lm = lm.to(self.device).eval()
        eos = self.lm.generation_config.eos_token_id
        eos = eos if eos is not None else self.tokenizer.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos])
        self._worker: _Worker | None = None
        self.batches_run = 0  # generation batches so far (shows whether batching happens)

    def render(self, request: Request) -> str:
        return render_prompt(self.tokenizer, request.messages, request.prefill)

    def exact_prompt(self, request: Request) -> str:
        return self.render(request)

    def count_tokens(self, request: Request) -> int:
        return count_tokens(self.tokenizer, self.render(request))

    async def complete(self, request: Request) -> Completion:
        start = time.perf_counter()
        worker = self._running_worker()
        future: asyncio.Future[Completion] = worker.loop.create_future()
        await worker.queue.put(_Pending(with_defaults(request, self.defaults), future))
        completion = await future
        completion.seconds = time.perf_counter() - start
        return completion

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.task.cancel()
            self._worker = None

    def _running_worker(self) -> _Worker:
        loop = asyncio.get_running_loop()
        if self._worker is None or self._worker.loop is not loop or self._worker.task.done():
            queue: asyncio.Queue[_Pending] = asyncio.Queue()
            self._worker = _Worker(loop, queue, loop.create_task(self._serve(queue)))
        return self._worker

    async def _serve(self, queue: asyncio.Queue[_Pending]) -> None:
        """Gather requests, then generate them group by group in a thread, one batch at a time."""
        while True:
            pending = [await queue.get()]
            await asyncio.sleep(self.batch_window_s)
            while not queue.empty() and sum(p.request.n for p in pending) < self.max_batch_rows:
                pending.append(queue.get_nowait())
            groups: dict[tuple, list[_Pending]] = {}
            for item in pending:
                groups.setdefault(_sampling_key(item.request), []).append(item)
            for group in groups.values():
                await self._run_group(group)

    async def _run_group(self, group: list[_Pending]) -> None:
        self.batches_run += 1
        try:
            completions = await asyncio.to_thread(self.generate, [p.request for p in group])
        except Exception as exc:  # a failed batch fails its callers, not the worker
            error = LLMError(f"hf-local generation with {self.model} failed: {type(exc).__name__}: {exc}")
            error.__cause__ = exc
            for item in group:
                if not item.future.done():
                    item.future.set_exception(error)
            return
        for item, completion in zip(group, completions, strict=True):
            if not item.future.done():
                item.future.set_result(completion)

    @torch.inference_mode()
    def generate(self, requests: Sequence[Request]) -> list[Completion]:
        """Generate all ``requests`` (same sampling settings) as one left-padded batch."""
        first = requests[0]
        rows = [self.render(r) for r in requests for _ in range(r.n)]
        batch = self.tokenizer(rows, return_tensors="pt", padding=True, add_special_tokens=False)
        batch = batch.to(self.device)
        kwargs: dict = {"max_new_tokens": first.max_tokens, "pad_token_id": self.tokenizer.pad_token_id,
                        "return_dict_in_generate": True, "output_logits": first.logprobs}
        if first.temperature == 0:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:
            kwargs.update(do_sample=True, temperature=first.temperature or 1.0, top_p=first.top_p or 1.0,
                          min_p=first.min_p, top_k=0)
        if first.stop:
            kwargs.update(stop_strings=first.stop, tokenizer=self.tokenizer)
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            if first.seed is not None:
                torch.manual_seed(first.seed)
            out = self.lm.generate(**batch, **kwargs)
        new_tokens = out.sequences[:, batch.input_ids.shape[1]:]  # (rows, generated)
        prompt_lengths = batch.attention_mask.sum(dim=1).tolist()
        completions, row = [], 0
        for request in requests:
            texts, reasons, logprobs, generated = [], [], [], 0
            for r in range(row, row + request.n):
                text, reason, kept = self._decode(new_tokens[r].tolist(), request.stop)
                texts.append(text)
                reasons.append(reason)
                generated += len(kept)
                if request.logprobs:
                    logprobs.append([torch.log_softmax(out.logits[t][r].float(), dim=-1)[tok].item()
                                     for t, tok in enumerate(kept)])
            usage = Usage(input_tokens=int(prompt_lengths[row]), output_tokens=generated, calls=1)
            completions.append(Completion(texts=texts, usage=usage, finish_reasons=reasons,
                                          logprobs=logprobs if request.logprobs else None))
            row += request.n
        return completions

    def _decode(self, tokens: list[int], stop: list[str]) -> tuple[str, str, list[int]]:
        """(text cut after its first stop string, finish reason, tokens generated up to EOS)."""
        pad = self.tokenizer.pad_token_id
        if pad not in self.eos_ids:  # finished rows are padded
            tokens = [t for t in tokens if t != pad]
        ended = next((i for i, t in enumerate(tokens) if t in self.eos_ids), None)
        kept = tokens if ended is None else tokens[: ended + 1]
        text, hit = cut_at_stop(self.tokenizer.decode(kept, skip_special_tokens=True), stop)
        return text, "stop" if hit or ended is not None else "length", kept
