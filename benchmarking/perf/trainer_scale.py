"""The trainer at Llama-3.1-8B width on all visible GPUs: peak memory, training tokens/s, kill -9 and
resume, then the loss benchmark (chunked vs naive, and Liger's fused JSD when installed) at that width.

    python benchmarking/perf/trainer_scale.py --device cuda            # the maintainer's one command
    python benchmarking/perf/trainer_scale.py --device cpu --tiny      # the same path on a tiny model

1. A random-initialised Llama of 8B width (vocabulary 128,256, hidden 4,096, MLP 14,336, 32/8
   heads; ``--layers`` decoder layers, 4 = 1.92 B parameters) in bf16, with the tests' byte-level
   tokenizer, and examples whose hint section makes ~``--context``-token teacher sequences.
2. ``--steps`` steps of a LoRA (r = ``--rank``, every linear layer and the output layer) with
   gradient checkpointing, one process per GPU: ``accelerate launch`` with
   ``training/configs/fsdp.yaml`` (``--mode ddp``: ddp.yaml). CPU: ``torchrun`` with
   ``ACCELERATE_USE_CPU=true`` (gloo, DDP), two processes.
3. The same run again, killed (SIGKILL, launcher and workers) after the checkpoint at half the
   steps, then resumed: the losses after the checkpoint against the uninterrupted run's.
4. ``kl_loss_memory.py`` at the same width (8,192 target tokens on CUDA).

Peak memory: CUDA, the main process's ``max_memory_allocated`` (logged by the trainer); CPU, the
largest child process's peak RSS. Tokens/s: student + teacher tokens over all processes per second,
median over the steps after the first. Work files go to ``--work`` (a temporary dir by default).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import torch
import yaml

ROOT = Path(__file__).resolve().parents[2]
WIDTH_8B = {"vocab_size": 128_256, "hidden_size": 4096, "intermediate_size": 14_336, "num_attention_heads": 32,
            "num_key_value_heads": 8}
WIDTH_TINY = {"vocab_size": 4096, "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4,
              "num_key_value_heads": 2, "initializer_range": 0.3}  # large enough for visible hint effects


def build_model(directory: Path, width: dict, layers: int, dtype: torch.dtype, context: int) -> int:
    """Save a random-initialised Llama with ``width`` and the tests' byte-level tokenizer (ids < 400)
    under ``directory``; return its parameter count."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from tests.fakes.tiny_model import build_tiny_tokenizer

    tokenizer = build_tiny_tokenizer(directory)
    config = LlamaConfig(num_hidden_layers=layers, max_position_embeddings=2 * context + 1024,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=False,
                         **{"initializer_range": 0.02, **width})
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).to(dtype)
    model.save_pretrained(directory)
    return sum(p.numel() for p in model.parameters())


