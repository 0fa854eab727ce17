"""Training configuration: one pydantic model per concern, defaults = the paper's settings.

Load with ``core.config.load_config(TrainConfig, "train.yaml", ["optim.lr=2e-5"])``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from core.config import Config
from core.errors import ConfigError

LossKind = Literal["forward_kl", "reverse_kl", "jsd", "xent"]


class LoraSettings(Config):
    """The new adapter trained in this round."""

    rank: int = Field(128, gt=0)
    alpha: int | None = Field(None, description="LoRA alpha; None means 2 x rank (the paper)")
    dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: list[str] | Literal["all-linear"] = "all-linear"
    output_layer: bool = Field(True, description="also adapt the output layer, as the paper did; the adapter "
                               "then needs merging to be served by vLLM (rounds merge anyway)")

    @property
    def lora_alpha(self) -> int:
        return self.alpha if self.alpha is not None else 2 * self.rank


class OptimSettings(Config):
    """AdamW with linear warm-up then a constant learning rate, and gradient-norm clipping."""

    lr: float = Field(1e-5, gt=0)
    weight_decay: float = Field(0.02, ge=0)
    betas: tuple[float, float] = (0.9, 0.999)
    warmup_steps: int = Field(30, ge=0)
    clip_norm: float = Field(1.0, gt=0)


class LossSettings(Config):
    """Per-token divergence between teacher and student; see :mod:`training.losses`."""

    kind: LossKind = Field("forward_kl", description="xent trains on successful examples only")
    temperature: float = Field(2.0, gt=0)
    chunk_tokens: int = Field(256, gt=0, description="target tokens per logit chunk (memory vs speed)")


class TrainConfig(Config):
    """Everything one training round needs; written into the output dir and every checkpoint."""

    base_model: Path = Field(description="HF checkpoint directory of the round's base")
    adapters: list[Path] = Field(default_factory=list,
                                 description="earlier rounds' adapters, merged into the base in memory")
    train_data: list[Path] = Field(description="Example JSONL files")
    val_data: list[Path] = Field(default_factory=list)
    output_dir: Path

    lora: LoraSettings = Field(default_factory=LoraSettings)
    optim: OptimSettings = Field(default_factory=OptimSettings)
    loss: LossSettings = Field(default_factory=LossSettings)
    teacher_cache: Path | None = Field(None, description="a `mnm teacher-cache` directory covering train_data "
                                       "and val_data, scored at loss.temperature and val_temperature: the loss "
                                       "reads its top-k teacher (training.sparse_kl) and the teacher forward "
                                       "never runs; forward_kl only")
    teacher_cache_retemper: bool = Field(False, description="use a teacher_cache scored at another temperature "
                                         "(vLLM: 1.0 only) by tempering its completed teacher per token: exact at "
                                         "full k, approximate below (README, 'A cached teacher')")

    hint_dropout: float = Field(0.9, ge=0, le=1, description="chance each hint section is hidden from the student")
    val_hint_dropout: float = Field(1.0, ge=0, le=1, description="validation student: all hints hidden")
    val_temperature: float = Field(1.0, gt=0)
    epochs: int = Field(2, gt=0)
    max_steps: int | None = Field(None, gt=0, description="stop after this many optimiser steps")
    micro_batch_size: int = Field(1, gt=0)
    grad_accum: int = Field(1, gt=0, description="micro-batches per process per step (without global_batch)")
    global_batch: int | None = Field(None, gt=0, description="examples per optimiser step over all processes; "
                                     "grad_accum is derived from it, so the objective does not depend on the GPUs")
    max_length: int = Field(4096, gt=0, description="longer teacher sequences are skipped in training")
    val_max_length: int = Field(8192, gt=0)
    seed: int = 0

    dtype: Literal["float32", "bfloat16", "float16"] = "bfloat16"
    gradient_checkpointing: bool = False
    eval_every: int = Field(50, gt=0)
    save_every: int = Field(50, gt=0)
    keep_checkpoints: int | None = Field(3, gt=0, description="the newest checkpoints kept; older ones are "
                                         "deleted after each save (None keeps every one)")
    resume: bool = Field(True, description="continue from the newest checkpoint in output_dir")
    run_name: str | None = None

    @model_validator(mode="after")
    def _needs_data(self) -> TrainConfig:
        if not self.train_data:
            raise ValueError("train_data is empty")
        if self.global_batch is not None and self.grad_accum != 1:
            raise ValueError("set global_batch or grad_accum, not both (global_batch derives grad_accum)")
        if self.teacher_cache_retemper and self.teacher_cache is None:
            raise ValueError("teacher_cache_retemper without a teacher_cache")
        if self.teacher_cache is not None and self.loss.kind != "forward_kl":
            raise ValueError(f"teacher_cache gives a sparse teacher for forward_kl only, not loss.kind {self.loss.kind}")
        return self

    def accumulation(self, processes: int) -> int:
        """Micro-batches per process per optimiser step on ``processes`` processes."""
        if self.global_batch is None:
            return self.grad_accum
        per_pass = self.micro_batch_size * processes
        if self.global_batch % per_pass:
            raise ConfigError(f"global_batch {self.global_batch} is not a multiple of micro_batch_size "
                              f"{self.micro_batch_size} x {processes} processes")
        return self.global_batch // per_pass
