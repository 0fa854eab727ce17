"""Sparse (top-k + tail) forward KL: equal to today's loss when k covers the vocabulary (values and
gradients) at T = 1 and T = 2, the closed-form gradient against autograd for k < V, its error
falling with k at T = 2 too, and a teacher at another temperature than the loss refused."""

from __future__ import annotations

import pytest
import torch

from training.losses import chunked_token_loss, naive_token_loss, token_weights
from training.sparse_kl import chunked_sparse_kl, naive_sparse_kl, sparse_teacher, sparse_teachers

N, H, V = 37, 16, 301


def inputs(seed: int = 0):
    torch.manual_seed(seed)
    h_s = torch.randn(N, H, requires_grad=True)
    w_s = torch.randn(V, H, requires_grad=True)
    h_t, w_t = torch.randn(N, H), torch.randn(V, H)
    return h_s, w_s, h_t, w_t, token_weights([20, 17], 2)


@pytest.mark.parametrize("temperature", [1.0, 2.0])
def test_full_vocabulary_equals_todays_loss_with_gradients(temperature):
    h_s, w_s, h_t, w_t, weights = inputs()
    labels = torch.zeros(N, dtype=torch.long)
    ref, ref_tokens = naive_token_loss(h_s, w_s, h_t, w_t, labels, weights, kind="forward_kl",
                                       temperature=temperature)
    teacher = sparse_teacher(h_t @ w_t.T, k=V, temperature=temperature)
    assert torch.isneginf(teacher.tail).all()
    got, got_tokens = chunked_sparse_kl(h_s, w_s, teacher, weights, temperature=temperature, chunk_tokens=8)
    torch.testing.assert_close(got, ref, rtol=1e-5, atol=0)
    torch.testing.assert_close(got_tokens, ref_tokens, rtol=1e-4, atol=1e-6)
    for g, r in zip(torch.autograd.grad(got * 0.7, [h_s, w_s]), torch.autograd.grad(ref * 0.7, [h_s, w_s]),
                    strict=True):
        torch.testing.assert_close(g, r, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("k", [1, 5, 50, 300])
def test_chunked_matches_autograd_reference(k):
    h_s, w_s, h_t, w_t, weights = inputs(1)
    teacher = sparse_teacher(h_t @ w_t.T * 3, k=k, temperature=2.0)
    ref, ref_tokens = naive_sparse_kl(h_s, w_s, teacher, weights, temperature=2.0)
    got, got_tokens = chunked_sparse_kl(h_s, w_s, teacher, weights, temperature=2.0, chunk_tokens=8)
    torch.testing.assert_close(got, ref, rtol=1e-5, atol=0)
    torch.testing.assert_close(got_tokens, ref_tokens, rtol=1e-5, atol=1e-6)
    for g, r in zip(torch.autograd.grad(got, [h_s, w_s]), torch.autograd.grad(ref, [h_s, w_s]), strict=True):
        torch.testing.assert_close(g, r, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("temperature", [1.0, 2.0])
def test_error_against_the_full_loss_falls_with_k(temperature):
    h_s, w_s, h_t, w_t, weights = inputs(2)
    teacher_logits = h_t @ w_t.T
    with torch.no_grad():
        exact = chunked_token_loss(h_s, w_s, h_t, w_t, torch.zeros(N, dtype=torch.long), weights,
                                   kind="forward_kl", temperature=temperature)[0]
        errors = [abs(chunked_sparse_kl(h_s, w_s, sparse_teacher(teacher_logits, k, temperature), weights,
                                        temperature=temperature)[0] - exact).item() for k in (2, 20, 100, 300)]
    assert errors[0] > errors[1] > errors[2] > errors[3]
    assert errors[3] < 1e-5 * exact.item()


def test_equal_distributions_give_zero_and_a_mismatch_is_refused():
    h, w = torch.randn(10, 8), torch.randn(50, 8)
    with torch.no_grad():
        _, per_token = chunked_sparse_kl(h, w, sparse_teacher(h @ w.T, 7, 2.0), torch.ones(10), temperature=2.0,
                                         chunk_tokens=3)
    assert torch.allclose(per_token, torch.zeros(10), atol=1e-6)
    with pytest.raises(ValueError, match="9 cached teacher tokens for 10 target tokens"):
        chunked_sparse_kl(h, w, sparse_teacher(h[:9] @ w.T, 7, 2.0), torch.ones(10), temperature=2.0)
    with pytest.raises(ValueError, match="cached teacher is at temperature 1.0, the loss at 2.0"):
        chunked_sparse_kl(h, w, sparse_teacher(h @ w.T, 7, 1.0), torch.ones(10), temperature=2.0)


@pytest.mark.parametrize("k", [5, V])
def test_a_retempered_teacher_is_exact_at_full_vocabulary_and_matches_autograd(k):
    h_s, w_s, h_t, w_t, weights = inputs(3)
    teacher = sparse_teacher(h_t @ w_t.T, k, 1.0)
    got, got_tokens = chunked_sparse_kl(h_s, w_s, teacher, weights, temperature=2.0, chunk_tokens=8, retemper=True)
    if k == V:
        ref, ref_tokens = naive_token_loss(h_s, w_s, h_t, w_t, torch.zeros(N, dtype=torch.long), weights,
                                           kind="forward_kl", temperature=2.0)
    else:
        ref, ref_tokens = naive_sparse_kl(h_s, w_s, teacher, weights, temperature=2.0, retemper=True)
        cached_at_2 = chunked_sparse_kl(h_s, w_s, sparse_teacher(h_t @ w_t.T, k, 2.0), weights, temperature=2.0)[0]
        assert abs(cached_at_2.item() - got.item()) > 1e-4  # two different approximations below full k
    torch.testing.assert_close(got, ref, rtol=1e-5, atol=0)
    torch.testing.assert_close(got_tokens, ref_tokens, rtol=1e-4, atol=1e-6)
    for g, r in zip(torch.autograd.grad(got, [h_s, w_s]), torch.autograd.grad(ref, [h_s, w_s]), strict=True):
        torch.testing.assert_close(g, r, rtol=1e-4, atol=1e-6)


def test_teachers_at_several_temperatures_share_their_top_ids():
    logits = torch.randn(9, 40) * 3
    ids, logprobs, tail = sparse_teachers(logits, 5, [2.0, 1.0])
    for t, temperature in enumerate((2.0, 1.0)):
        one = sparse_teacher(logits, 5, temperature)
        assert torch.equal(one.ids, ids)
        torch.testing.assert_close(one.logprobs, logprobs[:, t])
        torch.testing.assert_close(one.tail, tail[:, t])
        full = torch.log_softmax(logits / temperature, -1)  # independent: the mass outside the top 5
        outside = full.exp().sum(-1) - full.gather(1, ids).exp().sum(-1)
        torch.testing.assert_close(tail[:, t].exp(), outside, rtol=1e-5, atol=1e-6)
