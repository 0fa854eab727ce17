"""The question-template interface shared by every ToolQA group.

A template is one kind of question (``coffee/opening-price``). It knows how to recognise its real
questions (``pattern``, named groups = slots), how to phrase new ones (``wording``), how to sample
slots from a corpus, how to compute the gold answer from the corpus, and how an expert solves it
with the agent's tools only (``solution``: the steps as (monologue, code) pairs). The same answer
code runs on the real corpus and on ToolQA-mini, so the two agree by construction.
"""

from __future__ import annotations

import abc
import random
import re
from dataclasses import dataclass
from typing import Any

Slots = dict[str, str]


@dataclass(frozen=True)
class ExpertStep:
    monologue: str
    code: str


class Template(abc.ABC):
    """Subclass per template; instances are registered in the group module's ``TEMPLATES``."""

    group: str
    name: str  # unique within the group, e.g. "opening-price"
    type: str  # the ``type`` field of the question files
    pattern: re.Pattern[str]  # matches every real question of this template; named groups = slots
    wording: str  # str.format template over the slots, giving the question text
    format_tip: str = ""  # the "Format tip: ..." sentence shown in the task text (may be empty)
    unseen: bool = False  # held out in the seen/unseen split

    @property
    def id(self) -> str:
        return f"{self.group}/{self.name}"

    def parse(self, question: str) -> Slots | None:
        m = self.pattern.fullmatch(question.strip())
        return m.groupdict() if m else None

    def question(self, slots: Slots) -> str:
        return self.wording.format(**slots)

    @abc.abstractmethod
    def sample_slots(self, corpus: Any, rng: random.Random) -> Slots | None:
        """Slots for a new question on ``corpus`` (None when this draw is unusable)."""

    @abc.abstractmethod
    def answer(self, corpus: Any, slots: Slots) -> str:
        """The gold answer, computed from ``corpus``, in the exact gold string format."""

    @abc.abstractmethod
    def solution(self, slots: Slots) -> list[ExpertStep]:
        """A known-good solution using only the agent's tools, ending with ``complete_task``."""
