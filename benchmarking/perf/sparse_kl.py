# %% [markdown]
# # Cached sparse teacher (top-k + tail) against today's trainer (teacher forward every step)
#
# On a real chat model (default: the SmolLM2-135M-Instruct that `mnm models` built) and the
# hand-made agent examples with hint sections (teacher: every hint; student: none, as at the
# start of a round), in one run:
# 1. **KL error** of the sparse loss (:mod:`training.sparse_kl`, teacher from a
#    :mod:`training.teacher_cache` built in-process at every temperature in ``TEMPERATURES``)
#    against the exact full-vocabulary loss at k in ``KS``, for each temperature: relative error of
#    the loss and of its gradient (over the LoRA parameters), with the cache scored at that
#    temperature, and at T ≠ 1 the old way beside it (a T = 1 cache, completed like the student at
#    T = 1, then both tempered per token: ``teacher_cache_retemper``, what a vLLM cache allows);
# 2. **training step**: the trainer's ``batch_loss`` + backward + AdamW on one batch of every
#    example, today's (teacher forward) against the cached teacher at each k: student tokens per
#    second (best of ``REPEATS``, variants alternating) and the step's peak memory above what was
#    allocated before it (CUDA: ``max_memory_allocated``; CPU: a fresh process per variant, RSS
#    sampled every millisecond with glibc's mmap threshold pinned so freed buffers leave RSS at once).
#
# Set the knobs in the first cell, then run the cells, or ``python benchmarking/perf/sparse_kl.py``.
# Every ratio is against today's trainer measured in the same run.

# %% tags=["parameters"]
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import torch
from transformers import AutoTokenizer

import benchmarking.perf
from core.examples import write_examples
from core.models import model_dir
from tests.fakes.tiny_model import tiny_examples
from training.config import TrainConfig
from training.data import collate, prepare
from training.model import add_lora, load_model
from training.sparse_kl import SparseTeacher
from training.teacher_cache import LocalTeacher, TeacherCache, build_cache
from training.trainer import batch_loss

MODEL: str | None = None  # a local checkpoint; None: the smollm2-135m-instruct that `mnm models` built
EXAMPLES = 4
KS = (20, 100, 1000)
TEMPERATURES = (1.0, 2.0)
REPEATS = 3
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
DTYPE = "float32"

# %%
PEAK_ENV = "MNM_SPARSE_KL_PEAK_OF"  # set in the fresh process that measures one variant's peak memory


def setup(model: Path, work: Path, device: str, dtype: str, n: int) -> dict:
    """A LoRA'd model (B = 0: the student is the base without hints), its optimiser and one batch."""
    data = write_examples(work / "data.jsonl", tiny_examples(n))
    config = TrainConfig.model_validate({"base_model": str(model), "train_data": [str(data)], "output_dir": str(work),
                                         "lora": {"rank": 16}, "dtype": dtype, "hint_dropout": 1.0})
    tokenizer = AutoTokenizer.from_pretrained(model)
    items = prepare(tiny_examples(n), tokenizer, config.max_length)
    torch.manual_seed(0)
    lm = add_lora(load_model(model, dtype=dtype), config.lora).to(device)
    batch = collate([(it.student(tokenizer, 1.0, 0, 0), it.teacher) for it in items], ["bench"] * n,
                    tokenizer.pad_token_id or 0).to(device)
    optimizer = torch.optim.AdamW([p for p in lm.parameters() if p.requires_grad], lr=1e-5)
    return {"config": config, "data": data, "tokenizer": tokenizer, "items": items, "model": lm, "batch": batch,
            "optimizer": optimizer}


def caches(s: dict, work: Path, ks: tuple[int, ...], temperatures: tuple[float, ...]) -> dict[int, TeacherCache]:
    """One in-process teacher cache per k (the base model, all hints) at ``temperatures``, built once into ``work``."""
    teacher = LocalTeacher(s["config"].base_model, temperatures=temperatures, dtype=s["config"].dtype, device=DEVICE)
    out = {}
    for k in ks:
        path = build_cache([s["data"]], work / f"cache-k{k}", teacher, student_model=s["config"].base_model,
                           teacher_tokenizer=s["config"].base_model, k=k, progress=False)
        out[k] = TeacherCache(path, [s["data"]], s["tokenizer"])
    return out


def teacher_of(s: dict, cache: TeacherCache | None, temperature: float) -> SparseTeacher | None:
    return None if cache is None else cache.teacher([it.example.id for it in s["items"]], temperature).to(DEVICE)


def loss_and_grad(s: dict, cache: TeacherCache | None, temperature: float,
                  cached_at: float | None = None) -> tuple[float, torch.Tensor]:
    """The trainer's loss at ``temperature`` and its gradient: today's (no cache), or the cache read
    at ``cached_at`` (default ``temperature``; another one is tempered per token, ``teacher_cache_retemper``)."""
    cached_at = temperature if cached_at is None else cached_at
    config = s["config"].model_copy(update={"loss": s["config"].loss.model_copy(update={"temperature": temperature}),
                                            "teacher_cache_retemper": cached_at != temperature})
    teacher = teacher_of(s, cache, cached_at)
    loss, _ = batch_loss(s["model"], s["model"], s["batch"], config, len(s["items"]), teacher=teacher)
    params = [p for p in s["model"].parameters() if p.requires_grad]
    return loss.item(), torch.cat([g.flatten() for g in torch.autograd.grad(loss, params)])


