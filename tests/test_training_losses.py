"""Loss direction, end points, chunked-vs-naive parity (values and gradients) and reductions."""

from __future__ import annotations

import math

import pytest
import torch

from training.losses import chunked_token_loss, naive_token_loss, token_divergence, token_weights

KINDS = ["forward_kl", "reverse_kl", "jsd", "xent"]


def logits_of(probs: list[float]) -> torch.Tensor:
    return torch.tensor([probs]).log()


def test_forward_and_reverse_kl_directions():
    teacher, student = logits_of([0.5, 0.5]), logits_of([0.9, 0.1])
    forward = token_divergence(student, teacher, kind="forward_kl", temperature=1.0)
    reverse = token_divergence(student, teacher, kind="reverse_kl", temperature=1.0)
    kl_t_s = 0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1)  # KL(teacher ‖ student)
    kl_s_t = 0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5)
    assert forward.item() == pytest.approx(kl_t_s, rel=1e-6)
    assert reverse.item() == pytest.approx(kl_s_t, rel=1e-6)


@pytest.mark.parametrize("kind", ["forward_kl", "reverse_kl", "jsd"])
def test_divergences_vanish_for_equal_distributions(kind):
    z = torch.randn(5, 11)
    assert torch.allclose(token_divergence(z, z.clone(), kind=kind, temperature=2.0), torch.zeros(5), atol=1e-6)


def test_jsd_end_points():
    a = torch.tensor([[40.0, 0.0, 0.0]])
    b = torch.tensor([[0.0, 0.0, 40.0]])
    assert token_divergence(a, b, kind="jsd", temperature=1.0).item() == pytest.approx(math.log(2), rel=1e-5)
    assert token_divergence(a, a, kind="jsd", temperature=1.0).item() == pytest.approx(0.0, abs=1e-7)


def test_temperature_softens_both_sides():
    s, t = torch.randn(4, 9) * 3, torch.randn(4, 9) * 3
    at = lambda temp: token_divergence(s, t, kind="forward_kl", temperature=temp).sum().item()  # noqa: E731
    assert at(8.0) < at(2.0) < at(1.0)
    scaled = token_divergence(s / 2, t / 2, kind="forward_kl", temperature=1.0)
    assert torch.allclose(token_divergence(s, t, kind="forward_kl", temperature=2.0), scaled)


def test_token_weights_give_per_sample_mean_then_batch_mean():
    per_token = torch.tensor([1.0, 3.0, 10.0, 10.0, 10.0])
    w = token_weights([2, 3], samples_in_step=2)
    assert (w * per_token).sum().item() == pytest.approx((2.0 + 10.0) / 2)
    # two micro-batches of one sample each, weighted by the step's sample count, sum to the same loss
    halves = (token_weights([2], 2) * per_token[:2]).sum() + (token_weights([3], 2) * per_token[2:]).sum()
    assert halves.item() == pytest.approx((w * per_token).sum().item())


@pytest.mark.parametrize("kind", KINDS)
def test_chunked_matches_naive_in_fp32_with_gradients(kind):
    torch.manual_seed(0)
    n, h, v = 37, 16, 301
    h_s = torch.randn(n, h, requires_grad=True)
    w_s = torch.randn(v, h, requires_grad=True)  # an adapted output layer also gets its gradient
    h_t, w_t = torch.randn(n, h), torch.randn(v, h)
    labels, weights = torch.randint(0, v, (n,)), token_weights([20, 17], 2)
    opts = {"kind": kind, "temperature": 2.0}
    ref, ref_tokens = naive_token_loss(h_s, w_s, h_t, w_t, labels, weights, **opts)
    got, got_tokens = chunked_token_loss(h_s, w_s, h_t, w_t, labels, weights, chunk_tokens=8, **opts)
    torch.testing.assert_close(got, ref, rtol=1e-5, atol=0)
    torch.testing.assert_close(got_tokens, ref_tokens, rtol=1e-5, atol=1e-7)
    ref_grads = torch.autograd.grad(ref * 0.7, [h_s, w_s])
    got_grads = torch.autograd.grad(got * 0.7, [h_s, w_s])
    for g, r in zip(got_grads, ref_grads, strict=True):
        torch.testing.assert_close(g, r, rtol=1e-5, atol=1e-7)


def test_chunked_without_grad_gives_values_only():
    h_s, w = torch.randn(10, 8, requires_grad=True), torch.randn(50, 8)
    with torch.no_grad():
        loss, per_token = chunked_token_loss(h_s, w, h_s.detach(), w, torch.zeros(10, dtype=torch.long),
                                             torch.ones(10), kind="forward_kl", temperature=1.0, chunk_tokens=3)
    assert not loss.requires_grad
    assert torch.allclose(per_token, torch.zeros(10), atol=1e-6)


def test_loss_math_is_fp32_with_bf16_weights():
    torch.manual_seed(1)
    h_s, w_s, h_t = torch.randn(12, 16), torch.randn(64, 16), torch.randn(12, 16)
    bf = [x.bfloat16() for x in (h_s, w_s, h_t)]
    bf[0].requires_grad_(True)
    loss, per_token = chunked_token_loss(bf[0], bf[1], bf[2], bf[1], torch.zeros(12, dtype=torch.long),
                                         torch.ones(12) / 12, kind="forward_kl", temperature=2.0, chunk_tokens=5)
    assert loss.dtype == per_token.dtype == torch.float32
    reference = token_divergence(bf[0].float() @ bf[1].float().T, bf[2].float() @ bf[1].float().T,
                                 kind="forward_kl", temperature=2.0)
    torch.testing.assert_close(per_token, reference, rtol=2e-2, atol=2e-3)
    (grad,) = torch.autograd.grad(loss, bf[0])
    assert grad.dtype == torch.bfloat16 and torch.isfinite(grad.float()).all()
