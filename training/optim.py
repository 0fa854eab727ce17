"""The optimiser, its learning-rate schedule and the clipped update, shared by the round's trainer
(:mod:`training.trainer`) and the demo's stand-in pretraining (:mod:`demo.standin`), each with its
own settings (:class:`training.config.OptimSettings`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch
from torch.optim.lr_scheduler import LambdaLR

from training.config import OptimSettings

ClipGradNorm = Callable[[Iterable[torch.nn.Parameter], float], torch.Tensor]


def make_optimizer(parameters: Iterable[torch.nn.Parameter], settings: OptimSettings,
                   decay_steps: int | None = None) -> tuple[torch.optim.AdamW, LambdaLR]:
    """AdamW over the trainable ``parameters`` and its schedule: a linear warm-up over
    ``settings.warmup_steps``, then constant or, given ``decay_steps``, a cosine decay reaching 0 there."""
    optimizer = torch.optim.AdamW([p for p in parameters if p.requires_grad], lr=settings.lr, betas=settings.betas,
                                  weight_decay=settings.weight_decay)
    warmup = settings.warmup_steps

    def factor(step: int) -> float:
        rate = min(1.0, (step + 1) / warmup) if warmup else 1.0
        if decay_steps:
            rate *= 0.5 * (1 + math.cos(math.pi * min(step, decay_steps) / decay_steps))
        return rate

    return optimizer, LambdaLR(optimizer, factor)


def clipped_update(parameters: Iterable[torch.nn.Parameter], optimizer: torch.optim.Optimizer, scheduler: LambdaLR,
                   clip_norm: float, clip: ClipGradNorm = torch.nn.utils.clip_grad_norm_) -> torch.Tensor:
    """Clip the gradients' global norm to ``clip_norm`` (with ``clip``: the accelerator's under
    DDP/FSDP), step the optimiser and the schedule, and clear the gradients. Returns the norm before clipping."""
    grad_norm = clip(parameters, clip_norm)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return grad_norm
