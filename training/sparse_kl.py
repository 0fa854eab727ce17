"""Forward KL against a sparse (cached) teacher: its top-k log-probabilities plus one tail bucket.

A cached teacher token is ``k`` token ids with their log-probabilities at the teacher's temperature
``T`` (``log_softmax(logits / T)``, the training temperature) and the log of the remaining (tail)
mass ``m = 1 - Σ p_topk`` at ``T`` (−inf when the k ids cover the vocabulary). The student is
tempered in full, ``q_s = softmax(z / T)``, and the teacher is completed to the whole vocabulary by
spreading ``m`` over the other ids in proportion to the student's tempered probabilities there
(detached): ``p_t(j) = m · q_s(j) / Q_s``, ``Q_s`` = the student's tempered mass outside the
teacher's k ids. The loss is then exactly the KL over the k ids plus one tail bucket,
``Σ_topk p_t log(p_t / q_s) + m log(m / Q_s)``, with the bucket's gradient, on the tempered
distributions; when k covers the vocabulary it is exactly today's forward KL at ``T``, values and
gradients. A teacher scored at another temperature ``T_c`` than the loss's is refused unless
``retemper``: the teacher is then completed at ``T_c`` (like the student at ``T_c``) and both are
tempered per token by ``T / T_c`` (what a vLLM cache, at T = 1 only, allows; exact at full k too,
and below it about as far from the exact loss as a cache scored at T: ``benchmarking/perf/sparse_kl.py``).

Reduction, weights and chunking as in :mod:`training.losses`: at most ``chunk_tokens`` rows of
student logits at a time, their gradient taken at once (the completed teacher is a constant:
∂KL/∂z = (q_s − p_t) / T), so no ``[N, V]`` tensor exists and no teacher forward runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from training.losses import add_chunk_grads, chunk_buffers, finish_chunks, saved_grads


@dataclass
class SparseTeacher:
    """Per target token: ``ids`` [N, k] (int64), ``logprobs`` [N, k] and ``tail`` [N] (fp32), all at
    ``temperature``."""

    ids: torch.Tensor
    logprobs: torch.Tensor
    tail: torch.Tensor
    temperature: float

    def __len__(self) -> int:
        return self.ids.shape[0]

    def rows(self, rows: slice) -> SparseTeacher:
        return SparseTeacher(self.ids[rows], self.logprobs[rows], self.tail[rows], self.temperature)

    def to(self, device: torch.device) -> SparseTeacher:
        return SparseTeacher(self.ids.to(device, torch.long), self.logprobs.to(device, torch.float32),
                             self.tail.to(device, torch.float32), self.temperature)


def sparse_teacher(logits: torch.Tensor, k: int, temperature: float) -> SparseTeacher:
    """The top-``k`` log-probabilities (fp32) of ``[N, V]`` logits at ``temperature`` and the log tail mass."""
    ids, logprobs, tail = sparse_teachers(logits, k, [temperature])
    return SparseTeacher(ids, logprobs[:, 0], tail[:, 0], temperature)


def sparse_teachers(logits: torch.Tensor, k: int, temperatures: Sequence[float]) -> tuple[torch.Tensor, ...]:
    """``ids`` [N, k], ``logprobs`` [N, t, k] and ``tail`` [N, t] at each of ``temperatures``: the
    top k ids are the same at every temperature (dividing logits by T > 0 keeps their order)."""
    ids = logits.topk(min(k, logits.shape[-1]), dim=-1).indices
    logprobs, tails = [], []
    for temperature in temperatures:
        logp = torch.log_softmax(logits.float() / temperature, dim=-1)
        logprobs.append(logp.gather(1, ids))
        tails.append(_tail(logp, ids))
    return ids, torch.stack(logprobs, 1), torch.stack(tails, 1)


def _tail(logp: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """``log Σ exp(logp)`` over the ids not in ``ids`` (−inf if none); ``logp`` is overwritten."""
    return torch.logsumexp(logp.scatter_(1, ids, float("-inf")), dim=-1)


def completed_teacher(student_logp: torch.Tensor, teacher: SparseTeacher) -> torch.Tensor:
    """The teacher's log-probabilities ``[c, V]``: its top k, and its tail mass spread like the
    student's ``student_logp`` (log-softmax at the teacher's temperature; no gradient flows) over the other ids."""
    t = student_logp.detach().clone()
    tail_s = _tail(t, teacher.ids)
    shift = torch.where(torch.isfinite(tail_s), teacher.tail - tail_s, float("-inf"))
    t.copy_(student_logp.detach()).add_(shift.unsqueeze(1)).scatter_(1, teacher.ids, teacher.logprobs)
    return t.clamp_(min=-1e4)  # no −inf: 0 · (−inf) would be NaN


def _check_temperature(teacher: SparseTeacher, temperature: float, retemper: bool) -> None:
    if teacher.temperature != temperature and not retemper:
        raise ValueError(f"the cached teacher is at temperature {teacher.temperature}, the loss at {temperature}: "
                         "score the teacher at the loss's temperature (or retemper)")


def _log_probs(z: torch.Tensor, teacher: SparseTeacher, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The student's ``log_softmax(z / T)`` and the completed teacher's log-probabilities at ``T``
    (completed at the teacher's temperature, then tempered per token if that differs); ``z`` is consumed."""
    if teacher.temperature == temperature:
        s = torch.log_softmax(z.div_(temperature), dim=-1)
        return s, completed_teacher(s, teacher)
    t = completed_teacher(torch.log_softmax(z / teacher.temperature, dim=-1), teacher)
    t = torch.log_softmax(t.mul_(teacher.temperature / temperature), dim=-1)
    return torch.log_softmax(z.div_(temperature), dim=-1), t


