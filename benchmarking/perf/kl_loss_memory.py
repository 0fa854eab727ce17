"""Chunked vs naive (full-logit) distillation loss: peak memory and time, side by side in one run.

1. Loss step (forward + backward of the student hidden states) at vocabulary 128,256, hidden 1,024
   and 2,048 target tokens (defaults), forward KL at T = 2, fp32.
   With ``liger-kernel`` installed and a CUDA device, also Liger's fused linear JSD at β = 0
   (forward KL, token mean; its own reduction, so only its memory and time compare).
2. A full training step (teacher + student forwards, loss, backward, AdamW) of a tiny LoRA'd Llama,
   in training tokens/s (student + teacher tokens per second).

Memory method. CPU: each variant runs in a fresh subprocess; peak = the process's peak RSS
(``ru_maxrss``) after the step minus its RSS just before it (kernels warmed up on a tiny input, the
inputs and weights already allocated), so it counts only what the loss step adds; glibc's mmap
threshold is pinned so freed buffers leave RSS at once. CUDA:
``max_memory_allocated`` minus ``memory_allocated`` before the step. Time: in this process, the
variants alternate after a warm-up and each keeps its best of ``--repeats`` (the machine is shared).

    python benchmarking/perf/kl_loss_memory.py                      # CPU defaults
    python benchmarking/perf/kl_loss_memory.py --device cuda --hidden 4096 --tokens 8192

The last line gives the headline ratios (chunked / naive).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable

import psutil
import torch

from training.losses import chunked_token_loss, naive_token_loss, token_weights

LOSSES = {"naive": naive_token_loss, "chunked": chunked_token_loss}


def liger_token_loss(h_s, w_s, h_t, w_t, labels, weights, *, kind, temperature):
    """Liger's fused linear JSD with β = 0 (forward KL); same call shape as the project's losses."""
    from liger_kernel.transformers import LigerFusedLinearJSD

    assert kind == "forward_kl"
    return LigerFusedLinearJSD(jsd_beta=0.0, temperature=temperature)(h_s, w_s, h_t, w_t), None


def loss_variants(device: str) -> dict:
    """The loss-step variants: ours, and Liger's where it runs (CUDA, package installed)."""
    try:
        import liger_kernel  # noqa: F401
    except ImportError:
        return LOSSES
    return {**LOSSES, "liger": liger_token_loss} if device.startswith("cuda") else LOSSES


def loss_inputs(args: argparse.Namespace, tokens: int, vocab: int) -> dict:
    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    torch.manual_seed(0)
    w = torch.randn(vocab, args.hidden, device=device, dtype=dtype) * args.hidden ** -0.5
    return {"h_s": torch.randn(tokens, args.hidden, device=device, dtype=dtype, requires_grad=True), "w_s": w,
            "h_t": torch.randn(tokens, args.hidden, device=device, dtype=dtype), "w_t": w,
            "labels": torch.randint(0, vocab, (tokens,), device=device),
            "weights": token_weights([tokens], 1).to(device)}


def loss_step(variant: str, inputs: dict, args: argparse.Namespace) -> float:
    """One forward + backward of the loss; return seconds."""
    opts = {"kind": "forward_kl", "temperature": 2.0}
    if variant == "chunked":
        opts["chunk_tokens"] = args.chunk_tokens
    inputs["h_s"].grad = None
    start = time.perf_counter()
    loss, _ = loss_variants(args.device)[variant](**inputs, **opts)
    loss.backward()
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def peak_memory(variant: str, args: argparse.Namespace) -> float:
    """Extra memory (MiB) one loss step needs above its inputs; run in a fresh process on CPU."""
    loss_step(variant, loss_inputs(args, 16, 1024), args)  # initialise kernels and thread pools
    inputs = loss_inputs(args, args.tokens, args.vocab)
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        loss_step(variant, inputs, args)
        return (torch.cuda.max_memory_allocated() - before) / 2**20
    before = psutil.Process().memory_info().rss
    loss_step(variant, inputs, args)
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before) / 2**20


