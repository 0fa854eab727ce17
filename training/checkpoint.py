"""Numbered, never-overwritten training checkpoints that are enough to resume exactly, on one or
several processes (DDP or FSDP).

``<output>/checkpoints/step-000050/`` holds the adapter (peft format), ``optimizer.pt`` (the full,
unsharded optimiser state keyed by parameter name, gathered from every process), ``trainer.pt``
(scheduler state and each process's RNG states) and ``state.json`` (step, metrics). A checkpoint
is written to a hidden temporary directory and renamed into place, so a listed checkpoint is
always complete (a run killed while saving leaves only the temporary directory).
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from accelerate import Accelerator
from peft import PeftModel, set_peft_model_state_dict
from safetensors.torch import load_file
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_optimizer_state_dict,
    set_optimizer_state_dict,
)

from core.errors import ConfigError
from core.store import write_atomic

log = logging.getLogger(__name__)

PREFIX = "step-"


def save_dir_atomic(final: Path, write: Any) -> Path:
    """Call ``write(tmp_dir)`` then rename ``tmp_dir`` to ``final``; refuse to replace an existing dir.
    A ``write`` that fails leaves nothing behind."""
    if final.exists():
        raise FileExistsError(f"{final} already exists; refusing to overwrite it")
    tmp = final.parent / f".{final.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)  # left over by a killed run
    tmp.mkdir(parents=True)
    try:
        write(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    os.rename(tmp, final)
    return final


def save_checkpoint(root: Path, step: int, accelerator: Accelerator, model: torch.nn.Module,
                    optimizer: torch.optim.Optimizer, scheduler: Any, state: dict[str, Any],
                    keep: int | None = None) -> Path:
    """Every process calls this (it gathers sharded state); the main process writes the directory,
    then deletes all but the newest ``keep`` checkpoints (``None``: none deleted)."""
    model_state = accelerator.get_state_dict(model)
    optim_state = get_optimizer_state_dict(model, _inner(optimizer),
                                           options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    rngs = _gather(rng_state(), accelerator)
    path = root / f"{PREFIX}{step:06d}"
    if accelerator.is_main_process:
        def write(tmp: Path) -> None:
            accelerator.unwrap_model(model).save_pretrained(tmp, state_dict=model_state, save_embedding_layers=False)
            torch.save(optim_state, tmp / "optimizer.pt")
            torch.save({"scheduler": scheduler.state_dict(), "rng": rngs}, tmp / "trainer.pt")
            write_atomic(tmp / "state.json", json.dumps({"step": step, "processes": len(rngs), **state}, indent=1))

        save_dir_atomic(path, write)
        if keep is not None:
            for old in _checkpoints(root)[:-keep]:
                shutil.rmtree(old)
    accelerator.wait_for_everyone()
    return path


def _checkpoints(root: Path) -> list[Path]:
    """The complete checkpoints under ``root``, oldest first."""
    return sorted(p for p in root.glob(f"{PREFIX}*") if p.is_dir()) if root.exists() else []


def latest_checkpoint(root: Path) -> Path | None:
    steps = _checkpoints(root)
    return steps[-1] if steps else None


def load_adapter_weights(path: Path, model: PeftModel) -> None:
    """Restore the adapter of checkpoint ``path`` (before the model is wrapped for DDP/FSDP)."""
    set_peft_model_state_dict(model, load_file(path / "adapter_model.safetensors"))


def restore_training_state(path: Path, accelerator: Accelerator, model: torch.nn.Module,
                           optimizer: torch.optim.Optimizer, scheduler: Any) -> dict[str, Any]:
    """Every process calls this after ``accelerator.prepare``: the optimiser state is read by the main
    process and scattered to the shards; scheduler and this process's RNG states are restored.
    Returns ``state.json``."""
    if not (path / "optimizer.pt").exists():
        raise ConfigError(f"{path}: no optimizer.pt (a checkpoint of an older mnm); resume it with that "
                          "version, or set resume=false")
    several = accelerator.num_processes > 1
    full = torch.load(path / "optimizer.pt", weights_only=False) if accelerator.is_main_process else {}
    set_optimizer_state_dict(model, _inner(optimizer), full,
                             options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=several))
    saved = torch.load(path / "trainer.pt", weights_only=False)
    scheduler.load_state_dict(saved["scheduler"])
    rngs = saved["rng"]
    if len(rngs) != accelerator.num_processes:
        log.warning("%s was saved by %d processes, resuming on %d: LoRA dropout draws will differ from an "
                    "uninterrupted run", path, len(rngs), accelerator.num_processes)
    set_rng_state(rngs[accelerator.process_index % len(rngs)])
    return json.loads((path / "state.json").read_text())


def _inner(optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
    return getattr(optimizer, "optimizer", optimizer)  # accelerate's AcceleratedOptimizer wraps it


def _gather(obj: Any, accelerator: Accelerator) -> list[Any]:
    if accelerator.num_processes == 1:
        return [obj]
    out: list[Any] = [None] * accelerator.num_processes
    dist.all_gather_object(out, obj)
    return out


def rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])
