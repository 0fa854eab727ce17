"""Corrections: hint insertion, teacher sampling, verification in a fresh workspace, continuing to the end."""

from __future__ import annotations

import json

import pytest

from agent.prompt import MONOLOGUE_TAG
from agent.scripted import ExpertStep, requested_tag, scripted_agent, steps_taken
from core.errors import DataError
from core.llm.base import Request
from core.llm.scripted import ScriptedClient
from core.messages import student_keeps_nothing_hidden, to_chat
from core.rundir import load_run
from core.trajectory import Step, Trajectory
from filters.correct import correct, load_corrections, replay_cells, summary_line
from filters.review import review
from filters.spec import LIBRARY
from tasks.collection.config import TaskSelection
from tasks.sample import SampleBenchmark
from tests.fakes.agents import faulty_agent
from tests.test_filters_support import collect_run

RULES = [LIBRARY / "toolqa" / f"{n}.yaml" for n in ("repeated-cell", "ignored-exception", "unprinted-answer")]
CAREFUL, HASTY = "I read the feedback carefully.", "I just try something."
GOOD_CODE = {  # the step under correction -> a cell that runs
    1: "a, p = get_price('apple'), get_price('pear')\nprint(a, p)",
    3: "total = 3 * a + 2 * p\nprint(f'{total:.2f}')",
}


def teacher(final_answer: str = "f'{total:.2f}'") -> ScriptedClient:
    """A hinted teacher: per state one careful sample (its cell runs) and one hasty sample (its cell
    raises); after its corrected step it finishes the task with ``final_answer``."""
    samples: dict[int, int] = {}

    def choose(request: Request) -> ExpertStep:
        msgs = request.messages
        feedback = max(i for i, m in enumerate(msgs) if "<feedback>" in m["content"])
        if steps_taken(msgs[feedback:]):  # a later step of a continued episode
            return ExpertStep("Now I finish.", f"total = 3 * a + 2 * p\ncomplete_task('t', {final_answer})")
        if requested_tag(request) == MONOLOGUE_TAG:
            i = samples[id(request)] = samples.get(id(request), -1) + 1
            return ExpertStep(CAREFUL if i == 0 else HASTY, "")
        careful = CAREFUL in msgs[-2]["content"]
        return ExpertStep("", GOOD_CODE[steps_taken(msgs)] if careful else "print(undefined_total)")

    return scripted_agent(choose, model="teacher")


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory):
    bench = SampleBenchmark()
    return collect_run(tmp_path_factory.mktemp("runs") / "faulty", faulty_agent(), bench,
                       TaskSelection(benchmark="sample"))


@pytest.fixture
def review_dir(faulty_run, tmp_path):
    review([faulty_run], RULES, tmp_path / "review", show_progress=False)
    return tmp_path / "review"


def test_verification_drops_corrections_that_raise(review_dir):
    path = correct(review_dir, teacher(), samples=2, verify=True, show_progress=False)
    every = load_corrections(path, kept_only=False)
    assert sorted((c.step, c.sample) for c in every) == [(1, 0), (1, 1), (3, 0), (3, 1)]
    kept = load_corrections(path)
    assert sorted((c.step, c.monologue) for c in kept) == [(1, CAREFUL), (3, CAREFUL)]
    dropped = [c for c in every if not c.kept]
    assert all(c.verification == "exception" and "NameError" in c.observation for c in dropped)
    by_step = {c.step: c for c in kept}
    assert "0.5 0.75" in by_step[1].observation and "3.00" in by_step[3].observation  # earlier cells replayed
    assert by_step[1].filters == ["ignored-exception", "repeated-cell"]


def test_correction_examples_insert_the_hint_before_the_new_monologue(review_dir, faulty_run):
    kept = {c.step: c for c in load_corrections(correct(review_dir, teacher(), samples=2, show_progress=False))}
    traj = load_run(faulty_run)[0]
    ex = kept[1].example
    state = traj.state(1)
    assert [m.model_dump() for m in ex.messages[: len(state)]] == [m.model_dump() for m in state]
    hints = ex.messages[len(state): len(state) + 2]
    assert [m.kind for m in hints] == ["hint", "hint"]
    assert [m.hint_sections() for m in hints] == [["ignored-exception"], ["repeated-cell"]]
    tail = ex.messages[len(state) + 2:]
    assert [(m.kind, m.target) for m in tail] == [("monologue", True), ("code_instruction", False), ("code", True)]
    assert tail[0].text.startswith("<inner_monologue>\n" + CAREFUL) and "get_price('apple')" in tail[2].text
    assert ex.provenance.source == "correction" and ex.provenance.filter == "ignored-exception+repeated-cell"
    assert ex.state_id == f"{faulty_run}:{traj.key}@1" and ex.provenance.sample == 0
    student = "".join(m["content"] for m in to_chat(ex.messages, student_keeps_nothing_hidden))
    assert "<feedback>" not in student and "<feedback>" in "".join(m.text for m in ex.messages)


