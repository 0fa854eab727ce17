"""Forward KL against a sparse (cached) teacher: its top-k log-probabilities plus one tail bucket.

A cached teacher token is ``k`` token ids with their log-probabilities at temperature 1 and the
log of the remaining (tail) mass, ``log(1 - Σ p_topk)`` (−inf when the k ids cover the vocabulary).
Both distributions are coarse-grained onto the same k + 1 outcomes at temperature 1 — the
student's tail is the log of its probability mass outside the teacher's k ids — and then tempered
on those outcomes: ``q = softmax(c / T)``. The loss is KL(q_teacher ‖ q_student), a true KL (≥ 0,
0 iff the coarse distributions agree) for any k, and exactly :func:`training.losses.token_divergence`
's forward KL when k covers the vocabulary (tempering k = V outcomes is tempering the logits).
Temperature cannot be applied before coarse-graining: the teacher's tail is only known as a sum.

Reduction, weights and chunking as in :mod:`training.losses`: at most ``chunk_tokens`` rows of
student logits at a time, their gradient taken at once in closed form (below), so no ``[N, V]``
tensor exists and no teacher forward runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class SparseTeacher:
    """Per target token: ``ids`` [N, k] (int64), ``logprobs`` [N, k] and ``tail`` [N] (fp32, T = 1)."""

    ids: torch.Tensor
    logprobs: torch.Tensor
    tail: torch.Tensor

    def __len__(self) -> int:
        return self.ids.shape[0]

    def rows(self, rows: slice) -> SparseTeacher:
        return SparseTeacher(self.ids[rows], self.logprobs[rows], self.tail[rows])

    def to(self, device: torch.device) -> SparseTeacher:
        return SparseTeacher(self.ids.to(device, torch.long), self.logprobs.to(device, torch.float32),
                             self.tail.to(device, torch.float32))


def sparse_teacher(logits: torch.Tensor, k: int) -> SparseTeacher:
    """The top-``k`` log-probabilities (T = 1, fp32) of ``[N, V]`` logits and the log tail mass."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    top, ids = logp.topk(min(k, logp.shape[-1]), dim=-1)
    return SparseTeacher(ids, top, _tail(logp, ids))


