"""The question-template interface shared by every ToolQA group.

A template is one kind of question (``coffee/opening-price``). It knows how to recognise its real
questions (``pattern``, named groups = slots), how to phrase new ones (``wording``), how to sample
slots from a corpus, how to compute the gold answer from the corpus, and how an expert solves it
with the agent's tools only (``solution``: the steps as (monologue, code) pairs). The same answer
code runs on the real corpus and on ToolQA-mini, so the two agree by construction.

Shared by the group modules: ``ConfiguredTemplate`` (a template per constructor call),
``GuardedTemplate`` (a sampler with answer guards) and ``report_step`` (the final expert step).
"""

from __future__ import annotations

import abc
import random
import re
from typing import Any

from agent.scripted import ExpertStep

Slots = dict[str, str]




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
        """The slots of ``question``, or None when it is not of this template (unmatched optional groups
        are left out)."""
        m = self.pattern.fullmatch(question.strip())
        return None if m is None else {k: v for k, v in m.groupdict().items() if v is not None}

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


class ConfiguredTemplate(Template):
    """A template whose name, pattern and texts are constructor arguments, so that one class serves
    several templates that differ only in them and in a few settings of the subclass."""

    def __init__(self, name: str, qtype: str, pattern: str, wording: str, format_tip: str = "",
                 unseen: bool = False) -> None:
        self.name, self.type, self.wording, self.format_tip, self.unseen = name, qtype, wording, format_tip, unseen
        self.pattern = re.compile(pattern)


class GuardedTemplate(Template):
    """A template whose sampler redraws until the question reads back to its slots and the answer
    passes the sampler guards of the corpus doc."""

    bad: tuple[str, ...] = ("", "nan")  # answers never asked for (empty, NaN, degenerate)
    rare: tuple[str, ...] = ()  # answers kept in one draw of four: caps a template's modal answer
    tries = 50  # per call; the question builder calls again

    @abc.abstractmethod
    def draw(self, corpus: Any, rng: random.Random) -> Slots | None:
        """Candidate slots (None when this draw is unusable)."""

    def rare_answers(self, corpus: Any) -> tuple[str, ...]:
        return self.rare

    def sample_slots(self, corpus: Any, rng: random.Random) -> Slots | None:
        for _ in range(self.tries):
            slots = self.draw(corpus, rng)
            if slots is None or self.parse(self.question(slots)) != slots:  # the question must read back
                continue
            answer = self.answer(corpus, slots)
            if answer not in self.bad and (answer not in self.rare_answers(corpus) or rng.random() < 0.25):
                return slots
        return None


def report_step(report: str) -> ExpertStep:
    """The last expert step: hand ``answer`` to ``complete_task`` with ``report`` (an f-string body)."""
    return ExpertStep("I have the answer, so I will report it.", f"complete_task(f{report!r}, answer)")
