"""The optimiser, schedule and clipped update shared by the trainer and the stand-in; the stand-in's loss."""

from __future__ import annotations

import math

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from demo.standin import target_xent
from training.config import OptimSettings
from training.optim import clipped_update, make_optimizer
from training.sequences import Encoded


def _rates(settings: OptimSettings, steps: int, decay_steps: int | None = None) -> list[float]:
    weight = torch.nn.Parameter(torch.zeros(2))
    optimizer, scheduler = make_optimizer([weight], settings, decay_steps)
    rates = []
    for _ in range(steps):
        rates.append(scheduler.get_last_lr()[0])
        weight.grad = torch.ones(2)
        clipped_update([weight], optimizer, scheduler, settings.clip_norm)
    return rates


def test_warm_up_then_constant_or_cosine_decay_to_zero() -> None:
    assert _rates(OptimSettings(lr=1.0, warmup_steps=4), 6) == pytest.approx([0.25, 0.5, 0.75, 1, 1, 1])
    assert _rates(OptimSettings(lr=1.0, warmup_steps=0), 6) == [1.0] * 6
    decayed = _rates(OptimSettings(lr=2.0, warmup_steps=0), 12, decay_steps=10)
    assert decayed[0] == 2.0 and decayed[5] == pytest.approx(1.0) and decayed[10:] == pytest.approx([0.0, 0.0])
    warm_and_decay = _rates(OptimSettings(lr=1.0, warmup_steps=2), 3, decay_steps=4)
    assert warm_and_decay == pytest.approx([0.5 * 0.5 * (1 + math.cos(0)), 0.5 * (1 + math.cos(math.pi / 4)),
                                            0.5 * (1 + math.cos(math.pi / 2))])


def test_the_update_clips_the_global_norm_and_clears_the_gradients() -> None:
    trained, frozen = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2), requires_grad=False)
    settings = OptimSettings(lr=0.1, weight_decay=0.0, warmup_steps=0, clip_norm=1.0)
    optimizer, scheduler = make_optimizer([trained, frozen], settings)
    assert [p for group in optimizer.param_groups for p in group["params"]] == [trained]
    trained.grad = torch.tensor([30.0, 40.0])
    norm = clipped_update([trained], optimizer, scheduler, settings.clip_norm)
    assert float(norm) == pytest.approx(50.0) and trained.grad is None
    assert trained.detach().tolist() == pytest.approx([-0.1, -0.1], rel=1e-3)  # Adam's first step: lr per coordinate


def test_the_stand_ins_loss_is_the_token_mean_cross_entropy_of_the_targets() -> None:
    """Parity with transformers' own loss (labels -100 off the targets and on padding)."""
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=50, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                         num_attention_heads=2, num_key_value_heads=2, tie_word_embeddings=True))
    batch = [Encoded([1, 5, 7, 9, 11, 2], [False, False, True, True, False, True]),
             Encoded([1, 8, 3, 4], [False, True, True, True])]
    ids = torch.tensor([[1, 5, 7, 9, 11, 2], [1, 8, 3, 4, 0, 0]])
    attention = torch.tensor([[1] * 6, [1] * 4 + [0] * 2])
    labels = torch.tensor([[-100, -100, 7, 9, -100, 2], [-100, 8, 3, 4, -100, -100]])
    reference = model(input_ids=ids, attention_mask=attention, labels=labels).loss
    ours = target_xent(model, batch, pad_id=0)
    assert ours.item() == pytest.approx(reference.item(), rel=1e-5)
    ours.backward()
    mine = model.model.embed_tokens.weight.grad.clone()
    model.zero_grad()
    reference = model(input_ids=ids, attention_mask=attention, labels=labels).loss
    reference.backward()
    assert torch.allclose(mine, model.model.embed_tokens.weight.grad, atol=1e-6)