def errors(got: tuple[float, torch.Tensor], exact: tuple[float, torch.Tensor]) -> str:
    (loss, grad), (ref, ref_grad) = got, exact
    return (f"loss {loss:.5f}, relative error {abs(loss - ref) / ref:.2e}; gradient relative error "
            f"{((grad - ref_grad).norm() / ref_grad.norm()).item():.2e}")


def kl_errors(s: dict, cached: dict[int, TeacherCache], temperatures: tuple[float, ...]) -> None:
    s["model"].eval()  # no LoRA dropout: every variant sees the same student
    for temperature in temperatures:
        exact = loss_and_grad(s, None, temperature)
        print(f"T = {temperature}: exact full-vocabulary loss {exact[0]:.5f}", flush=True)
        for k, cache in cached.items():
            print(f"  k = {k:5d}, cache at T = {temperature}: {errors(loss_and_grad(s, cache, temperature), exact)}",
                  flush=True)
            if temperature != 1.0:
                print(f"  k = {k:5d}, old way (T = 1 cache): "
                      f"{errors(loss_and_grad(s, cache, temperature, cached_at=1.0), exact)}", flush=True)
    s["model"].train()


def train_step(s: dict, cache: TeacherCache | None) -> float:
    """One training step (today's: teacher forward; cached: none) on the batch; return seconds."""
    start = time.perf_counter()
    teacher = teacher_of(s, cache, s["config"].loss.temperature)
    loss, _ = batch_loss(s["model"], s["model"], s["batch"], s["config"], len(s["items"]), teacher=teacher)
    loss.backward()
    s["optimizer"].step()
    s["optimizer"].zero_grad(set_to_none=True)
    if DEVICE == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def step_peak_mib(s: dict, cache: TeacherCache | None) -> float:
    """Memory one step needs above what is allocated before it (the second step: optimiser state exists)."""
    train_step(s, cache)
    if DEVICE == "cuda":
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        train_step(s, cache)
        return (torch.cuda.max_memory_allocated() - before) / 2**20
    process, peak, done = psutil.Process(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.001)

    before = process.memory_info().rss
    sampler = threading.Thread(target=sample)
    sampler.start()
    train_step(s, cache)
    done.set()
    sampler.join()
    return (peak[0] - before) / 2**20


def peak_in_fresh_process(variant: str, model: Path, work: Path, n: int) -> float:
    """``step_peak_mib`` of one variant (``today`` or a k) in a fresh process (CPU), so no other
    variant's freed memory is reused."""
    script = Path(benchmarking.perf.__file__).parent / "sparse_kl.py"
    root = str(script.parents[2])
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536",
           "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p),
           PEAK_ENV: json.dumps({"variant": variant, "model": str(model), "work": str(work), "n": n})}
    out = subprocess.run([sys.executable, str(script)], check=True, capture_output=True, text=True, env=env)
    return float(out.stdout.strip().splitlines()[-1])


def main(model: str | Path | None = None, n: int = 4, ks: tuple[int, ...] = (20, 100, 1000),
         temperatures: tuple[float, ...] = (1.0, 2.0), repeats: int = 3) -> None:
    path = Path(model) if model else model_dir("smollm2-135m-instruct")
    with tempfile.TemporaryDirectory(prefix="sparse-kl-") as tmp:
        work = Path(tmp)
        s = setup(path, work, DEVICE, DTYPE, n)
        cached = caches(s, work, ks, tuple(dict.fromkeys((*temperatures, 1.0, s["config"].loss.temperature))))
        student_tokens = int(s["batch"].student_attention.sum())
        print(f"model {path} ({DTYPE}, {DEVICE}, torch threads {torch.get_num_threads()}); {n} examples: "
              f"{student_tokens} student tokens, {int(s['batch'].teacher_attention.sum())} teacher tokens, "
              f"{len(s['batch'].labels)} targets; vocabulary {len(s['tokenizer'])}", flush=True)
        kl_errors(s, cached, temperatures)

        variants = {"today (teacher forward)": None, **{f"cached k = {k}": cache for k, cache in cached.items()}}
        times: dict[str, list[float]] = {name: [] for name in variants}
        for cache in variants.values():  # warm-up
            train_step(s, cache)
        for _ in range(repeats):
            for name, cache in variants.items():
                times[name].append(train_step(s, cache))
        if DEVICE == "cuda":
            peaks = {name: step_peak_mib(s, cache) for name, cache in variants.items()}
        else:
            peaks = {name: peak_in_fresh_process("today" if cache is None else str(cache.k), path, work, n)
                     for name, cache in variants.items()}
        base = "today (teacher forward)"
        for name in variants:
            rate = student_tokens / min(times[name])
            print(f"{name:24s} {rate:8.0f} student tokens/s ({min(times[base]) / min(times[name]):.2f}x today), "
                  f"step peak {peaks[name]:8.1f} MiB ({peaks[name] / peaks[base]:.2f}x today)", flush=True)
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def peak_of(spec: dict) -> None:
    """The fresh process's part: rebuild the setup, open the parent's cache, print the step's peak."""
    work = Path(spec["work"])
    s = setup(Path(spec["model"]), Path(tempfile.mkdtemp(dir=work)), DEVICE, DTYPE, spec["n"])
    cache = None
    if spec["variant"] != "today":
        cache = TeacherCache(work / f"cache-k{spec['variant']}", [work / "data.jsonl"], s["tokenizer"])
    print(step_peak_mib(s, cache))


# %%
if os.environ.get(PEAK_ENV):
    peak_of(json.loads(os.environ[PEAK_ENV]))
else:
    main(MODEL, EXAMPLES, KS, TEMPERATURES, REPEATS)