def tiny_training_setup(args: argparse.Namespace) -> tuple:
    """A tiny LoRA'd Llama with the full vocabulary, its optimiser and one teacher/student batch."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from training.config import LoraSettings
    from training.data import collate
    from training.model import add_lora
    from training.sequences import Encoded

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=args.vocab, hidden_size=args.step_hidden, intermediate_size=2 * args.step_hidden,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=2 * args.step_tokens, tie_word_embeddings=False)
    model = add_lora(LlamaForCausalLM(config), LoraSettings(rank=8)).to(args.device)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    targets = args.step_tokens // 2
    ids = torch.randint(0, args.vocab, (args.step_tokens,)).tolist()
    teacher = Encoded(ids, [False] * (len(ids) - targets) + [True] * targets)
    student = Encoded(ids[targets // 2:], teacher.target_mask[targets // 2:])  # fewer context tokens
    return model, optimizer, collate([(student, teacher)], ["bench"], 0).to(args.device)


def train_step(variant: str, setup: tuple, args: argparse.Namespace) -> float:
    """One full training step (teacher and student forwards, loss, backward, AdamW); return seconds."""
    from training.model import output_weights
    from training.trainer import hidden_pair

    model, optimizer, batch = setup
    opts = {"kind": "forward_kl", "temperature": 2.0}
    if variant == "chunked":
        opts["chunk_tokens"] = args.chunk_tokens
    start = time.perf_counter()
    h_s, h_t = hidden_pair(model, model, batch, need_teacher=True)
    w_s, w_t = output_weights(model)
    loss, _ = LOSSES[variant](h_s, w_s, h_t, w_t.detach(), batch.labels,
                              token_weights(batch.target_counts, 1).to(args.device), **opts)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def best_times(step: Callable[[str], float], repeats: int, variants: dict = LOSSES) -> dict[str, float]:
    """Best time per variant, alternating variants so all see the same machine load."""
    times: dict[str, list[float]] = {v: [] for v in variants}
    for v in variants:  # warm-up
        step(v)
    for _ in range(repeats):
        for v in variants:
            times[v].append(step(v))
    return {v: min(t) for v, t in times.items()}


def measure_peak_in_subprocess(variant: str, argv: list[str]) -> float:
    """A fresh process per variant, so its peak RSS belongs to that variant alone.

    glibc's dynamic mmap threshold is pinned low so that freed large blocks return to the OS at
    once and RSS follows live memory (otherwise freed chunk buffers linger in the heap).
    """
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
    out = subprocess.run([sys.executable, __file__, *argv, "--peak-of", variant], check=True,
                         capture_output=True, text=True, env=env)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--vocab", type=int, default=128_256)
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument("--tokens", type=int, default=2048, help="target tokens in the loss step")
    parser.add_argument("--chunk-tokens", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--step-hidden", type=int, default=64, help="hidden size of the tiny model")
    parser.add_argument("--step-tokens", type=int, default=512, help="teacher sequence length")
    parser.add_argument("--peak-of", choices=[*LOSSES, "liger"], help=argparse.SUPPRESS)
    args, argv = parser.parse_args(), sys.argv[1:]
    if args.peak_of:
        print(peak_memory(args.peak_of, args))
        return
    variants = loss_variants(args.device)
    peak = {v: measure_peak_in_subprocess(v, argv) for v in variants}
    inputs = loss_inputs(args, args.tokens, args.vocab)
    loss_seconds = best_times(lambda v: loss_step(v, inputs, args), args.repeats, variants)
    setup = tiny_training_setup(args)
    step_seconds = best_times(lambda v: train_step(v, setup, args), args.repeats)
    tokens = setup[2].tokens
    print(f"loss step: vocab {args.vocab}, hidden {args.hidden}, {args.tokens} target tokens, {args.dtype}, "
          f"{args.device}; train step: tiny Llama hidden {args.step_hidden}, vocab {args.vocab}, "
          f"{tokens} tokens (student + teacher)")
    for v in LOSSES:
        print(f"{v:8s} loss-step peak {peak[v]:9.1f} MiB   loss step {loss_seconds[v]:7.3f} s   "
              f"train step {tokens / step_seconds[v]:9.0f} tokens/s")
    if "liger" in variants:
        print(f"liger    loss-step peak {peak['liger']:9.1f} MiB   loss step {loss_seconds['liger']:7.3f} s   "
              f"(fused linear JSD, beta 0); chunked/liger peak memory {peak['chunked'] / peak['liger']:.3f}x")
    print(f"chunked/naive: loss-step peak memory {peak['chunked'] / peak['naive']:.3f}x, "
          f"loss-step time {loss_seconds['chunked'] / loss_seconds['naive']:.3f}x, "
          f"train tokens/s {step_seconds['naive'] / step_seconds['chunked']:.3f}x")


if __name__ == "__main__":
    main()
