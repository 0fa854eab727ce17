"""Corrections on OfficeBench, which grades the episode's files: a corrected cell (or the episode
continued after it) is graded on the testbed it wrote, end to end from a real run and review."""

from __future__ import annotations

import json

import pytest

from agent.scripted import ExpertStep, replay_agent, scripted_agent, steps_taken
from core.llm.base import Request
from core.llm.scripted import ScriptedClient
from filters.correct import correct, load_corrections, summary_line
from filters.review import review
from filters.spec import LIBRARY
from tasks.collection.config import TaskSelection
from tasks.officebench.benchmark import OfficeBenchmark
from tests.test_filters_support import collect_run

TASK = "officebench/1-22/4"  # "what is my score of project2?" from Alice's mailbox: "Your score is 93"
EXPERT = ("import types\nfrom tasks.officebench.solutions import SOLUTIONS\n"
          "answer = SOLUTIONS['1-22/4'](types.SimpleNamespace(**globals()))\n")
FAULTY = [ExpertStep("I look at the mail.", "print(mails)"), ExpertStep("Once more.", "print(mails)"),
          ExpertStep("I guess.", "complete_task('guessed', '95')")]


class OneTask(OfficeBenchmark):
    def tasks(self):
        return [t for t in super().tasks() if t.id == TASK]


def teacher(first_code: str, then_code: str = "") -> ScriptedClient:
    """At the flagged state: ``first_code``; in a continued episode's later steps: ``then_code``."""
    def choose(request: Request) -> ExpertStep:
        msgs = request.messages
        feedback = max(i for i, m in enumerate(msgs) if "<feedback>" in m["content"])
        return ExpertStep("I follow the feedback.", then_code if steps_taken(msgs[feedback:]) else first_code)

    return scripted_agent(choose, model="teacher")


@pytest.fixture(scope="module")
def review_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("office")
    run = collect_run(root / "faulty", replay_agent(FAULTY, model="scripted-faulty"), OneTask(), TaskSelection(benchmark="officebench"))
    rules = [LIBRARY / "toolqa" / f"{n}.yaml" for n in ("repeated-cell", "ignored-exception")]
    review([run], rules, root / "review", show_progress=False)
    return root / "review"


def _fresh(review_dir, tmp_path):
    out = tmp_path / "review"
    out.mkdir(parents=True)
    for name in ("verdicts.jsonl", "review.json"):
        (out / name).write_text((review_dir / name).read_text())
    return out


def test_a_corrected_cell_that_completes_is_graded_on_its_own_testbed(review_dir, tmp_path):
    right = _fresh(review_dir, tmp_path / "right")
    kept = load_corrections(correct(right, teacher(EXPERT + "complete_task('found it', answer)"), samples=1,
                                    benchmark=OneTask(), show_progress=False))
    assert kept and all(c.verification == "completed" and c.final_score == 1.0 and c.example.success for c in kept)
    wrong = _fresh(review_dir, tmp_path / "wrong")
    every = load_corrections(correct(wrong, teacher("complete_task('guessed', '95')"), samples=1,
                                     benchmark=OneTask(), show_progress=False), kept_only=False)
    assert every and all(c.final_score == 0.0 and not c.example.success for c in every)


def test_a_continued_episode_is_graded_on_its_testbed(review_dir, tmp_path):
    out = _fresh(review_dir, tmp_path)
    path = correct(out, teacher("print(list_emails('Alice'))", EXPERT + "complete_task('done', answer)"),
                   samples=1, continue_to_end=True, benchmark=OneTask(), show_progress=False)
    kept = load_corrections(path)
    assert kept and all(c.verification == "ok" and c.final_score == 1.0 for c in kept)
    counts = json.loads((out / "corrections.json").read_text())
    assert counts["kept"] == counts["samples"] == len(kept) and counts["dropped"]["verification"] == 0
    assert "verification dropped 0" in summary_line(out)
