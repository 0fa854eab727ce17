"""Filters on real ToolQA-mini trajectories: the template experts and a faulty scripted agent.

The faulty agent makes the mistakes the ToolQA convention rules look for: it compares the numeric
``Distance`` column in ``data_filter``, filters Yelp ``categories`` with ``data_filter`` (which
raises), runs the failing cell again, returns a value it never printed, and retrieves only five
agenda documents.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agent.prompt import MONOLOGUE_TAG
from agent.scripted import ExpertStep, next_step, requested_tag, scripted_agent
from agent.workspace import close_servers
from core.asyncio_compat import run_sync
from core.llm.base import Request
from core.llm.scripted import ScriptedClient
from core.rundir import load_run
from core.trajectory import Trajectory
from filters.base import RuleFilter
from filters.correct import correct, load_corrections
from filters.review import load_verdicts, review
from filters.spec import load_filters
from tasks.collection.config import TaskSelection
from tasks.collection.runner import collect_async
from tasks.toolqa.benchmark import ToolQABenchmark
from tasks.toolqa.build import build_toolqa_mini
from tasks.toolqa.questions import find_template
from tests.test_filters_support import collect_config

# Builds a ToolQA-mini corpus and runs ~20 episodes (about 20-50 s): real trajectories for the filters.

GROUPS = ["flights", "yelp", "agenda"]
FAULTY = {
    "flights": [
        ExpertStep("I keep the long flights from the origin.",
                   "db = load_db('flights')\nrows = data_filter(db, 'Distance>1000')\nprint(len(rows))"),
        ExpertStep("I return the count.", "complete_task('count', str(len(rows)))"),
    ],
    "yelp": [
        ExpertStep("I keep the pizza places.", "db = load_db('yelp')\nrows = data_filter(db, 'categories=Pizza')\nprint(len(rows))"),
        ExpertStep("Let me run it again.", "db = load_db('yelp')\nrows = data_filter(db, 'categories=Pizza')\nprint(len(rows))"),
        ExpertStep("The error says no row matched: categories holds comma lists, so I use str.contains.",
                   "rows = db[db['categories'].str.contains('Pizza', na=False)]\nprint(len(rows))"),
        ExpertStep("I return twice the count.", "complete_task('count', str(2 * len(rows) + 1))"),
    ],
    "agenda": [
        ExpertStep("I search the agenda.", "docs = retrieve_agenda('events', 5)\nprint(len(docs))"),
        ExpertStep("I return the first document's start.", "complete_task('first', docs[0][:12])"),
    ],
}


def by_question(bench: ToolQABenchmark, steps_for: Callable) -> ScriptedClient:
    """A scripted agent that finds its task by the question in the task message."""
    tasks = {t.question: t for t in bench.tasks()}

    def choose(request: Request) -> ExpertStep:
        task = next(t for q, t in tasks.items() if q in request.messages[0]["content"])
        return next_step(steps_for(task), request.messages)

    return scripted_agent(choose)


def expert_steps(task) -> list[ExpertStep]:
    return find_template(task.group, task.template.split("/", 1)[1]).solution(task.meta["slots"])


@pytest.fixture(scope="module")
def toolqa(tmp_path_factory):
    root = tmp_path_factory.mktemp("toolqa")
    data = build_toolqa_mini(root / "mini", "tiny", seed=0, groups=GROUPS)
    bench = ToolQABenchmark(data, splits=["train"], groups=GROUPS)
    templates = sorted({t.template for t in bench.tasks()})
    per_group = {"flights": 2, "yelp": 2, "agenda": 1}  # agenda episodes are slow (embedding retrieval)
    chosen = [t for g in GROUPS for t in [x for x in templates if x.startswith(g)][: per_group[g]]]
    sel = TaskSelection(benchmark="toolqa", data=str(data), splits=["train"], templates=chosen, per_template=1)

    async def both() -> tuple[Path, Path]:  # one event loop: both runs share one preloaded workspace server
        try:
            runs = []
            for name, steps_for in (("expert", expert_steps), ("faulty", lambda t: FAULTY[t.group])):
                client = by_question(bench, steps_for)
                runs.append(await collect_async(collect_config(root / name, client, sel), client, bench, False))
            return runs[0], runs[1]
        finally:
            await close_servers()

    return (data, *run_sync(both()))


@pytest.fixture(scope="module")
def rules():
    return {s.name: RuleFilter(s) for s in load_filters() if s.kind == "rule"}


def flags(f: RuleFilter, trajs: list[Trajectory]) -> dict[str, list[int]]:
    """Flagged steps per group, over the trajectories the filter applies to."""
    out: dict[str, list[int]] = {}
    for t in trajs:
        if f.applies(t):
            out.setdefault(t.group, []).extend(k for k in range(len(t.steps)) if f.check(t, k).flagged)
    return out


def test_expert_trajectories_pass_the_convention_rules(toolqa, rules):
    _, expert, _ = toolqa
    trajs = load_run(expert)
    assert len(trajs) == 5 and all(t.outcome.success for t in trajs)
    for name in ("numeric-data-filter", "yelp-categories-data-filter", "agenda-small-retrieval",
                 "repeated-cell", "ignored-exception"):
        assert not any(flags(rules[name], trajs).values()), name
    unprinted = rules["unprinted-answer"]
    assert any(not unprinted.check(t, len(t.steps) - 1).flagged for t in trajs)


def test_faulty_agent_is_flagged_by_each_rule(toolqa, rules):
    _, _, faulty = toolqa
    trajs = load_run(faulty)
    by_group = {g: [t for t in trajs if t.group == g] for g in GROUPS}
    assert [len(by_group[g]) for g in GROUPS] == [2, 2, 1]
    assert all([s.status for s in t.steps] == ["exception", "exception", "ok", "completed"] for t in by_group["yelp"])
    assert flags(rules["numeric-data-filter"], trajs) == {"flights": [0, 0]}
    assert flags(rules["yelp-categories-data-filter"], trajs) == {"yelp": [0, 1] * 2}
    assert flags(rules["agenda-small-retrieval"], trajs) == {"agenda": [0]}
    repeated, ignored = flags(rules["repeated-cell"], trajs), flags(rules["ignored-exception"], trajs)
    assert repeated["yelp"] == ignored["yelp"] == [1, 1]  # step 2 reacts to the error and fixes it
    assert not repeated["flights"] and not repeated["agenda"]
    assert flags(rules["unprinted-answer"], by_group["yelp"])["yelp"] == [3, 3]


def test_review_and_verified_corrections_on_toolqa(toolqa, tmp_path):
    data, _, faulty = toolqa
    specs = [s for s in load_filters() if s.kind == "rule"]
    review([faulty], specs, tmp_path / "all", show_progress=False)
    verdicts = load_verdicts(tmp_path / "all", flagged_only=False)
    assert {v.group for v in verdicts if v.filter == "yelp-categories-data-filter"} == {"yelp"}  # applies_to
    numeric = [s for s in specs if s.name == "numeric-data-filter"]
    review([faulty], numeric, tmp_path / "review", show_progress=False)
    fix = ("import pandas as pd\ndb = load_db('flights')\n"
           "rows = db[pd.to_numeric(db['Distance'], errors='coerce') > 1000]\nprint(len(rows))")
    samples: dict[int, int] = {}

    def teacher(request: Request) -> ExpertStep:  # sample 0 is careful, sample 1 hasty
        if requested_tag(request) == MONOLOGUE_TAG:
            i = samples[id(request)] = samples.get(id(request), -1) + 1
            return ExpertStep("careful" if i == 0 else "hasty", "")
        careful = "careful" in request.messages[-2]["content"]
        return ExpertStep("", fix if careful else "print(no_such_variable)")

    flights_only = ToolQABenchmark(data, splits=["train"], groups=["flights"])  # no agenda retriever to load
    path = correct(tmp_path / "review", scripted_agent(teacher), samples=2, benchmark=flights_only,
                   show_progress=False)
    corrections = load_corrections(path, kept_only=False)
    assert sorted((c.step, c.sample, c.kept) for c in corrections) == [(0, 0, True), (0, 0, True),
                                                                       (0, 1, False), (0, 1, False)]
    for c in corrections:
        if c.kept:
            assert c.verification == "ok" and "<stdout#1>" in c.observation and "pd.to_numeric" in c.code
        else:
            assert c.verification == "exception" and "NameError" in c.observation
