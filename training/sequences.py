"""Token sequences of an example for the teacher and the student, for any HF chat template.

The conversation is rendered with the model's own chat template by the function the template
backends render prompts with (:func:`core.chat_template.render`), exactly as the agent sent it at
collection time: the prompt of each assistant message is the template's render of the messages
before it with ``add_generation_prompt=True``, followed by the message's prefill (opening tag).
Each target message's span is found by rendering these prefixes and checking that they are
prefixes of the whole conversation's render, so templates that add a default system prompt or
trim message contents work without knowing their markup.

Tokens: the rendered text is cut at target boundaries and each piece is tokenised on its own
(``add_special_tokens=False``; the template writes BOS itself). Target tokens are therefore the
same on both sides by construction, and the context before the first target is token-for-token
the prompt the agent sent. A target is its message content after the prefill (closing tag
included) plus the end-of-turn token the template writes after it; the sequence ends there.

Hint dropout: every named hint section of an example is hidden from the student independently with
probability ``p``, drawn from a generator seeded by (seed, epoch, example id), so each epoch
redraws and a resumed run redraws identically. Teacher-only parts are never shown to the student.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.chat_template import render, render_prompt
from core.errors import DataError
from core.examples import Example
from core.messages import KeepPart, Message, Part, teacher_keeps, to_chat


@dataclass(frozen=True)
class Encoded:
    """Token ids of one view of an example and which of them are training targets."""

    input_ids: list[int]
    target_mask: list[bool]

    @property
    def target_ids(self) -> list[int]:
        return [t for t, m in zip(self.input_ids, self.target_mask, strict=True) if m]

    def __len__(self) -> int:
        return len(self.input_ids)


def collection_prompt(tokenizer: Any, messages: Sequence[Message]) -> str:
    """What the agent sent to generate ``messages[-1]``: the render of the earlier messages + prefill."""
    *before, last = messages
    return render_prompt(tokenizer, to_chat(before), last.prefill)


def student_keep(example: Example, p: float, rng: random.Random) -> KeepPart:
    """A student view: shared parts, plus each hint section unless dropped (probability ``p``)."""
    hidden = {name for name in dict.fromkeys(example.hint_sections()) if rng.random() < p}

    def keep(part: Part) -> bool:
        return part.visibility == "both" or (part.visibility == "hint" and part.section not in hidden)

    return keep


def dropout_rng(seed: int, epoch: int, example_id: str) -> random.Random:
    return random.Random(f"{seed}/{epoch}/{example_id}")


def encode(example: Example, tokenizer: Any, keep: KeepPart = teacher_keeps) -> Encoded:
    """Tokenise the view of ``example`` that ``keep`` selects; targets marked in ``target_mask``."""
    chat = to_chat(example.messages, keep)
    assistant_rows = [i for i, row in enumerate(chat) if row["role"] == "assistant"]
    assistants = [m for m in example.messages if m.role == "assistant"]
    full = render(tokenizer, chat)

    cuts: list[tuple[int, int]] = []  # character spans of the targets in ``full``
    for row, message in zip(assistant_rows, assistants, strict=True):
        if not message.target:
            continue
        prompt = render(tokenizer, chat[:row], add_generation_prompt=True)
        if not full.startswith(prompt):
            raise DataError(f"example {example.id}: the chat template's render of the messages before "
                            f"message {row} is not a prefix of the whole conversation's render")
        cuts.append(_target_span(full, len(prompt), chat[row]["content"], message.prefill, example.id))

    ids: list[int] = []
    mask: list[bool] = []
    start = 0
    for a, b in cuts:
        ids += _tokens(tokenizer, full[start:a])
        mask += [False] * (len(ids) - len(mask))
        target = _tokens(tokenizer, full[a:b])
        rest = _tokens(tokenizer, full[b:])
        end_of_turn = tokenizer.convert_ids_to_tokens(rest[0]) if rest else ""
        if not (rest and _is_special(tokenizer, rest[0]) and full.startswith(end_of_turn, b)):
            raise DataError(f"example {example.id}: no end-of-turn special token after a target message")
        ids += target + rest[:1]
        mask += [True] * (len(target) + 1)
        start = b + len(end_of_turn)
    return Encoded(ids, mask)


def _target_span(full: str, pos: int, content: str, prefill: str, example_id: str) -> tuple[int, int]:
    """Where the generated part (content after the prefill) of one assistant message lies in ``full``."""
    for rendered in (content, content.strip(), content.rstrip()):
        if full.startswith(rendered, pos) and rendered.startswith(prefill):
            return pos + len(prefill), pos + len(rendered)
    raise DataError(f"example {example_id}: the chat template changes an assistant message beyond "
                    f"trimming whitespace; cannot locate its tokens")


def _tokens(tokenizer: Any, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"] if text else []


def _is_special(tokenizer: Any, token_id: int) -> bool:
    added = tokenizer.added_tokens_decoder.get(token_id)
    return token_id in tokenizer.all_special_ids or (added is not None and added.special)