def test_without_verification_every_parsed_sample_is_kept(review_dir):
    every = load_corrections(correct(review_dir, teacher(), samples=2, verify=False, show_progress=False))
    assert len(every) == 4 and {c.verification for c in every} == {"unverified"}


def test_continue_to_end_keeps_only_corrections_that_end_correct(review_dir):
    path = correct(review_dir, teacher(), samples=2, continue_to_end=True, show_progress=False)
    every = {(c.step, c.sample): c for c in load_corrections(path, kept_only=False)}
    assert every[(1, 0)].kept and every[(1, 0)].final_score == 1.0 and every[(1, 0)].example.success
    assert not every[(1, 1)].kept and every[(1, 1)].final_score is None  # raised: never continued
    # the faulty agent used the whole budget: a correction of its last step cannot finish any more
    assert not every[(3, 0)].kept and "budget_exhausted" in every[(3, 0)].reason


def test_continue_to_end_drops_a_wrong_final_answer(review_dir):
    path = correct(review_dir, teacher(final_answer="str(total)"), samples=2, continue_to_end=True,
                   show_progress=False)
    first = next(c for c in load_corrections(path, kept_only=False) if (c.step, c.sample) == (1, 0))
    assert not first.kept and first.final_score == 0.0 and "'3.0'" in first.reason


def test_correct_resumes_state_by_state(review_dir):
    path = correct(review_dir, teacher(), samples=2, verify=False, show_progress=False)
    before = path.read_text()

    def fail(request: Request) -> str:
        raise AssertionError("no state should be corrected twice")

    correct(review_dir, ScriptedClient(fail), samples=2, verify=False, show_progress=False)
    assert path.read_text() == before


def test_replay_skips_format_errors_and_restarts_after_a_crash():
    def step(i: int, status: str) -> Step:
        return Step(index=i, first_message=0, code=f"x{i}", status=status)

    traj = Trajectory(task_id="t", steps=[step(0, "ok"), step(1, "exception"), step(2, "format_error"),
                                          step(3, "crashed"), step(4, "ok"), step(5, "exception"), step(6, "ok")])
    assert replay_cells(traj, 3) == ["x0", "x1"]
    assert replay_cells(traj, 6) == ["x4", "x5"]


def test_a_state_flagged_by_new_filters_is_corrected_again(faulty_run, tmp_path):
    out = tmp_path / "review"
    review([faulty_run], RULES[:1], out, show_progress=False)
    correct(out, teacher(), samples=2, verify=False, show_progress=False)
    review([faulty_run], RULES[:2], out, show_progress=False)
    path = correct(out, teacher(), samples=2, verify=False, show_progress=False)
    assert len(path.read_text().splitlines()) == 4
    assert {tuple(c.filters) for c in load_corrections(path)} == {("ignored-exception", "repeated-cell")}


def test_a_corrupt_corrections_line_names_file_and_line(review_dir):
    path = correct(review_dir, teacher(), samples=1, verify=False, show_progress=False)
    path.write_text(path.read_text() + '{"key": "half a record"}\n')
    with pytest.raises(DataError, match=r"corrections\.jsonl:3: corrupt record"):
        load_corrections(path)


def test_the_summary_says_how_many_samples_verification_dropped(review_dir):
    correct(review_dir, teacher(), samples=2, verify=True, show_progress=False)
    counts = json.loads((review_dir / "corrections.json").read_text())
    assert (counts["samples"], counts["kept"], counts["dropped"]["verification"]) == (4, 2, 2)
    assert counts["settings"]["verify"] is True and "verification dropped 2" in summary_line(review_dir)


def test_without_verification_nothing_is_dropped_as_in_the_paper(faulty_run, tmp_path):
    review([faulty_run], RULES, tmp_path / "paper", show_progress=False)
    correct(tmp_path / "paper", teacher(), samples=2, verify=False, show_progress=False)
    counts = json.loads((tmp_path / "paper" / "corrections.json").read_text())
    assert (counts["samples"], counts["kept"]) == (4, 4) and "(verification off)" in summary_line(tmp_path / "paper")
