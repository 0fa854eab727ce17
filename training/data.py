"""Examples -> encoded teacher/student pairs -> padded batches with target positions.

The data order of each epoch is a permutation seeded by (seed, epoch), and hint dropout is seeded
by (seed, epoch, example id), so a step's batch is a pure function of the step number: a resumed
run sees exactly the batches the uninterrupted run would have seen.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from core.errors import DataError
from core.examples import Example, read_examples
from training.sequences import Encoded, dropout_rng, encode, student_keep

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Item:
    """An example and its teacher view (fixed: the teacher sees every section)."""

    example: Example
    teacher: Encoded

    def student(self, tokenizer: Any, p: float, seed: int, epoch: int) -> Encoded:
        keep = student_keep(self.example, p, dropout_rng(seed, epoch, self.example.id))
        student = encode(self.example, tokenizer, keep)
        if student.target_ids != self.teacher.target_ids:
            raise DataError(f"example {self.example.id}: student and teacher target tokens differ")
        return student


@dataclass
class Batch:
    """Right-padded student and teacher sequences; ``*_at`` index the positions predicting targets."""

    student_ids: torch.Tensor
    student_attention: torch.Tensor
    student_at: tuple[torch.Tensor, torch.Tensor]
    teacher_ids: torch.Tensor
    teacher_attention: torch.Tensor
    teacher_at: tuple[torch.Tensor, torch.Tensor]
    labels: torch.Tensor
    target_counts: list[int]
    groups: list[str]

    @property
    def tokens(self) -> int:
        return int(self.student_attention.sum() + self.teacher_attention.sum())

    def to(self, device: torch.device) -> Batch:
        move = lambda t: t.to(device)  # noqa: E731
        return Batch(move(self.student_ids), move(self.student_attention), tuple(map(move, self.student_at)),
                     move(self.teacher_ids), move(self.teacher_attention), tuple(map(move, self.teacher_at)),
                     move(self.labels), self.target_counts, self.groups)


def load_examples(paths: Sequence[str | Path]) -> list[Example]:
    """All examples of the JSONL files; a missing file or a bad line raises :class:`DataError` naming it."""
    examples = [e for p in paths for e in read_examples(p)]
    ids = [e.id for e in examples]
    if len(set(ids)) != len(ids):
        raise DataError(f"duplicate example ids in {', '.join(map(str, paths))}")
    return examples


def prepare(examples: Sequence[Example], tokenizer: Any, max_length: int) -> list[Item]:
    """Encode the teacher views; skip (and log) examples whose teacher sequence exceeds ``max_length``."""
    items = [Item(e, encode(e, tokenizer)) for e in examples]
    kept = [it for it in items if len(it.teacher) <= max_length]
    if len(kept) < len(items):
        log.warning("skipped %d of %d examples longer than %d tokens", len(items) - len(kept), len(items),
                    max_length)
    return kept


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    order = list(range(n))
    random.Random(f"order/{seed}/{epoch}").shuffle(order)
    return order


def collate(pairs: Sequence[tuple[Encoded, Encoded]], groups: Sequence[str], pad_id: int) -> Batch:
    """Batch ``(student, teacher)`` pairs; targets listed sample by sample, in order, on both sides."""
    s_ids, s_att, s_at = pad([s for s, _ in pairs], pad_id)
    t_ids, t_att, t_at = pad([t for _, t in pairs], pad_id)
    labels = torch.tensor([i for _, t in pairs for i in t.target_ids])
    return Batch(s_ids, s_att, s_at, t_ids, t_att, t_at, labels,
                 [len(t.target_ids) for _, t in pairs], list(groups))


def pad(seqs: Sequence[Encoded], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, ...]]:
    """Right-padded ids, the attention mask, and the (row, column) positions whose logits predict the targets."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(seqs), width), dtype=torch.long)
    rows, cols = [], []
    for b, s in enumerate(seqs):
        ids[b, : len(s)] = torch.tensor(s.input_ids)
        attention[b, : len(s)] = 1
        positions = [j - 1 for j, m in enumerate(s.target_mask) if m]  # logits at j-1 predict token j
        rows += [b] * len(positions)
        cols += positions
    return ids, attention, (torch.tensor(rows), torch.tensor(cols))
