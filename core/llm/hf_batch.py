"""Continuous batched generation with a KV cache for an in-process Hugging Face causal LM.

One generation thread owns the model. Every step it admits the requests that arrived (their
prompts are prefilled together, left-padded, and their cache joined to the running batch's by
left-padding the shorter one), picks one token for every row, ends the rows that are done (EOS,
a stop string in the text, a loop (:func:`core.llm.sampling.is_looping`), or ``max_tokens``) and drops them from the cache, then runs one forward
step for the rest. A request never waits for another one's long answer, and a row that stops at
its closing tag stops costing compute at once.

Each request samples with its own settings (greedy at ``temperature=0``; otherwise temperature,
``min_p``, ``top_p``, no top-k, as vLLM) and its own generator when it has a ``seed``, so its
output does not depend on what it is batched with. Logprobs are those of the raw distribution.
Models with sliding-window cache layers (Gemma 3) are prefilled only into an empty batch:
requests that arrive while one runs wait for it to finish.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from core.llm.base import Completion, Request
from core.llm.sampling import cut_at_stop, is_looping
from core.trajectory import Usage


@dataclass(eq=False)
class Job:
    """One request: its prompt's token ids and where its completion goes (called from the thread)."""

    request: Request
    prompt: list[int]
    deliver: Callable[[Completion | BaseException], None]
    generator: torch.Generator | None = None
    cancelled: bool = False  # nobody waits for it any more: its rows end at the next step
    rows_left: int = 0
    rows: list[_Row] = field(default_factory=list)


@dataclass(eq=False)
class _Row:
    job: Job
    position: int  # position id of the next token
    tokens: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    reason: str = ""  # "stop", "repetition" or "length" once done