def write_data(path: Path, tokenizer_dir: Path, n: int, context: int) -> Path:
    """``n`` examples whose first hint section pads the teacher sequence to about ``context`` tokens."""
    from transformers import AutoTokenizer

    from core.examples import write_examples
    from tests.fakes.tiny_model import tiny_examples

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    filler = "Use the LoadDB tool first, then filter the rows by date and check the columns. "
    per_filler = len(tokenizer(filler, add_special_tokens=False)["input_ids"])
    examples = []
    for example in tiny_examples(n):
        guidelines = example.messages[1]
        hint = guidelines.parts[1].model_copy(update={"text": filler * max(1, (context - 300) // per_filler)})
        parts = [guidelines.parts[0], hint, *guidelines.parts[2:]]
        messages = [*example.messages[:1], guidelines.model_copy(update={"parts": parts}), *example.messages[2:]]
        examples.append(example.model_copy(update={"messages": messages}))
    return write_examples(path, examples)


def launcher(args: argparse.Namespace, config_file: Path) -> list[str]:
    if args.device == "cpu":
        return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
                str(args.processes), "-m", "training.launch", str(config_file)]
    return [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
            str(ROOT / "training" / "configs" / f"{args.mode}.yaml"), "--num_processes", str(args.processes),
            "--num_machines", "1", "-m", "training.launch", str(config_file)]


def environment(args: argparse.Namespace) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WANDB_MODE": "disabled"}
    if args.device == "cpu":
        env.update(ACCELERATE_USE_CPU="true", OMP_NUM_THREADS="1")
    return env


def train_config(args: argparse.Namespace, base: Path, data: Path, out: Path) -> Path:
    config = {"base_model": str(base), "train_data": [str(data)], "output_dir": str(out),
              "lora": {"rank": args.rank, "output_layer": True}, "optim": {"warmup_steps": 2},
              "dtype": "bfloat16" if args.device == "cuda" else "float32", "gradient_checkpointing": True,
              "micro_batch_size": 1, "global_batch": args.processes, "epochs": 1000, "max_steps": args.steps,
              "max_length": 2 * args.context + 1024, "save_every": args.steps // 2, "eval_every": 10**6}
    path = out.parent / f"{out.name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run(args: argparse.Namespace, config_file: Path, kill_after: Path | None = None) -> None:
    """Launch training; with ``kill_after``, SIGKILL the launcher and its workers once that path exists."""
    proc = subprocess.Popen(launcher(args, config_file), cwd=ROOT, env=environment(args))
    if kill_after is None:
        if proc.wait() != 0:
            raise SystemExit(f"training failed ({proc.returncode}): {config_file}")
        return
    while not kill_after.exists():
        if proc.poll() is not None:
            raise SystemExit(f"training ended ({proc.returncode}) before {kill_after} appeared")
        time.sleep(0.05)
    tree = psutil.Process(proc.pid)
    for p in [tree, *tree.children(recursive=True)]:
        p.send_signal(signal.SIGKILL)
    proc.wait()


def train_records(out: Path) -> dict[int, dict]:
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return {r["step"]: r for r in map(json.loads, lines) if r["kind"] == "train"}  # the last record per step wins


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--tiny", action="store_true", help="tiny width, short context (the CPU check)")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--context", type=int, default=8192, help="teacher tokens per example")
    parser.add_argument("--rank", type=int, default=128)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--mode", default="fsdp", choices=["fsdp", "ddp"], help="CUDA only; CPU runs DDP")
    parser.add_argument("--processes", type=int, help="default: every visible GPU; CPU: 2")
    parser.add_argument("--work", type=Path, help="work dir (default: a temporary one, removed)")
    args = parser.parse_args()
    if args.tiny:
        args.layers, args.context, args.rank = 2, 256, 4
    if args.processes is None:
        args.processes = torch.cuda.device_count() if args.device == "cuda" else 2
    if args.device == "cuda" and not args.processes:
        raise SystemExit("--device cuda: no GPU visible")
    if args.steps < 2:
        raise SystemExit("--steps must be at least 2 (the resume check kills the run half way)")
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        width = WIDTH_TINY if args.tiny else WIDTH_8B
        dtype = torch.bfloat16 if args.device == "cuda" else torch.float32
        base = work / "base"
        params = build_model(base, width, args.layers, dtype, args.context)
        data = write_data(work / "train.jsonl", base, max(4, 2 * args.processes), args.context)

        started = time.perf_counter()
        run(args, train_config(args, base, data, work / "straight"))
        wall = time.perf_counter() - started
        straight = train_records(work / "straight")
        half = args.steps // 2
        resumed_dir = work / "resumed"
        run(args, train_config(args, base, data, resumed_dir), kill_after=resumed_dir / "checkpoints" / f"step-{half:06d}")
        killed_at = max(int(p.name.split("-")[1]) for p in (resumed_dir / "checkpoints").glob("step-*"))
        run(args, train_config(args, base, data, resumed_dir))
        resumed = train_records(resumed_dir)

        steady = [straight[s]["tokens_per_s"] for s in sorted(straight)[1:]]
        peak = max((r.get("peak_memory_gib", 0.0) for r in straight.values()), default=0.0)
        if args.device == "cpu":
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
        diffs = [abs(resumed[s]["loss"] - straight[s]["loss"]) / max(abs(straight[s]["loss"]), 1e-12)
                 for s in range(killed_at + 1, args.steps + 1)]
        layout = "DDP (gloo)" if args.device == "cpu" else args.mode.upper()
        print(f"trainer: width {width['hidden_size']}/{width['vocab_size']}, {args.layers} layers"
              f" ({params:,} parameters), teacher ~{args.context} tokens, "
              f"LoRA r={args.rank} incl. output layer, {layout} on {args.processes} {args.device} process(es), "
              f"{args.steps} steps in {wall:.0f} s (start-up included)")
        print("losses: " + " ".join(f"{straight[s]['loss']:.5g}" for s in sorted(straight)))
        print(f"resume: killed after step {killed_at}, steps {killed_at + 1}-{args.steps} resumed; "
              f"max relative loss difference {max(diffs, default=0.0):.2e}")
        print(f"trainer headline: peak {peak:.2f} GiB ({'GPU, main process' if args.device == 'cuda' else 'RSS'}), "
              f"{statistics.median(steady):.0f} training tokens/s (median after step 1)")

    loss_args = (["--device", "cuda", "--dtype", "bfloat16", "--hidden", "4096", "--tokens", "8192"]
                 if args.device == "cuda" and not args.tiny else
                 ["--device", args.device, "--vocab", "4096", "--hidden", "64", "--tokens", "256", "--repeats", "1",
                  "--step-tokens", "128"])
    sys.stdout.flush()
    subprocess.run([sys.executable, str(Path(__file__).parent / "kl_loss_memory.py"), *loss_args], check=True,
                   env=environment(args))


if __name__ == "__main__":
    main()
