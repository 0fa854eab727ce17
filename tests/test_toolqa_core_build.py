"""ToolQA-mini build (determinism, size, split rule), the benchmark's episodes and grading, and the
reference solver at 100 % on the tiny profile, run through the agent loop in real workspaces."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from core.errors import DataError
from tasks.task import PromptConfig
from tasks.toolqa.benchmark import ToolQABenchmark
from tasks.toolqa.build import build_toolqa_mini, template_sizes
from tasks.toolqa.hints import common_hints, group_hints
from tasks.toolqa.questions import GROUPS, SPLITS, group_templates, load_questions
from tasks.toolqa.solve import solve


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_toolqa_mini(tmp_path_factory.mktemp("mini") / "tiny", "tiny", seed=0)


def test_tiny_is_deterministic_and_small(tiny: Path, tmp_path: Path) -> None:
    manifest = json.loads((tiny / "manifest.json").read_text())
    assert manifest["profile"] == "tiny" and manifest["seed"] == 0 and manifest["bytes"] < 2_000_000
    again = build_toolqa_mini(tmp_path / "again", "tiny", seed=0)
    assert (again / "manifest.json").read_bytes() == (tiny / "manifest.json").read_bytes()
    other = json.loads((build_toolqa_mini(tmp_path / "other", "tiny", seed=1) / "manifest.json").read_text())
    assert other["files"] != manifest["files"]


def test_tiny_questions_follow_the_split_rule(tiny: Path) -> None:
    for group in GROUPS:
        for template in group_templates(group):
            sizes = template_sizes(template, "tiny")
            assert 3 <= sizes["train"] + sizes["val"] + sizes["test"] <= 6 and sizes["val"] == 1
            assert (sizes["test-unseen-questions"] > 0) == template.unseen
    counts = {s: Counter((q.group, q.template) for q in load_questions(s, tiny)) for s in SPLITS}
    random_split = counts["train"] + counts["val"] + counts["test"]
    assert random_split == counts["train-seen-questions"] + counts["val-seen-questions"] + counts["test-unseen-questions"]
    assert len(random_split) == 100  # every template has questions
    questions = [q for s in ("train", "val", "test") for q in load_questions(s, tiny)]
    assert all(isinstance(q.answer, str) and q.answer for q in questions)
    assert len({(q.group, q.question) for q in questions}) == len(questions)


def test_build_refuses_bad_input(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown ToolQA-mini profile"):
        build_toolqa_mini(tmp_path / "x", "huge")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(DataError, match="not a ToolQA-mini root"):
        build_toolqa_mini(tmp_path / "mine", "tiny")


def test_episode_spec_prompt_configs(tiny: Path) -> None:
    bench = ToolQABenchmark(tiny, splits=["test"])
    task = next(t for t in bench.tasks() if t.group == "coffee")
    plain = bench.episode(task, PromptConfig())
    assert task.question in plain.description and "Format tip:" in plain.description  # tip in no-hint runs
    assert not plain.hints and plain.tool_docs == "" and plain.max_steps == 10
    assert plain.episode_kwargs == {"group": "coffee", "toolset": "relevant"}
    teacher = bench.episode(task, PromptConfig(name="teacher", hints="task", tool_docs="long"))
    names = [s.name for s in teacher.hints.sections]
    assert names[:3] == [h.name for h in common_hints()] and all("/" not in n or n.startswith("coffee/") for n in names)
    assert "load_db(db_variant: str)" in teacher.tool_docs
    assert "load_graph" not in teacher.tool_docs
    combined = bench.episode(task, PromptConfig(name="combined", hints="combined", tool_docs="long", toolset="all"))
    every = list(common_hints()) + [h for g in GROUPS for h in group_hints(g)]
    assert sorted(s.text for s in combined.hints.sections) == sorted({h.text for h in every})  # shared texts once
    assert "load_graph" in combined.tool_docs and combined.episode_kwargs["toolset"] == "all"
    assert len({bench.episode(t, PromptConfig()).tools.preload_key() for t in bench.tasks()}) == 1


def test_grade_uses_group_semantics(tiny: Path) -> None:
    bench = ToolQABenchmark(tiny, splits=["test"])
    for task in bench.tasks():
        assert bench.grade(task, task.answer) == 1.0
        assert bench.grade(task, None) == 0.0
        assert not task.meta["alternatives"]  # real-corpus special cases never apply to synthetic roots


def test_real_question_tasks() -> None:
    bench = ToolQABenchmark(None, splits=["test"], groups=["flights", "yelp"])
    tasks = {t.meta["qid"]: t for t in bench.tasks()}
    assert len(tasks) == 119 and tasks["easy-flight-0059"].meta["alternatives"] == ["23.0"]
    assert bench.grade(tasks["easy-flight-0059"], "23.0") == 1.0
    assert bench.grade(tasks["easy-yelp-0015"], "Wesley Chapel, Lutz, Largo, Tampa, Brandon, Spring Hill, "
                                                 "Port Richey, Oldsmar") == 1.0
    with pytest.raises(DataError, match="unknown ToolQA split"):
        ToolQABenchmark(None, splits=["dev"])


def test_reference_solver_is_perfect_on_tiny(tiny: Path) -> None:
    groups = [g for g in GROUPS if g != "agenda"]  # agenda loads an embedding model: see the slow test
    report = solve(tiny, split="test", groups=groups)
    assert report.n == len(ToolQABenchmark(tiny, splits=["test"], groups=groups).tasks()) >= 80
    assert report.success_rate == 1.0, report.table()


@pytest.mark.slow
def test_reference_solver_is_perfect_on_tiny_agenda(tiny: Path) -> None:
    report = solve(tiny, split="test", groups=["agenda"])
    assert report.n >= 7 and report.success_rate == 1.0, report.table()