class BatchGenerator:
    def __init__(self, lm: torch.nn.Module, tokenizer, eos_ids: set[int], *, device: torch.device,
                 max_rows: int = 32, batch_window_s: float = 0.005) -> None:
        self.lm, self.tokenizer, self.eos_ids, self.device = lm, tokenizer, eos_ids, device
        self.max_rows, self.batch_window_s = max_rows, batch_window_s
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else next(iter(eos_ids))
        self.prefills_run = 0  # prompt batches prefilled so far (shows whether batching happens)
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._waiting: list[Job] = []
        self._admitting: list[Job] = []
        self._thread: threading.Thread | None = None
        self._closing = False
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self.rows: list[_Row] = []
        self.cache = None
        self.mask = torch.zeros(0, 0, dtype=torch.long, device=self.device)
        self.logits = torch.zeros(0)
        self.mergeable = True  # False for sliding-window caches: admit only into an empty batch

    def submit(self, job: Job) -> None:
        with self._lock:
            self._closing = False
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="hf-local-generate", daemon=True)
                self._thread.start()
            self._queue.put(job)

    def close(self) -> None:
        """Let the generation thread end once it has nothing left to do (a later submit starts another)."""
        with self._lock:
            if self._thread is not None:
                self._closing = True
                self._queue.put(None)

    # -- the generation thread ---------------------------------------------------------------

    def _serve(self) -> None:
        while True:
            if not self._collect():
                return
            try:
                with torch.inference_mode():
                    self._admit()
                    if self.rows:
                        self._step()
            except Exception as exc:  # a failed forward fails the requests in flight, not the thread
                for job in {row.job for row in self.rows} | set(self._admitting):
                    job.deliver(exc)
                self._reset()
                self._admitting = []

    def _collect(self) -> bool:
        """Move arrived jobs to the waiting list; when idle, block for one, then wait ``batch_window_s``
        for others. False when closed and idle."""
        while True:
            idle = not self.rows and not self._waiting
            if not idle and self._queue.empty():
                return True
            if idle:
                with self._lock:
                    if self._closing and self._queue.empty():
                        self._thread, self._closing = None, False
                        return False
            job = self._queue.get()
            if job is None:  # close() waking an idle thread
                continue
            self._waiting.append(job)
            if idle:
                time.sleep(self.batch_window_s)

    def _admit(self) -> None:
        """Prefill the waiting jobs that fit and join them to the running batch."""
        self._admitting = []
        if self.rows and not self.mergeable:
            return
        room = self.max_rows - len(self.rows)
        while self._waiting and (self._waiting[0].request.n <= room or not self._admitting and not self.rows):
            job = self._waiting.pop(0)
            room -= job.request.n
            self._admitting.append(job)
        if not self._admitting:
            return
        rows = [_Row(job, len(job.prompt)) for job in self._admitting for _ in range(job.request.n)]
        for job in self._admitting:
            job.rows = [r for r in rows if r.job is job]
            job.rows_left = len(job.rows)
        width = max(len(r.job.prompt) for r in rows)
        ids = torch.tensor([[self.pad_id] * (width - len(r.job.prompt)) + r.job.prompt for r in rows])
        mask = torch.tensor([[0] * (width - len(r.job.prompt)) + [1] * len(r.job.prompt) for r in rows])
        ids, mask = ids.to(self.device), mask.to(self.device)
        out = self.lm(input_ids=ids, attention_mask=mask, position_ids=(mask.cumsum(-1) - 1).clamp(min=0),
                      use_cache=True, logits_to_keep=1)
        self.prefills_run += 1
        logits = out.logits[:, -1, :].float()
        if not self.rows:
            self.rows, self.cache, self.mask, self.logits = rows, out.cache, mask, logits
            self.mergeable = not any(getattr(layer, "is_sliding", False) for layer in self.cache.layers)
        else:
            self._join(rows, out.cache, mask, logits)
        self._admitting = []

    def _join(self, rows: list[_Row], cache, mask: torch.Tensor, logits: torch.Tensor) -> None:
        """Append prefilled rows to the batch: the shorter cache is left-padded (masked) to the longer."""
        length = max(self.mask.shape[1], mask.shape[1])
        for old, new in zip(self.cache.layers, cache.layers, strict=True):
            old.keys = torch.cat([_left_pad(old.keys, length), _left_pad(new.keys, length)])
            old.values = torch.cat([_left_pad(old.values, length), _left_pad(new.values, length)])
        self.mask = torch.cat([_left_pad(self.mask, length), _left_pad(mask, length)])
        self.logits = torch.cat([self.logits, logits])
        self.rows += rows

    def _step(self) -> None:
        """Pick a token for every row, finish the rows that are done, run one step for the others."""
        tokens = torch.zeros(len(self.rows), dtype=torch.long, device=self.device)
        for job in dict.fromkeys(row.job for row in self.rows):
            index = [i for i, row in enumerate(self.rows) if row.job is job]
            tokens[index] = _pick(self.logits[index], job.request, job.generator)
            if job.request.logprobs:
                chosen = torch.log_softmax(self.logits[index], dim=-1).gather(1, tokens[index, None])
                for i, lp in zip(index, chosen[:, 0].tolist(), strict=True):
                    self.rows[i].logprobs.append(lp)
        keep = []
        for i, (row, token) in enumerate(zip(self.rows, tokens.tolist(), strict=True)):
            row.tokens.append(token)
            row.reason = self._finished(row)
            if row.reason:
                row.job.rows_left -= 1
                if row.job.rows_left == 0:
                    row.job.deliver(self._completion(row.job))
            else:
                keep.append(i)
        if len(keep) < len(self.rows):
            self._keep(keep)
        if not self.rows:
            self._reset()
            return
        self.mask = torch.cat([self.mask, self.mask.new_ones(len(self.rows), 1)], dim=1)
        out = self.lm(input_ids=tokens[keep, None], attention_mask=self.mask,
                      position_ids=torch.tensor([[row.position] for row in self.rows], device=self.device),
                      cache=self.cache, use_cache=True)
        for row in self.rows:
            row.position += 1
        self.logits = out.logits[:, -1, :].float()

    def _keep(self, keep: list[int]) -> None:
        """Drop finished rows from the batch, and cache columns that only padding uses any more."""
        self.rows = [self.rows[i] for i in keep]
        if not keep:
            return
        index = torch.tensor(keep, device=self.device)
        self.cache.batch_select_indices(index)
        self.mask, self.logits = self.mask[index], self.logits[index]
        first = int(self.mask.any(dim=0).nonzero()[0])
        if first and self.mergeable:
            for layer in self.cache.layers:
                layer.keys, layer.values = layer.keys[:, :, first:], layer.values[:, :, first:]
            self.mask = self.mask[:, first:]

    def _finished(self, row: _Row) -> str:
        request = row.job.request
        if row.tokens[-1] in self.eos_ids or row.job.cancelled:
            return "stop"
        if request.stop:
            window = max(len(s) for s in request.stop) + 4
            tail = self.tokenizer.decode(row.tokens[-window:], skip_special_tokens=True)
            if any(s and s in tail for s in request.stop):
                return "stop"
        if is_looping(row.tokens, request.loop_stop):
            return "repetition"
        return "length" if len(row.tokens) >= request.max_tokens else ""

    def _completion(self, job: Job) -> Completion:
        texts = [cut_at_stop(self.tokenizer.decode(r.tokens, skip_special_tokens=True), job.request.stop)[0]
                 for r in job.rows]
        usage = Usage(input_tokens=len(job.prompt), output_tokens=sum(len(r.tokens) for r in job.rows), calls=1)
        return Completion(texts=texts, usage=usage, finish_reasons=[r.reason for r in job.rows],
                          token_ids=[list(r.tokens) for r in job.rows],
                          logprobs=[r.logprobs for r in job.rows] if job.request.logprobs else None)


def _left_pad(t: torch.Tensor, length: int) -> torch.Tensor:
    """``t`` (batch, ..., seq[, dim]) padded with zeros on the left of its sequence axis to ``length``."""
    axis = 1 if t.dim() == 2 else -2
    missing = length - t.shape[axis]
    if not missing:
        return t
    shape = list(t.shape)
    shape[axis] = missing
    return torch.cat([t.new_zeros(shape), t], dim=axis)


def _pick(logits: torch.Tensor, request: Request, generator: torch.Generator | None) -> torch.Tensor:
    """The next token of each row of one request, under its sampling settings."""
    if request.temperature == 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits / (request.temperature or 1.0), dim=-1)
    if request.min_p:
        probs = probs.masked_fill(probs < request.min_p * probs.max(dim=-1, keepdim=True).values, 0.0)
    if request.top_p is not None and request.top_p < 1.0:
        ordered, order = probs.sort(dim=-1, descending=True)
        ordered = ordered.masked_fill(ordered.cumsum(dim=-1) - ordered > request.top_p, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, order, ordered)
    return torch.multinomial(probs, 1, generator=generator)[:, 0]
