"""Numbered, never-overwritten training checkpoints that are enough to resume exactly.

``<output>/checkpoints/step-000050/`` holds the adapter (peft format), ``trainer.pt`` (optimiser,
scheduler and RNG states) and ``state.json`` (step, metrics). A checkpoint is written to a hidden
temporary directory and renamed into place, so a listed checkpoint is always complete.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from peft import PeftModel, set_peft_model_state_dict
from safetensors.torch import load_file

from core.store import write_atomic

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


def save_checkpoint(root: Path, step: int, model: PeftModel, optimizer: torch.optim.Optimizer,
                    scheduler: Any, state: dict[str, Any], model_state: dict[str, Any] | None = None) -> Path:
    """``model_state``: the gathered state dict when the model is sharded (FSDP)."""

    def write(tmp: Path) -> None:
        model.save_pretrained(tmp, state_dict=model_state)
        torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "rng": rng_state()}, tmp / "trainer.pt")
        write_atomic(tmp / "state.json", json.dumps({"step": step, **state}, indent=1))

    return save_dir_atomic(root / f"{PREFIX}{step:06d}", write)


def latest_checkpoint(root: Path) -> Path | None:
    steps = sorted(p for p in root.glob(f"{PREFIX}*") if p.is_dir()) if root.exists() else []
    return steps[-1] if steps else None


def load_checkpoint(path: Path, model: PeftModel, optimizer: torch.optim.Optimizer,
                    scheduler: Any) -> dict[str, Any]:
    """Restore adapter weights, optimiser, scheduler and RNG states; return ``state.json``."""
    set_peft_model_state_dict(model, load_file(path / "adapter_model.safetensors"))
    saved = torch.load(path / "trainer.pt", weights_only=False)
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    set_rng_state(saved["rng"])
    return json.loads((path / "state.json").read_text())


def rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