def sparse_token_kl(student_logits: torch.Tensor, teacher: SparseTeacher, *, temperature: float,
                    retemper: bool = False) -> torch.Tensor:
    """Per-row forward KL ``[N]`` of ``[N, V]`` student logits at ``temperature`` against the completed teacher (autograd)."""
    _check_temperature(teacher, temperature, retemper)
    s, t = _log_probs(student_logits.float().clone(), teacher, temperature)
    return (t.exp() * (t - s)).sum(-1)


def naive_sparse_kl(h_s: torch.Tensor, w_s: torch.Tensor, teacher: SparseTeacher, weights: torch.Tensor, *,
                    temperature: float, retemper: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference with full logits and autograd: ``(Σ weights · per_token, per_token.detach())``."""
    per_token = sparse_token_kl(h_s @ w_s.T, teacher, temperature=temperature, retemper=retemper)
    return (per_token * weights).sum(), per_token.detach()


def chunked_sparse_kl(h_s: torch.Tensor, w_s: torch.Tensor, teacher: SparseTeacher, weights: torch.Tensor, *,
                      temperature: float, chunk_tokens: int = 256,
                      retemper: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Same result as :func:`naive_sparse_kl` with at most ``chunk_tokens`` rows of logits at a time.

    ``h_s`` [N, H] student hidden states at the target positions, ``w_s`` [V, H] the student's
    output weight (either may require grad), ``weights`` [N] the reduction weights
    (:func:`training.losses.token_weights`); ``retemper`` allows a teacher at another temperature.
    """
    _check_temperature(teacher, temperature, retemper)
    if len(teacher) != h_s.shape[0]:
        raise ValueError(f"{len(teacher)} cached teacher tokens for {h_s.shape[0]} target tokens")
    need_grad = torch.is_grad_enabled() and (h_s.requires_grad or w_s.requires_grad)
    return _ChunkedSparseKL.apply(h_s, w_s, teacher.to(h_s.device), weights, temperature, chunk_tokens, need_grad)


def _value_and_grad(z: torch.Tensor, teacher: SparseTeacher, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-row KL ``[c]`` and its gradient ``(q_s − p_t) / T`` with respect to the student logits
    ``z`` [c, V] (consumed), in place on the chunk's fp32 buffers (about three ``[c, V]`` at a time)."""
    s, t = _log_probs(z, teacher, temperature)
    del z
    p_t = t.exp()
    values = torch.bmm(p_t.unsqueeze(1), t.sub_(s).unsqueeze(2)).view(-1)
    del t
    return values, s.exp_().sub_(p_t).div_(temperature)


class _ChunkedSparseKL(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h_s, w_s, teacher, weights, temperature, chunk_tokens, need_grad):
        weights, per_token, grad_h, grad_w = chunk_buffers(ctx, h_s, w_s, weights, need_grad)
        for lo in range(0, h_s.shape[0], chunk_tokens):
            rows = slice(lo, lo + chunk_tokens)
            z = (h_s[rows] @ w_s.T).float()
            if not need_grad:
                per_token[rows] = sparse_token_kl(z, teacher.rows(rows), temperature=temperature, retemper=True)
                continue
            per_token[rows], g = _value_and_grad(z, teacher.rows(rows), temperature)
            del z
            add_chunk_grads(g, rows, h_s, w_s, weights[rows].unsqueeze(1), grad_h, grad_w)
            del g
        return finish_chunks(ctx, per_token, weights, grad_h, grad_w)

    @staticmethod
    def backward(ctx, grad_loss, _grad_per_token):
        return *saved_grads(ctx, grad_loss), None, None, None, None, None
