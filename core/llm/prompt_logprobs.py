"""Teacher-forced scoring by a vLLM server: the top-k log-probabilities at given prompt positions.

``/v1/completions`` with the token ids as the prompt, ``max_tokens=1`` and ``prompt_logprobs=k``
answers, for every prompt position j > 0, the k most likely tokens after tokens [0, j) with their
log-probabilities (raw logits, temperature 1), plus token j itself when it is outside the top k.
Temperature 1 only: vLLM 0.32 computes prompt log-probabilities from the raw logits whatever the
request's temperature and ``--logprobs-mode`` (``processed_logprobs`` applies to sampled tokens;
prompt tokens skip the sampling processors, ``v1/worker/gpu_model_runner.py``
``_get_prompt_logprobs_dict`` and ``v1/worker/gpu/sample/prompt_logprob.py``), and the tail mass
at another temperature needs the whole vocabulary, so it cannot be derived from the top k.
The server must allow k: ``--max-logprobs`` ≥ k (vLLM's default is 20; ``mnm serve`` sets 1000).
Used by the training teacher cache (``mnm teacher-cache --source vllm``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import openai
import torch


class VLLMPromptLogprobs:
    """The vLLM server at ``url`` (an OpenAI-compatible base URL) serving the checkpoint ``model``."""

    temperatures = (1.0,)  # see the module docstring

    def __init__(self, url: str, model: str | Path, *, api_key: str | None = None, timeout_s: float = 600) -> None:
        self.url, self.path = url.rstrip("/"), Path(model)
        self.sdk = openai.OpenAI(base_url=self.url, api_key=api_key or "EMPTY", timeout=timeout_s)
        served = self.sdk.models.list().data[0]
        self.served, self.root = served.id, (served.model_extra or {}).get("root")

    def describe(self) -> dict[str, Any]:
        return {"source": "vllm", "url": self.url, "served_name": self.served, "served_root": self.root,
                "model": {"path": str(self.path.resolve())}}

    def score(self, token_ids: list[int], positions: list[int], k: int) -> tuple[torch.Tensor, ...]:
        """``ids`` [n, k], ``logprobs`` [n, 1, k] and log tail mass ``tail`` [n, 1] (T = 1) at the ``positions`` (> 0)."""
        try:
            answer = self.sdk.completions.create(model=self.served, prompt=token_ids, max_tokens=1, temperature=0.0,
                                                 extra_body={"prompt_logprobs": k})
        except openai.APIStatusError as e:
            raise RuntimeError(f"{self.url}/completions answered {e.status_code}: {str(e.message)[:300]} "
                               f"(prompt_logprobs={k} needs the server's --max-logprobs >= {k}; `mnm serve` sets it)") from None
        per_position = answer.choices[0].model_extra["prompt_logprobs"]
        rows = [_top_k(per_position[j], k) for j in positions]
        ids = torch.tensor([[i for i, _ in row] for row in rows], dtype=torch.long)
        logprobs = torch.tensor([[lp for _, lp in row] for row in rows], dtype=torch.float64)
        mass = logprobs.exp().sum(-1)
        tail = torch.where(mass < 1, torch.log1p(-mass.clamp(max=1)), -math.inf)
        return ids, logprobs.float().unsqueeze(1), tail.float().unsqueeze(1)


def _top_k(entries: dict[str, dict[str, Any]], k: int) -> list[tuple[int, float]]:
    """The ``k`` most likely of a position's ``{token_id: {"logprob", "rank"}}``."""
    ranked = sorted(entries.items(), key=lambda kv: (kv[1].get("rank") or math.inf, -kv[1]["logprob"]))
    return [(int(token), float(v["logprob"])) for token, v in ranked[:k]]
