"""Per-token distillation losses, and a chunked version that never builds full logits.

Shapes: ``N`` target tokens, ``H`` hidden size, ``V`` vocabulary. Hidden states are those the
output layer consumes, already gathered at the positions that predict the targets.

Reduction (the paper's): each token's divergence summed over the vocabulary, averaged over the
sample's target tokens, then averaged over the samples of an optimiser step; no T² factor. It is
expressed as per-token ``weights`` = 1 / (sample's target tokens × samples in the step), so a
micro-batch's loss is ``Σ weights · per_token`` and micro-batch × accumulation choices do not
change the objective. All divergence math is fp32, whatever the weights' dtype.

The chunked loss (:func:`chunked_token_loss`) computes ``chunk_tokens`` rows of student and teacher
logits at a time and, when gradients are needed, takes the chunk's gradient with respect to its
logits right away (closed forms, in place; temperature and reduction weights are applied to the
(chunk × H) inputs and outputs rather than to (chunk × V) logits). It keeps only the gradients of
the hidden states (N × H) and, if the output layer trains, of its weight (V × H); backward just
scales them by the incoming gradient. So no (N × V) tensor of either side ever exists, and the
matmuls are the same as the naive loss's. The parity tests check the closed forms against autograd.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from training.config import LossKind


def token_divergence(student_logits: torch.Tensor, teacher_logits: torch.Tensor, *, kind: LossKind,
                     temperature: float) -> torch.Tensor:
    """Divergence per row of ``[N, V]`` logits at ``temperature``, in fp32 -> ``[N]``.

    ``forward_kl`` = KL(teacher ‖ student) (the paper), ``reverse_kl`` = KL(student ‖ teacher),
    ``jsd`` = Jensen–Shannon divergence with equal weights (0 for equal, ln 2 for disjoint supports).
    """
    s = F.log_softmax(student_logits.float() / temperature, dim=-1)
    t = F.log_softmax(teacher_logits.float() / temperature, dim=-1)
    if kind == "forward_kl":
        return (t.exp() * (t - s)).sum(-1)
    if kind == "reverse_kl":
        return (s.exp() * (s - t)).sum(-1)
    if kind == "jsd":
        m = torch.logsumexp(torch.stack([s, t]), dim=0) - math.log(2.0)
        return 0.5 * (t.exp() * (t - m)).sum(-1) + 0.5 * (s.exp() * (s - m)).sum(-1)
    raise ValueError(f"unknown divergence {kind!r}")


def token_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor | None, labels: torch.Tensor, *,
               kind: LossKind, temperature: float) -> torch.Tensor:
    """Per-token loss ``[N]``: a divergence, or for ``xent`` the student's NLL of ``labels`` (T = 1)."""
    if kind == "xent":
        return F.cross_entropy(student_logits.float(), labels, reduction="none")
    if teacher_logits is None:
        raise ValueError(f"{kind} needs teacher logits")
    return token_divergence(student_logits, teacher_logits, kind=kind, temperature=temperature)


def token_weights(target_counts: list[int], samples_in_step: int) -> torch.Tensor:
    """Weights that make ``Σ w · per_token`` the per-sample token mean averaged over the step's samples."""
    return torch.cat([torch.full((n,), 1.0 / (n * samples_in_step)) for n in target_counts])


