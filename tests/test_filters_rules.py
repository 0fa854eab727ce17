"""Rule filters on real trajectories (sample benchmark), and filter files as data."""

from __future__ import annotations

import pytest

from core.errors import DataError
from core.rundir import load_run
from core.trajectory import Step, Trajectory
from filters.base import RuleFilter
from filters.rules import filter_conditions, ignores_exception
from filters.spec import LIBRARY, load_filter, load_filters
from tasks.collection.config import TaskSelection
from tasks.experts import expert_client
from tasks.sample import SampleBenchmark
from tests.fakes.agents import faulty_agent
from tests.test_filters_support import collect_run


@pytest.fixture(scope="module")
def sample_trajectories(tmp_path_factory):
    """(expert, faulty) trajectories of the sample task, recorded by the real loop and workspace."""
    root = tmp_path_factory.mktemp("runs")
    bench, sel = SampleBenchmark(), TaskSelection(benchmark="sample")
    expert = collect_run(root / "expert", expert_client(bench), bench, sel)
    faulty = collect_run(root / "faulty", faulty_agent(), bench, sel)
    return load_run(expert)[0], load_run(faulty)[0]


@pytest.fixture(scope="module")
def library():
    return {s.name: RuleFilter(s) for s in load_filters() if s.kind == "rule"}


def flagged_steps(f: RuleFilter, traj: Trajectory) -> list[int]:
    return [k for k in range(len(traj.steps)) if f.check(traj, k).flagged]


def test_library_loads_and_every_rule_exists():
    specs = load_filters()
    assert {"unprinted-answer", "yelp-categories-data-filter", "repeated-cell", "ignored-exception",
            "numeric-data-filter", "agenda-small-retrieval"} <= {s.name for s in specs}
    assert any(s.kind == "judge" for s in specs) and all(s.hint.strip() for s in specs)


def test_faulty_agent_is_flagged_where_it_errs(sample_trajectories, library):
    _, faulty = sample_trajectories
    assert [s.status for s in faulty.steps] == ["exception", "exception", "ok", "completed"]
    assert flagged_steps(library["repeated-cell"], faulty) == [1]
    assert flagged_steps(library["ignored-exception"], faulty) == [1]  # step 2 names the error and fixes it
    assert flagged_steps(library["unprinted-answer"], faulty) == [3]
    reason = library["ignored-exception"].check(faulty, 1).reason
    assert "get_price('apples')" in reason


def test_expert_passes_except_returning_an_unprinted_total(sample_trajectories, library):
    expert, _ = sample_trajectories
    for name in ("repeated-cell", "ignored-exception", "numeric-data-filter", "yelp-categories-data-filter",
                 "agenda-small-retrieval"):
        assert flagged_steps(library[name], expert) == [], name
    # the sample expert prints the total in the completing cell itself: flagged by default, not with same_cell
    assert flagged_steps(library["unprinted-answer"], expert) == [1]
    lenient = RuleFilter(library["unprinted-answer"].spec.model_copy(update={"args": {"same_cell": True}}))
    assert flagged_steps(lenient, expert) == []


def _one_step(code: str, monologue: str = "", status: str = "ok", observation: str = "") -> Step:
    return Step(index=0, first_message=0, code=code, monologue=monologue, status=status, observation=observation)


def test_monologue_that_ignores_an_exception_is_flagged():
    raised = _one_step("x = get_price('kiwi')", status="exception",
                       observation='File "<cell-1>", line 1, in <module>\nKeyError: "unknown item"')
    silent = _one_step("print(list_items())", monologue="Next I list the items.")
    aware = _one_step("print(list_items())", monologue="The KeyError says kiwi is unknown; I list the items.")
    assert "KeyError" in ignores_exception(Trajectory(task_id="t", steps=[raised, silent]), 1)
    assert ignores_exception(Trajectory(task_id="t", steps=[raised, aware]), 1) is None


def test_column_written_in_another_case_is_flagged(library):
    column_case = library["column-case"]

    def check(code: str):
        return column_case.check(Trajectory(task_id="t", group="coffee", steps=[_one_step(code)]), 0)

    assert check("lows = get_value(rows, 'low').split(', ')").reason == "get_value column 'low' is named 'Low'"
    assert not check("lows = get_value(rows, 'Low').split(', ')").flagged
    assert not check("x = get_value(rows, name='lowest')").flagged  # not a case variant of a column
    assert not check("x = get_value(rows, column)").flagged  # not a literal


def test_filter_conditions_split_like_data_filter():
    assert filter_conditions("Distance>=300; Origin=ATL") == [("Distance", ">=", "300"), ("Origin", "=", "ATL")]


def test_unknown_field_in_a_filter_file_names_file_and_field(tmp_path):
    good = (LIBRARY / "toolqa" / "repeated-cell.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(good + "severity: high\n")
    with pytest.raises(DataError, match=r"bad\.yaml.*unknown field.*severity"):
        load_filter(bad)


def test_filter_file_errors_are_clear(tmp_path):
    unknown_rule = tmp_path / "rule.yaml"
    unknown_rule.write_text("name: x\nkind: rule\nrule: no_such_rule\nhint: h\n")
    with pytest.raises(DataError, match=r"rule\.yaml.*unknown rule 'no_such_rule'"):
        load_filter(unknown_rule)
    judge_without_prompt = tmp_path / "judge.yaml"
    judge_without_prompt.write_text("name: y\nkind: judge\nhint: h\n")
    with pytest.raises(DataError, match=r"judge\.yaml.*needs `judge`"):
        load_filter(judge_without_prompt)
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    with pytest.raises(DataError, match=r"broken\.yaml:\d+: invalid YAML"):
        load_filter(broken)
    (tmp_path / "dup").mkdir()
    for n in ("a", "b"):
        (tmp_path / "dup" / f"{n}.yaml").write_text("name: same\nkind: rule\nrule: repeats_previous_cell\nhint: h\n")
    with pytest.raises(DataError, match="already used"):
        load_filters([tmp_path / "dup"])
