"""The training loop of one round: a fresh LoRA learns, token by token, the teacher's distribution.

Top to bottom: config -> data -> model (base + earlier adapters merged in memory + new LoRA) ->
optimiser -> resume -> loop (batch of the step, micro-batches with accumulation, clip, step, log,
validate, checkpoint) -> final adapter with provenance.

Several processes: run under ``accelerate launch`` or ``torchrun`` (see training/README.md); each
process takes every ``world``-th example of a step's batch, and the loss weights use the step's
global sample count. Every process runs the same number of micro-batches in every step (one
without data runs a zero-weight pass), so all join every collective of DDP and FSDP.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from peft import PeftModel
from tqdm.auto import tqdm
from transformers import AutoTokenizer

from core.config import dump_config
from core.errors import ConfigError, DataError
from core.examples import Example
from core.provenance import FILE, describe_datasets, describe_model, stamp
from core.store import write_atomic
from training.checkpoint import (
    latest_checkpoint,
    load_adapter_weights,
    restore_training_state,
    save_checkpoint,
    save_dir_atomic,
)
from training.config import TrainConfig
from training.data import Batch, Item, collate, epoch_order, load_examples, prepare
from training.losses import chunked_token_loss, token_weights
from training.metrics import MetricsLog
from training.model import add_lora, check_teacher_differs, hidden_states, load_model, output_weights
from training.optim import clipped_update, make_optimizer
from training.sparse_kl import SparseTeacher, chunked_sparse_kl
from training.teacher_cache import TeacherCache

log = logging.getLogger(__name__)

VALIDATION_EPOCH = -1  # dropout seed of the (fixed) validation student views


def train(config: TrainConfig, *, stop_at_step: int | None = None, progress: bool = True) -> Path:
    """Train the round's adapter; return ``output_dir/adapter`` (or, when paused, the checkpoint).

    ``stop_at_step`` pauses the run there (a checkpoint is written; a later call resumes), for
    time-limited jobs. A finished output dir is returned as is.
    """
    out = config.output_dir
    if (out / "adapter").exists():
        log.info("%s already holds a finished adapter", out / "adapter")
        return out / "adapter"
    set_seed(config.seed)
    accelerator = Accelerator()
    _refuse_lone_processes(accelerator)
    world = accelerator.num_processes
    accum = config.accumulation(world)
    # every input is read and checked before anything is written
    train_examples, val_examples = _training_examples(config), load_examples(config.val_data)
    tokenizer = AutoTokenizer.from_pretrained(config.base_model)
    train_items = prepare(train_examples, tokenizer, config.max_length)
    val_items = prepare(val_examples, tokenizer, config.val_max_length)
    if not train_items:
        raise DataError(f"no training examples left in {config.train_data} (length limit, filters)")
    cache = _teacher_cache(config, tokenizer, train_items, val_items)
    train_t = cache.temperature_for(config.loss.temperature, "loss.temperature",
                                    config.teacher_cache_retemper) if cache else None
    out.mkdir(parents=True, exist_ok=True)
    if accelerator.is_main_process:
        write_atomic(out / "config.yaml", dump_config(config))

    peft_model = add_lora(load_model(config.base_model, config.adapters, dtype=config.dtype), config.lora)
    if config.gradient_checkpointing:
        peft_model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    optimizer, scheduler = make_optimizer(peft_model.parameters(), config.optim)

    checkpoints = out / "checkpoints"
    resume_from = latest_checkpoint(checkpoints) if config.resume else None
    if resume_from:
        load_adapter_weights(resume_from, peft_model)
    model, optimizer = accelerator.prepare(peft_model, optimizer)
    start = restore_training_state(resume_from, accelerator, model, optimizer, scheduler)["step"] if resume_from else 0
    peft_model.train()

    per_step = config.micro_batch_size * accum * world
    steps_per_epoch = math.ceil(len(train_items) / per_step)
    total = config.epochs * steps_per_epoch
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    end = min(total, stop_at_step) if stop_at_step is not None else total
    run_name = config.run_name or out.name
    metrics = MetricsLog(out, run_name, config.model_dump(mode="json")) if accelerator.is_main_process else None
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    def validate(step: int) -> None:
        values = evaluate(model, peft_model, val_items, tokenizer, config, accelerator.device, cache)
        if metrics is not None and values:
            metrics.log("val", step, values)

    if start == 0 and val_items:
        validate(0)
    bar = tqdm(total=end, initial=start, desc=f"train {run_name}", unit="step",
               disable=not (progress and accelerator.is_main_process))
    for step in range(start, end):
        epoch, k = divmod(step, steps_per_epoch)
        chosen = epoch_order(len(train_items), config.seed, epoch)[k * per_step:(k + 1) * per_step]
        micro = micro_batches(chosen, accelerator.process_index, world, config.micro_batch_size)
        started = time.perf_counter()
        loss_sum, tokens = torch.zeros((), device=accelerator.device), 0
        for j, indices in enumerate(micro):
            filler = not indices  # this process has no example left: a zero-weight pass keeps it in step
            indices = indices or chosen[:1]
            pairs = [(train_items[i].student(tokenizer, config.hint_dropout, config.seed, epoch),
                      train_items[i].teacher) for i in indices]
            batch = collate(pairs, [train_items[i].example.group for i in indices], pad_id).to(accelerator.device)
            sync = contextlib.nullcontext() if j == len(micro) - 1 else accelerator.no_sync(model)
            with sync:
                teacher = cache.teacher([train_items[i].example.id for i in indices], train_t) if cache else None
                loss, _ = batch_loss(model, peft_model, batch, config, samples_in_step=len(chosen), teacher=teacher)
                if filler:
                    loss = loss * 0.0
                accelerator.backward(loss * world)
            if not filler:
                loss_sum += loss.detach()
                tokens += batch.tokens
        grad_norm = clipped_update(model.parameters(), optimizer, scheduler, config.optim.clip_norm,
                                   clip=accelerator.clip_grad_norm_)
        if step == start:
            check_teacher_differs(peft_model, batch.teacher_ids[:1], batch.teacher_attention[:1])

        seconds = time.perf_counter() - started
        loss_value = accelerator.reduce(loss_sum, reduction="sum").item()
        tokens_per_s = accelerator.reduce(torch.tensor(tokens, device=accelerator.device),
                                          reduction="sum").item() / seconds
        done = step + 1
        if metrics is not None:
            record = {"loss": loss_value, "lr": scheduler.get_last_lr()[0], "grad_norm": float(grad_norm),
                      "epoch": epoch, "tokens_per_s": tokens_per_s, "seconds": seconds}
            if accelerator.device.type == "cuda":  # the main process's peak since it started
                record["peak_memory_gib"] = torch.cuda.max_memory_allocated(accelerator.device) / 2**30
            metrics.log("train", done, record)
        bar.update()
        bar.set_postfix(loss=f"{loss_value:.4f}", tok_s=f"{tokens_per_s:.0f}")
        if val_items and (done % config.eval_every == 0 or done == total):
            validate(done)
        if done % config.save_every == 0 or done == end:
            save_checkpoint(checkpoints, done, accelerator, model, optimizer, scheduler,
                            {"epoch": epoch, "loss": loss_value}, keep=config.keep_checkpoints)
    bar.close()
    if metrics is not None:
        metrics.close()
    if end < total:
        return checkpoints / f"step-{end:06d}"
    model_state = accelerator.get_state_dict(model)
    if accelerator.is_main_process:
        _save_adapter(out / "adapter", accelerator.unwrap_model(model), model_state, config, total)
    accelerator.wait_for_everyone()
    return out / "adapter"


def micro_batches(chosen: list[int], rank: int, world: int, size: int) -> list[list[int]]:
    """This process's micro-batches of a step's examples ``chosen``: every ``world``-th example from
    ``rank``, in micro-batches of ``size``. All processes get the same number of micro-batches;
    trailing ones are empty where a process has fewer examples (the step's last, short batch)."""
    mine = chosen[rank::world]
    count = math.ceil(math.ceil(len(chosen) / world) / size)
    return [mine[i * size:(i + 1) * size] for i in range(count)]


def _refuse_lone_processes(accelerator: Accelerator) -> None:
    """Several processes launched (``WORLD_SIZE``) that did not form one process group would each
    train alone and collide writing the same output directory."""
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if launched != accelerator.num_processes:
        raise ConfigError(f"{launched} processes were launched (WORLD_SIZE) but accelerate sees "
                          f"{accelerator.num_processes} with no process group joining them; on CPU set "
                          "ACCELERATE_USE_CPU=true (torchrun) or use accelerate launch on GPUs")


def _training_examples(config: TrainConfig) -> list[Example]:
    examples = load_examples(config.train_data)
    if config.loss.kind == "xent":  # cross-entropy on the teacher's tokens: successful trajectories only
        examples = [e for e in examples if e.success]
    return examples


def _teacher_cache(config: TrainConfig, tokenizer: Any, train: list[Item], val: list[Item]) -> TeacherCache | None:
    """The configured teacher cache, checked to hold every item's target tokens (else stale) at the
    loss temperature and, with validation items, at ``val_temperature`` (else refused)."""
    if config.teacher_cache is None:
        return None
    cache = TeacherCache(config.teacher_cache, [*config.train_data, *config.val_data], tokenizer)
    cache.temperature_for(config.loss.temperature, "loss.temperature", config.teacher_cache_retemper)
    if config.loss.temperature > 1 and cache.k < len(tokenizer):
        log.warning("teacher cache %s: k = %d at loss.temperature %s sees the teacher's tempered tail as one "
                    "bucket, which leaves large loss and gradient errors above T = 1 (README, 'A cached teacher'); "
                    "k = vocabulary is exact", cache.dir, cache.k, config.loss.temperature)
    if val:
        cache.temperature_for(config.val_temperature, "val_temperature", config.teacher_cache_retemper)
    for it in train + val:
        cache.check(it.example.id, it.teacher.target_ids)
    return cache


def hidden_pair(model: torch.nn.Module, peft_model: PeftModel, batch: Batch,
                 need_teacher: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Student hidden states at the target positions and, under no_grad with the adapter off, the teacher's."""
    h_t = None
    if need_teacher:
        with torch.no_grad(), peft_model.disable_adapter():
            h_t = hidden_states(model, batch.teacher_ids, batch.teacher_attention)[batch.teacher_at]
    h_s = hidden_states(model, batch.student_ids, batch.student_attention)[batch.student_at]
    return h_s, h_t


def batch_loss(model: torch.nn.Module, peft_model: PeftModel, batch: Batch, config: TrainConfig,
               samples_in_step: int, teacher: SparseTeacher | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The micro-batch's share of the step loss (see :mod:`training.losses`) and per-token values;
    with a cached ``teacher`` (:mod:`training.sparse_kl`) no teacher forward runs."""
    kind = config.loss.kind
    h_s, h_t = hidden_pair(model, peft_model, batch, need_teacher=kind != "xent" and teacher is None)
    w_s, w_t = output_weights(model)
    weights = token_weights(batch.target_counts, samples_in_step)
    if teacher is not None:
        return chunked_sparse_kl(h_s, w_s, teacher, weights, temperature=config.loss.temperature,
                                 chunk_tokens=config.loss.chunk_tokens, retemper=config.teacher_cache_retemper)
    return chunked_token_loss(h_s, w_s, h_t, w_t.detach(), batch.labels, weights, kind=kind,
                              temperature=config.loss.temperature, chunk_tokens=config.loss.chunk_tokens)


def evaluate(model: torch.nn.Module, peft_model: PeftModel, items: list[Item], tokenizer: Any,
             config: TrainConfig, device: torch.device, cache: TeacherCache | None = None) -> dict[str, float]:
    """Validation KL(teacher ‖ student) at ``val_temperature`` and the student's token cross-entropy.

    With a teacher ``cache`` the KL is the sparse one (:mod:`training.sparse_kl`) against the teacher
    the cache holds at ``val_temperature`` (or, with ``teacher_cache_retemper``, at its own, tempered
    per token), and no teacher forward runs.

    Per-sample token means, averaged over samples: overall and per ``Example.group``.
    """
    if not items:
        return {}
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    per_sample: dict[str, list[float]] = defaultdict(list)
    peft_model.eval()
    with torch.no_grad():
        for lo in range(0, len(items), config.micro_batch_size):
            chunk = items[lo:lo + config.micro_batch_size]
            pairs = [(it.student(tokenizer, config.val_hint_dropout, config.seed, VALIDATION_EPOCH), it.teacher)
                     for it in chunk]
            batch = collate(pairs, [it.example.group for it in chunk], pad_id).to(device)
            h_s, h_t = hidden_pair(model, peft_model, batch, need_teacher=cache is None)
            w_s, w_t = output_weights(model)
            ones = torch.ones(len(batch.labels))
            opts = {"temperature": config.val_temperature, "chunk_tokens": config.loss.chunk_tokens}
            if cache is not None:
                cached_t = cache.temperature_for(config.val_temperature, "val_temperature", config.teacher_cache_retemper)
                kl = chunked_sparse_kl(h_s, w_s, cache.teacher([it.example.id for it in chunk], cached_t), ones,
                                       retemper=config.teacher_cache_retemper, **opts)
            else:
                kl = chunked_token_loss(h_s, w_s, h_t, w_t, batch.labels, ones, kind="forward_kl", **opts)
            per_token = {"kl": kl[1],
                         "xent": chunked_token_loss(h_s, w_s, None, None, batch.labels, ones, kind="xent", **opts)[1]}
            for name, values in per_token.items():
                for group, sample in zip(batch.groups, values.split(batch.target_counts), strict=True):
                    per_sample[name].append(sample.mean().item())
                    per_sample[f"{name}/{group or 'none'}"].append(sample.mean().item())
    peft_model.train()
    return {name: sum(v) / len(v) for name, v in per_sample.items()}


def _save_adapter(path: Path, model: PeftModel, model_state: dict[str, Any], config: TrainConfig,
                  steps: int) -> None:
    def write(tmp: Path) -> None:
        model.save_pretrained(tmp, state_dict=model_state, save_embedding_layers=False)  # LoRA only, no base lm_head
        record = {"kind": "adapter", "base_model": describe_model(config.base_model, digests=False),
                  "adapters": [describe_model(a) for a in config.adapters],
                  "train_data": describe_datasets(config.train_data),
                  "val_data": describe_datasets(config.val_data), "steps": steps,
                  "config": config.model_dump(mode="json"), **stamp()}
        write_atomic(tmp / FILE, json.dumps(record, indent=1))

    save_dir_atomic(path, write)

