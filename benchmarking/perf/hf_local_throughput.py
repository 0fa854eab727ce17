# %% [markdown]
# # hf-local generation throughput on a real chat model
#
# Output tokens per second for the same agent prompts (the sample task's first monologue request,
# one per status line, greedy, stop at ``</inner_monologue>``, ``--max-tokens`` each), in one run:
# * **HF generate, one at a time** (baseline): ``model.generate`` per prompt, with the same stop string;
# * **hf-local, 1 in flight**: the prompts one after the other through :class:`HFLocalClient`;
# * **hf-local, N in flight** (``--concurrency``, default 16): all prompts at once (continuous batching);
# * **vLLM, N in flight**: the same requests through the vLLM completions backend, when
#   ``--vllm-url`` names a running server of the same model (``mnm serve MODEL --run``); else skipped.
#
# Run: ``python benchmarking/perf/hf_local_throughput.py [--model DIR] [--prompts 16] [--max-tokens 64]``.
# Each line ends with its ratio to the baseline; the machine's load average is printed with them.

# %%
from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

import torch

from agent import prompt as P
from core.llm.base import Completion, LLMClient, Request
from core.llm.hf_local import HFLocalClient
from core.messages import to_chat
from core.models import model_dir
from tasks import sample

STOP = P.close_tag(P.MONOLOGUE_TAG)


def prompts(count: int, max_tokens: int) -> list[Request]:
    """The sample task's first monologue request, with ``count`` different step budgets."""
    spec = sample.episode(hints=True)
    out = []
    for budget in range(2, count + 2):
        messages = [*P.preamble(spec.description, spec.answer_type, spec.hints, spec.tool_docs),
                    P.status_message(0, budget), P.monologue_instruction(0, True)]
        out.append(Request(messages=to_chat(messages), prefill=P.open_tag(P.MONOLOGUE_TAG), stop=[STOP],
                           temperature=0.0, max_tokens=max_tokens))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=None, help="default: the smollm2-135m-instruct `mnm models` built")
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--vllm-url", default=None, help="base URL of a vLLM server of the same model")
    parser.add_argument("--vllm-model", default=None, help="its served model name (default: --model)")
    args = parser.parse_args()
    path = args.model or model_dir("smollm2-135m-instruct")
    requests = prompts(args.prompts, args.max_tokens)
    client = HFLocalClient(path)
    print(f"model {path}; {len(requests)} prompts of ~{client.count_tokens(requests[0])} tokens, "
          f"max {args.max_tokens} new tokens, greedy, stop at {STOP}; torch threads {torch.get_num_threads()}")

    base_rate = 0.0

    def report(name: str, tokens: int, seconds: float) -> None:  # each line as soon as it is measured
        nonlocal base_rate
        rate = tokens / seconds
        base_rate = base_rate or rate
        print(f"{name:28s} {tokens:6d} tokens in {seconds:7.1f} s = {rate:6.1f} tokens/s "
              f"({rate / base_rate:.2f}x HF generate)", flush=True)

    report("HF generate, 1 at a time", *hf_generate_one_at_a_time(client, requests))
    report("hf-local, 1 in flight", *asyncio.run(through(client, requests, 1)))
    report(f"hf-local, {args.concurrency} in flight", *asyncio.run(through(client, requests, args.concurrency)))
    if args.vllm_url:
        from core.llm.vllm_completions import VLLMCompletionsClient

        async def vllm() -> tuple[int, float]:
            async with VLLMCompletionsClient(args.vllm_model or str(path), [args.vllm_url],
                                             tokenizer=client.tokenizer) as remote:
                return await through(remote, requests, args.concurrency)

        report(f"vLLM, {args.concurrency} in flight", *asyncio.run(vllm()))
    else:
        print("vLLM: skipped (no --vllm-url: start a server of the same model with `mnm serve MODEL --run`)")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


# %%
if __name__ == "__main__":
    main()
