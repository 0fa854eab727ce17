# %% [markdown]
# # hf-local generation throughput on a real chat model
#
# Output tokens per second for the same agent prompts (the sample task's first monologue request,
# one per status line, greedy, stop at ``</inner_monologue>``, ``--max-tokens`` each), in one run:
# * **HF generate, one at a time** (baseline): ``model.generate`` per prompt, with the same stop string;
# * **hf-local, 1 in flight**: the prompts one after the other through :class:`HFLocalClient`;
# * **hf-local, N in flight** (``CONCURRENCY``, default 16): all prompts at once (continuous batching);
# * **vLLM, N in flight**: the same requests through the vLLM completions backend, to ``VLLM_URL``
#   (a running server of the same model, ``mnm serve MODEL --run``) or, without it, to a CPU server
#   of the model that this run starts and stops itself (:mod:`core.serving`) when vLLM is installed
#   (``MNM_VLLM_PYTHON``, or the venv ``make vllm`` builds); else skipped.
#
# Set the knobs in the first cell, then run the cells, or ``python
# benchmarking/perf/hf_local_throughput.py``. Each line ends with its ratio to the baseline; the
# machine's load average is printed with them.

# %% tags=["parameters"]
from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

import torch

from agent import prompt as P
from core.asyncio_compat import run_sync
from core.llm.base import Completion, LLMClient, Request
from core.llm.hf_local import HFLocalClient
from core.messages import to_chat
from core.models import model_dir
from core.serving import ServeConfig, free_port, served, vllm_python
from tasks import sample

MODEL: str | None = None  # a local checkpoint; None: the smollm2-135m-instruct that `mnm models` built
PROMPTS = 16
CONCURRENCY = 16
MAX_TOKENS = 64
VLLM_URL: str | None = None  # base URL of a vLLM server of the same model
VLLM_MODEL: str | None = None  # its served model name (None: MODEL)
START_VLLM = True  # without VLLM_URL: start (and stop) a CPU server of MODEL when vLLM is installed

# %%
STOP = P.close_tag(P.MONOLOGUE_TAG)


def prompts(count: int, max_tokens: int) -> list[Request]:
    """The sample task's first monologue request, with ``count`` different step budgets."""
    spec = sample.episode(hints=True)
    out = []
    for budget in range(2, count + 2):
        messages = [*P.preamble(spec.description, spec.answer_type, spec.hints, spec.tool_docs),
                    P.status_message(0, budget), P.monologue_instruction(0, True)]
        out.append(Request(messages=to_chat(messages), prefill=P.open_tag(P.MONOLOGUE_TAG), stop=[STOP],
                           temperature=0.0, max_tokens=max_tokens, loop_stop=0))  # the same tokens as generate's
    return out


def hf_generate_one_at_a_time(client: HFLocalClient, requests: list[Request]) -> tuple[int, float]:
    """Output tokens and seconds of plain ``generate`` (KV cache, stop strings), one prompt at a time."""
    tokens, start = 0, time.perf_counter()
    with torch.inference_mode():
        for request in requests:
            ids = client.tokenizer(client.render(request), add_special_tokens=False, return_tensors="pt").input_ids
            out = client.lm.generate(ids, max_new_tokens=request.max_tokens, do_sample=False, stop_strings=request.stop,
                                     tokenizer=client.tokenizer, pad_token_id=client.tokenizer.pad_token_id)
            tokens += out.shape[1] - ids.shape[1]
    return tokens, time.perf_counter() - start


async def through(client: LLMClient, requests: list[Request], in_flight: int) -> tuple[int, float]:
    """Output tokens and seconds with ``in_flight`` requests at a time."""
    semaphore = asyncio.Semaphore(in_flight)

    async def one(request: Request) -> Completion:
        async with semaphore:
            return await client.complete(request)

    start = time.perf_counter()
    completions = await asyncio.gather(*(one(r) for r in requests))
    return sum(c.usage.output_tokens for c in completions), time.perf_counter() - start


def main(model: str | Path | None = None, n_prompts: int = 16, concurrency: int = 16, max_tokens: int = 64,
         vllm_url: str | None = None, vllm_model: str | None = None, start_vllm: bool = True) -> None:
    path = Path(model) if model else model_dir("smollm2-135m-instruct")
    requests = prompts(n_prompts, max_tokens)
    client = HFLocalClient(path)
    print(f"model {path}; {len(requests)} prompts of ~{client.count_tokens(requests[0])} tokens, "
          f"max {max_tokens} new tokens, greedy, stop at {STOP}; torch threads {torch.get_num_threads()}")

    base_rate = 0.0

    def report(name: str, tokens: int, seconds: float) -> None:  # each line as soon as it is measured
        nonlocal base_rate
        rate = tokens / seconds
        base_rate = base_rate or rate
        print(f"{name:28s} {tokens:6d} tokens in {seconds:7.1f} s = {rate:6.1f} tokens/s "
              f"({rate / base_rate:.2f}x HF generate)", flush=True)

    report("HF generate, 1 at a time", *hf_generate_one_at_a_time(client, requests))
    report("hf-local, 1 in flight", *run_sync(through(client, requests, 1)))
    report(f"hf-local, {concurrency} in flight", *run_sync(through(client, requests, concurrency)))
    run_sync(client.aclose())
    python = vllm_python() if start_vllm and not vllm_url else None
    if vllm_url or python:
        from core.llm.vllm_completions import VLLMCompletionsClient

        async def vllm(url: str, name: str) -> tuple[int, float]:
            async with VLLMCompletionsClient(name, [url], tokenizer=client.tokenizer) as remote:
                return await through(remote, requests, concurrency)

        if vllm_url:
            report(f"vLLM, {concurrency} in flight", *run_sync(vllm(vllm_url, vllm_model or str(path))))
        else:
            cfg = ServeConfig(model=str(path), served_name="bench", python=python, port=free_port(), cpu=True,
                              dtype="float32", max_model_len=4096)
            with tempfile.TemporaryDirectory() as logs:
                print(f"starting vLLM ({python}) on {path}; logs in {logs}", flush=True)
                start = time.perf_counter()
                with served(cfg, Path(logs), timeout_s=1800) as url:
                    print(f"vLLM answered after {time.perf_counter() - start:.0f} s", flush=True)
                    report(f"vLLM, {concurrency} in flight", *run_sync(vllm(url, "bench")))
    else:
        print("vLLM: skipped (no VLLM_URL, and START_VLLM off or no vLLM installed: `make vllm`, MNM_VLLM_PYTHON)")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


# %%
main(MODEL, PROMPTS, CONCURRENCY, MAX_TOKENS, VLLM_URL, VLLM_MODEL, START_VLLM)
