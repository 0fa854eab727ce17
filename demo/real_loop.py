"""`mnm real-loop`: one round of the coaching loop on a real small chat model served by vLLM (CPU).

collect (teacher with hints, student without) -> review -> correct -> dataset -> train a LoRA for
a few steps -> merge -> serve the merged model with vLLM -> collect again. Sizes are tiny: it
checks that every stage runs on a real model, chat template and server, not that it learns.
Layout under ``run_dir``: ``collect-{teacher,student,merged}/``, ``review/``, ``dataset/``,
``train/``, ``merged/``, ``serve-logs/``, ``loop.json`` (paths and timings).
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

from agent.loop import AgentConfig
from core.config import Config
from core.llm.factory import ClientConfig, make_client
from core.models import build
from core.serving import ServeConfig, served
from core.store import write_atomic
from filters.correct import correct
from filters.dataset import DatasetConfig, build_dataset
from filters.review import review
from filters.spec import LIBRARY
from tasks.collection.config import CollectConfig, TaskSelection
from tasks.collection.runner import collect
from tasks.sample import SampleBenchmark
from tasks.task import PromptConfig
from training.config import LoraSettings, OptimSettings, TrainConfig
from training.merge import merge
from training.trainer import train


class LoopConfig(Config):
    model: str = "smollm2-135m-instruct"
    trials: int = 3  # teacher episodes: enough for a usable step (SmolLM2 often runs past max_tokens)
    max_steps: int = 2
    max_tokens: int = 96
    temperature: float = 1.0
    eval_trials: int = 1  # student and merged-model episodes: one step, short
    eval_max_tokens: int = 32
    train_steps: int = 2
    lora_rank: int = 8
    seed: int = 0  # dataset split and training (sampling is unseeded: trials must differ)
    port: int = 8100  # the merged model's server (and the base's unless base_url is given)
    base_url: str | None = None  # a vLLM server already serving the base model as ``served_name``
    served_name: str = "base"


def serving(model: Path, name: str, port: int, log_dir: Path) -> contextlib.AbstractContextManager[str]:
    """vLLM on CPU serving ``model`` as ``name`` for the block; yields the base URL."""
    return served(ServeConfig(model=str(model), served_name=name, port=port, cpu=True, dtype="float32",
                              max_model_len=4096, kv_cache_gib=1), log_dir, timeout_s=1200)


def run_real_loop(run_dir: Path, config: LoopConfig = LoopConfig()) -> dict:
    """Run the loop under ``run_dir``; return ``loop.json``'s record (stage paths and seconds)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    base = build(config.model)
    timings: dict[str, float] = {}
    record: dict = {"config": config.model_dump(), "base": str(base), "timings": timings}

    def timed(name: str, work):  # noqa: ANN001, ANN202
        t0 = time.perf_counter()
        out = work()
        timings[name] = round(time.perf_counter() - t0, 1)
        return out

    def run(name: str, url: str, served: str, tokenizer: Path, hints: bool) -> Path:
        teacher = name == "teacher"
        cfg = CollectConfig(
            run_dir=run_dir / f"collect-{name}", preset=f"real-{name}",
            prompt=PromptConfig(name="hints" if hints else "nohints", hints="task" if hints else "none",
                                tool_docs="long" if hints else "none"),
            tasks=TaskSelection(benchmark="sample"), trials=config.trials if teacher else config.eval_trials,
            client=ClientConfig(backend="vllm-completions", model=served, base_urls=[url], tokenizer=str(tokenizer)),
            agent=AgentConfig(temperature=config.temperature, max_tokens=config.max_tokens if teacher
                              else config.eval_max_tokens, max_steps=config.max_steps if teacher else 1, seed=None))
        return timed(f"collect-{name}", lambda: collect(cfg, show_progress=False))

    with contextlib.ExitStack() as stack:
        url = config.base_url or stack.enter_context(
            serving(base, config.served_name, config.port, run_dir / "serve-logs" / "base"))
        teacher = run("teacher", url, config.served_name, base, hints=True)
        student = run("student", url, config.served_name, base, hints=False)
        review_dir = run_dir / "review"
        timed("review", lambda: review([student], [LIBRARY / "toolqa"], review_dir, show_progress=False))
        client = make_client(ClientConfig(backend="vllm-completions", model=config.served_name, base_urls=[url],
                                          tokenizer=str(base)))
        timed("correct", lambda: correct(review_dir, client, samples=1, max_tokens=config.max_tokens,
                                         benchmark=SampleBenchmark(), show_progress=False))

    # The sample benchmark has a test split only: allow it as training data here.
    data = timed("dataset", lambda: build_dataset(
        run_dir / "dataset", DatasetConfig(round=1, val_fraction=0.0, seed=config.seed, exports=[],
                                           allow_evaluation_splits=True),
        runs=[teacher], show=False))
    adapter = timed("train", lambda: train(TrainConfig(
        base_model=base, train_data=[data / "train.jsonl"], output_dir=run_dir / "train",
        lora=LoraSettings(rank=config.lora_rank, dropout=0.0), optim=OptimSettings(lr=1e-4, warmup_steps=0),
        max_steps=config.train_steps, epochs=10_000, dtype="float32", eval_every=config.train_steps,
        save_every=config.train_steps, seed=config.seed), progress=False))
    merged = timed("merge", lambda: merge(base, [adapter], run_dir / "merged", [data / "train.jsonl"]))
    t0 = time.perf_counter()
    with serving(merged, "merged", config.port, run_dir / "serve-logs" / "merged") as url:
        timings["serve-merged"] = round(time.perf_counter() - t0, 1)
        after = run("merged", url, "merged", merged, hints=False)
    record.update(teacher=str(teacher), student=str(student), review=str(review_dir), dataset=str(data),
                  adapter=str(adapter), merged=str(merged), after=str(after))
    write_atomic(run_dir / "loop.json", json.dumps(record, indent=1))
    return record
