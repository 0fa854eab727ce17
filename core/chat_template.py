"""Rendering a conversation with a model's own Hugging Face chat template: the one function that
collection (hf-local, vLLM completions) and training (:mod:`training.sequences`) both use.

Consecutive same-role messages are joined first (:func:`core.messages.alternate_roles`), so
templates that require alternating roles accept the agent's conversations, and every backend sends
the same text. Prompts are tokenised without extra special tokens: templates write BOS themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.errors import ConfigError
from core.messages import alternate_roles


def load_tokenizer(name_or_path: str) -> Any:
    """A tokenizer from a local directory or the local Hugging Face cache (never downloads)."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(name_or_path, local_files_only=True)
    except OSError as exc:
        raise ConfigError(f"no local tokenizer for {name_or_path!r} ({type(exc).__name__}); set the client's "
                          f"tokenizer to a local model directory: --set client.tokenizer=PATH (mnm collect), "
                          f"--set tokenizer=PATH (mnm run-task)") from None


def render(tokenizer: Any, chat: Sequence[dict[str, str]], add_generation_prompt: bool = False) -> str:
    """The chat template's text for ``chat`` (same-role runs joined)."""
    return tokenizer.apply_chat_template(alternate_roles(chat), tokenize=False,
                                         add_generation_prompt=add_generation_prompt)


def render_prompt(tokenizer: Any, messages: Sequence[dict[str, str]], prefill: str) -> str:
    """The prompt a template backend sends: the render with the generation prompt, then the prefill."""
    return render(tokenizer, messages, add_generation_prompt=True) + prefill


def count_tokens(tokenizer: Any, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False).input_ids)