def _tail(logp: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """``log Σ exp(logp)`` over the ids not in ``ids`` (−inf if none); ``logp`` is overwritten."""
    return torch.logsumexp(logp.scatter_(1, ids, float("-inf")), dim=-1)


def _coarse_teacher(teacher: SparseTeacher, temperature: float) -> torch.Tensor:
    """Log of the tempered teacher on the k + 1 outcomes ``[N, k + 1]``."""
    return torch.log_softmax(torch.cat([teacher.logprobs, teacher.tail.unsqueeze(1)], 1) / temperature, dim=-1)


def _kl(log_t: torch.Tensor, log_s: torch.Tensor) -> torch.Tensor:
    """Σ q_t (log q_t − log q_s) over the last axis; outcomes with q_t = 0 contribute 0."""
    p_t = log_t.exp()
    return torch.where(p_t > 0, p_t * (log_t - log_s), 0.0).sum(-1)


def sparse_token_kl(student_logits: torch.Tensor, teacher: SparseTeacher, *, temperature: float) -> torch.Tensor:
    """Per-row forward KL ``[N]`` of ``[N, V]`` student logits against the sparse teacher (autograd)."""
    s = torch.log_softmax(student_logits.float(), dim=-1)
    coarse = torch.cat([s.gather(1, teacher.ids), _tail(s.clone(), teacher.ids).unsqueeze(1)], 1)
    return _kl(_coarse_teacher(teacher, temperature), torch.log_softmax(coarse / temperature, dim=-1))


def naive_sparse_kl(h_s: torch.Tensor, w_s: torch.Tensor, teacher: SparseTeacher, weights: torch.Tensor, *,
                    temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference with full logits and autograd: ``(Σ weights · per_token, per_token.detach())``."""
    per_token = sparse_token_kl(h_s @ w_s.T, teacher, temperature=temperature)
    return (per_token * weights).sum(), per_token.detach()


def chunked_sparse_kl(h_s: torch.Tensor, w_s: torch.Tensor, teacher: SparseTeacher, weights: torch.Tensor, *,
                      temperature: float, chunk_tokens: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Same result as :func:`naive_sparse_kl` with at most ``chunk_tokens`` rows of logits at a time.

    ``h_s`` [N, H] student hidden states at the target positions, ``w_s`` [V, H] the student's
    output weight (either may require grad), ``weights`` [N] the reduction weights
    (:func:`training.losses.token_weights`).
    """
    if len(teacher) != h_s.shape[0]:
        raise ValueError(f"{len(teacher)} cached teacher tokens for {h_s.shape[0]} target tokens")
    need_grad = torch.is_grad_enabled() and (h_s.requires_grad or w_s.requires_grad)
    return _ChunkedSparseKL.apply(h_s, w_s, teacher.to(h_s.device), weights, temperature, chunk_tokens, need_grad)


def _value_and_grad(z: torch.Tensor, teacher: SparseTeacher, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-row KL ``[c]`` and its gradient with respect to the student logits ``z`` [c, V] (consumed).

    With s = log_softmax(z), coarse c_i = s[id_i] and c_tail = log Σ_tail exp(s), r = softmax(c / T)
    and g = (r − q_t) / T = ∂KL/∂c: ∂c_i/∂z = e_i − p and ∂c_tail/∂z = 1_tail p / P_tail − p, and
    Σ g = 0, so ∂KL/∂z = g_i at the teacher's ids and g_tail · p_j / P_tail at every tail id j.
    """
    s = torch.log_softmax(z, dim=-1)
    del z
    top = s.gather(1, teacher.ids)
    tail = _tail(s, teacher.ids)  # s now holds −inf at the teacher's ids
    log_r = torch.log_softmax(torch.cat([top, tail.unsqueeze(1)], 1) / temperature, dim=-1)
    log_t = _coarse_teacher(teacher, temperature)
    values = _kl(log_t, log_r)
    g = (log_r.exp() - log_t.exp()) / temperature
    g_tail = torch.where(torch.isfinite(tail), g[:, -1], 0.0)
    grad = s.sub_(torch.where(torch.isfinite(tail), tail, 0.0).unsqueeze(1)).exp_().mul_(g_tail.unsqueeze(1))
    return values, grad.scatter_add_(1, teacher.ids, g[:, :-1])


class _ChunkedSparseKL(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h_s, w_s, teacher, weights, temperature, chunk_tokens, need_grad):
        weights = weights.to(device=h_s.device, dtype=torch.float32)
        per_token = torch.empty(h_s.shape[0], dtype=torch.float32, device=h_s.device)
        grad_h = torch.zeros_like(h_s) if need_grad and ctx.needs_input_grad[0] else None
        grad_w = torch.zeros_like(w_s) if need_grad and ctx.needs_input_grad[1] else None
        for lo in range(0, h_s.shape[0], chunk_tokens):
            rows = slice(lo, lo + chunk_tokens)
            z = (h_s[rows] @ w_s.T).float()
            if not need_grad:
                per_token[rows] = sparse_token_kl(z, teacher.rows(rows), temperature=temperature)
                continue
            per_token[rows], g = _value_and_grad(z, teacher.rows(rows), temperature)
            del z
            g = g.to(h_s.dtype)
            row_scale = weights[rows].unsqueeze(1)
            if grad_h is not None:
                grad_h[rows] = (g @ w_s).float() * row_scale
            if grad_w is not None:
                grad_w += g.T @ (h_s[rows].float() * row_scale).to(h_s.dtype)
            del g
        ctx.save_for_backward(grad_h, grad_w)
        ctx.mark_non_differentiable(per_token)
        return (per_token * weights).sum(), per_token

    @staticmethod
    def backward(ctx, grad_loss, _grad_per_token):
        grad_h, grad_w = ctx.saved_tensors
        out_h = None if grad_h is None else grad_h * grad_loss.to(grad_h.dtype)
        out_w = None if grad_w is None else grad_w * grad_loss.to(grad_w.dtype)
        return out_h, out_w, None, None, None, None, None
