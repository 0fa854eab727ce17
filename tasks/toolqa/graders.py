"""ToolQA graders with the reference semantics (1 = correct, 0 = wrong), on ``str`` of both sides.

* Tables (flights, coffee, yelp, airbnb): :func:`standardize` both and compare. This is lenient in
  known ways (the sign is ignored, ``$1,146`` equals ``$1146``) and strict in others (``2.50`` is
  not ``2.5``; multi-value answers are order-sensitive).
* DBLP: an all-digit gold is compared with the answer read as a float and truncated (``3.9``
  counts as 3); otherwise both are split on ``'; '`` and must hold the same number of items, every
  gold item appearing exactly.
* Agenda: any ``//`` alternative of the gold, standardised, must be a substring of the
  standardised answer (a verbose answer passes), with the reference's special case for two-item
  ``all events`` golds.

The reference grader also special-cased four items of the real test split by their line index.
Line indices are fragile (pitfall 18: they silently change meaning when a file is re-split), so
those cases are kept as data keyed by the original question id (:data:`REAL_ALTERNATIVES`,
:data:`REAL_SET_COMPARED`) and applied by the benchmark to the real question files only, never to
synthetic ones, whose ids may coincide.
"""

from __future__ import annotations

import re
import string
from typing import Any

_PUNCTUATION = str.maketrans("", "", string.punctuation)
_DROPPED_WORDS = re.compile(r"\b(a|an|the|minutes|usd)\b")

# Real "extra minutes" questions whose originally published answers are also accepted.
REAL_ALTERNATIVES: dict[tuple[str, str], tuple[str, ...]] = {
    ("flights", "easy-flight-0059"): ("23.0",),
    ("flights", "easy-flight-0053"): ("13.0",),
    ("flights", "easy-flight-0055"): ("28.0",),
}
# A real chain-store question (8 cities) whose answer is compared as a set of ', ' items.
REAL_SET_COMPARED: frozenset[tuple[str, str]] = frozenset({("yelp", "easy-yelp-0015")})


def standardize(text: str) -> str:
    """Lower-case, delete punctuation, drop the words a/an/the/minutes/usd, collapse whitespace."""
    text = text.lower().translate(_PUNCTUATION)
    return " ".join(_DROPPED_WORDS.sub(" ", text).split())


def grade_table(answer: str, gold: str) -> bool:
    return standardize(answer) == standardize(gold)


def grade_table_set(answer: str, gold: str) -> bool:
    """Table comparison of ``', '``-separated items, ignoring their order."""
    return sorted(map(standardize, answer.split(", "))) == sorted(map(standardize, gold.split(", ")))


def grade_dblp(answer: str, gold: str) -> bool:
    if gold.isdigit():
        try:
            return int(float(answer)) == int(gold)
        except (ValueError, OverflowError):
            return False
    answers = answer.split("; ")
    golds = gold.split("; ")
    return len(answers) == len(golds) and all(g in answers for g in golds)


def grade_agenda(answer: str, gold: str, qtype: str) -> bool:
    if qtype == "all events":
        decided = _two_events(answer, gold)
        if decided is not None:
            return decided
    std_answer = standardize(answer)
    if any(alt and alt in std_answer for alt in map(standardize, gold.split("//"))):
        return True
    return std_answer == standardize(gold)


def _two_events(answer: str, gold: str) -> bool | None:
    """The reference's rule for a two-event gold; None means "fall through to the general rule"."""
    golds = [standardize(g) for g in gold.split(",")]
    if len(golds) != 2:
        return None
    answers = [standardize(a) for a in answer.split(",")]
    if len(answers) != 2:
        return False
    contained = [any(g in a for a in answers) for g in golds]
    if not contained[0]:
        return False
    return True if all(contained) else None


def grade(group: str, qtype: str, answer: Any, gold: Any, *, alternatives: tuple[str, ...] = (),
          as_set: bool = False) -> float:
    """Score one answer; ``alternatives`` are further accepted golds, ``as_set`` orders items freely."""
    if answer is None:
        return 0.0
    answer, gold = str(answer), str(gold)
    if group == "dblp":
        return float(grade_dblp(answer, gold))
    if group == "agenda":
        return float(grade_agenda(answer, gold, qtype))
    compare = grade_table_set if as_set else grade_table
    return float(any(compare(answer, g) for g in (gold, *alternatives)))