def naive_token_loss(h_s: torch.Tensor, w_s: torch.Tensor, h_t: torch.Tensor | None, w_t: torch.Tensor | None,
                     labels: torch.Tensor, weights: torch.Tensor, *, kind: LossKind,
                     temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference implementation with full logits: ``(Σ weights · per_token, per_token.detach())``."""
    zt = None if h_t is None or w_t is None else h_t @ w_t.T
    per_token = token_loss(h_s @ w_s.T, zt, labels, kind=kind, temperature=temperature)
    return (per_token * weights).sum(), per_token.detach()


def chunked_token_loss(h_s: torch.Tensor, w_s: torch.Tensor, h_t: torch.Tensor | None,
                       w_t: torch.Tensor | None, labels: torch.Tensor, weights: torch.Tensor, *,
                       kind: LossKind, temperature: float,
                       chunk_tokens: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Same result as :func:`naive_token_loss` with at most ``chunk_tokens`` rows of logits at a time.

    ``h_s`` [N, H] student hidden states, ``w_s`` [V, H] student output weight (may require grad),
    ``h_t``/``w_t`` the teacher's (no grad; ``None`` for ``xent``), ``labels`` [N] target ids,
    ``weights`` [N] fp32 reduction weights (:func:`token_weights`).
    """
    need_grad = torch.is_grad_enabled() and (h_s.requires_grad or w_s.requires_grad)
    return _ChunkedLoss.apply(h_s, w_s, h_t, w_t, labels, weights, kind, temperature, chunk_tokens, need_grad)


def _bmm_rows(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Row-wise dot products ``[c]`` of two ``[c, V]`` tensors without a ``[c, V]`` temporary."""
    return torch.bmm(a.unsqueeze(1), b.unsqueeze(2)).view(-1)


def _value_and_grad(us: torch.Tensor, ut: torch.Tensor | None, labels: torch.Tensor, *,
                    kind: LossKind) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-row loss ``[c]`` and its gradient with respect to the scaled student logits ``us`` [c, V].

    ``us``/``ut`` are logits already divided by the temperature (u = z / T, p = softmax(u), sums
    over V). Closed forms, computed in place on the fp32 chunk buffers (``us`` and ``ut`` are
    consumed) so that a chunk holds about four ``[c, V]`` tensors:
    forward KL: Σ p_t (log p_t − log p_s), ∂/∂u_s = p_s − p_t;
    reverse KL: Σ p_s a with a = log p_s − log p_t, ∂/∂u_s = p_s (a − KL);
    JSD: ½ Σ p_t (log p_t − log m) + ½ Σ p_s (log p_s − log m), m = ½ (p_s + p_t),
    ∂/∂u_s = ½ p_s (b − Σ p_s b) with b = log p_s − log m;
    cross-entropy (T = 1): logsumexp(u_s) − u_s[y], ∂/∂u_s = p_s − onehot(y).
    """
    s = torch.log_softmax(us, dim=-1)
    del us
    if kind == "xent":
        values = -s.gather(1, labels.unsqueeze(1)).squeeze(1)
        grad = s.exp_()
        grad[torch.arange(len(labels), device=grad.device), labels] -= 1.0
        return values, grad
    t = torch.log_softmax(ut, dim=-1)
    del ut
    if kind == "forward_kl":
        p_t = t.exp()
        values = _bmm_rows(p_t, t.sub_(s))
        return values, s.exp_().sub_(p_t)
    if kind == "reverse_kl":
        p_s = s.exp()
        a = s.sub_(t)
        values = _bmm_rows(p_s, a)
        return values, a.sub_(values.unsqueeze(1)).mul_(p_s)
    if kind == "jsd":
        m = torch.logaddexp(s, t).sub_(math.log(2.0))
        teacher_part = _bmm_rows(t.exp(), t.sub_(m))
        del t
        p_s = s.exp()
        b = s.sub_(m)
        student_part = _bmm_rows(p_s, b)
        return 0.5 * (teacher_part + student_part), b.sub_(student_part.unsqueeze(1)).mul_(p_s).mul_(0.5)
    raise ValueError(f"unknown divergence {kind!r}")


class _ChunkedLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h_s, w_s, h_t, w_t, labels, weights, kind, temperature, chunk_tokens, need_grad):
        weights, per_token, grad_h, grad_w = chunk_buffers(ctx, h_s, w_s, weights, need_grad)
        scale = 1.0 if kind == "xent" else 1.0 / temperature  # applied to [c, H] inputs, not [c, V] logits
        for lo in range(0, h_s.shape[0], chunk_tokens):
            rows = slice(lo, lo + chunk_tokens)
            if not need_grad:
                zs = (h_s[rows] @ w_s.T).float()
                zt = None if h_t is None else (h_t[rows] @ w_t.T).float()
                per_token[rows] = token_loss(zs, zt, labels[rows], kind=kind, temperature=temperature)
                continue
            us = ((h_s[rows] * scale) @ w_s.T).float()
            ut = None if h_t is None else ((h_t[rows] * scale) @ w_t.T).float()
            per_token[rows], g = _value_and_grad(us, ut, labels[rows], kind=kind)
            del us, ut
            add_chunk_grads(g, rows, h_s, w_s, (weights[rows] * scale).unsqueeze(1), grad_h, grad_w)
            del g
        return finish_chunks(ctx, per_token, weights, grad_h, grad_w)

    @staticmethod
    def backward(ctx, grad_loss, _grad_per_token):
        return *saved_grads(ctx, grad_loss), None, None, None, None, None, None, None, None


def chunk_buffers(ctx, h_s: torch.Tensor, w_s: torch.Tensor, weights: torch.Tensor, need_grad: bool) -> tuple:
    """A chunked forward's per-row weights (fp32), per-token values, and the gradients it fills."""
    weights = weights.to(device=h_s.device, dtype=torch.float32)
    per_token = torch.empty(h_s.shape[0], dtype=torch.float32, device=h_s.device)
    grad_h = torch.zeros_like(h_s) if need_grad and ctx.needs_input_grad[0] else None
    grad_w = torch.zeros_like(w_s) if need_grad and ctx.needs_input_grad[1] else None
    return weights, per_token, grad_h, grad_w


def finish_chunks(ctx, per_token: torch.Tensor, weights: torch.Tensor, grad_h: torch.Tensor | None,
                  grad_w: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Save the gradients for :func:`saved_grads`; return the weighted sum and the per-token values."""
    ctx.save_for_backward(grad_h, grad_w)
    ctx.mark_non_differentiable(per_token)
    return (per_token * weights).sum(), per_token


def add_chunk_grads(g: torch.Tensor, rows: slice, h_s: torch.Tensor, w_s: torch.Tensor, row_scale: torch.Tensor,
                    grad_h: torch.Tensor | None, grad_w: torch.Tensor | None) -> None:
    """Add one chunk's share of ∂loss/∂h and ∂loss/∂W, from ``g`` = ∂loss/∂logits ``[c, V]`` of
    ``rows`` times ``row_scale`` ``[c, 1]`` (each row's weight and the logits' scale)."""
    g = g.to(h_s.dtype)
    if grad_h is not None:
        grad_h[rows] = (g @ w_s).float() * row_scale
    if grad_w is not None:
        grad_w += g.T @ (h_s[rows].float() * row_scale).to(h_s.dtype)


def saved_grads(ctx, grad_loss: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The gradients computed in a chunked forward (saved as ``grad_h, grad_w``) times ``grad_loss``."""
    grad_h, grad_w = ctx.saved_tensors
    return (None if grad_h is None else grad_h * grad_loss.to(grad_h.dtype),
            None if grad_w is None else grad_w * grad_loss.to(grad_w.dtype))
