"""Template coverage: every real ToolQA question (six groups, all six split folders) matches exactly
one template of its group, with its slots parsed, and template counts agree with the real files."""

from __future__ import annotations

from collections import Counter

import pytest

from core.errors import DataError
from tasks.toolqa.questions import (
    GROUPS,
    RANDOM_SPLITS,
    SPLITS,
    TEMPLATE_SPLITS,
    group_templates,
    load_questions,
    match_template,
)

TEMPLATES_PER_GROUP = {"flights": (20, 6), "coffee": (21, 6), "yelp": (20, 6), "airbnb": (17, 6),
                       "dblp": (15, 5), "agenda": (7, 3)}  # (templates, of which unseen), doc §3


def _real_questions(group: str) -> dict[str, object]:
    """Unique questions of ``group`` over all six split folders (the files hold 1,096 lines in the
    random splits, 1,094 distinct questions: flights and airbnb each repeat one)."""
    unique = {}
    for split in SPLITS:
        for q in load_questions(split, groups=[group], match=False):
            unique.setdefault(q.question, q)
    return unique


@pytest.mark.parametrize("group", GROUPS)
def test_every_real_question_matches_exactly_one_template(group: str) -> None:
    problems = []
    for question, q in _real_questions(group).items():
        try:
            template, slots = match_template(group, question, q.where)
        except DataError as e:
            problems.append(str(e))
            continue
        if q.type and template.type != q.type:
            problems.append(f"{q.where}: type {q.type!r} but matched {template.id}")
        elif not slots or any(v is None or not str(v).strip() for v in slots.values()):
            problems.append(f"{q.where}: {template.id} parsed empty slots {slots}")
    assert not problems, f"{len(problems)} problems, first ones:\n" + "\n".join(problems[:15])


@pytest.mark.parametrize("group", GROUPS)
def test_template_inventory_and_counts(group: str) -> None:
    templates = group_templates(group)
    assert (len(templates), sum(t.unseen for t in templates)) == TEMPLATES_PER_GROUP[group]
    assert len({t.name for t in templates}) == len({t.type for t in templates}) == len(templates)
    # per template: questions in the random splits == questions in the seen/unseen splits (by type)
    random_split = Counter(q.type for s in RANDOM_SPLITS for q in load_questions(s, groups=[group]))
    by_template = Counter(q.type for s in TEMPLATE_SPLITS for q in load_questions(s, groups=[group], match=False))
    assert random_split == by_template
    unseen = {t.type for t in templates if t.unseen}
    test_unseen = Counter(q.type for q in load_questions("test-unseen-questions", groups=[group], match=False))
    assert set(test_unseen) == unseen


def test_total_real_questions() -> None:
    assert sum(len(_real_questions(g)) for g in GROUPS) == 1094
