"""GSM8K: the numeric grader's tricky cases, bad data, and the benchmark through the runner."""

import json

import pytest

from core.errors import DataError
from core.rundir import trajectories
from tasks import gsm8k
from tasks.collection.config import load_collect_config
from tasks.collection.report import summarize, to_markdown, write_report
from tasks.collection.runner import collect


@pytest.mark.parametrize(("answer", "reference", "score"), [
    (18, "18", 1.0),
    (18.0, "18", 1.0),  # a float with a trailing .0
    ("18.0", "18", 1.0),
    ("18.00", "18", 1.0),
    ("$18", "18", 1.0),  # currency sign
    ("18 dollars", "18", 1.0),  # unit word
    ("18%", "18", 1.0),
    ("  18\n", "18", 1.0),
    (1450000, "1,450,000", 1.0),  # commas in the reference
    ("1,450,000", "1,450,000", 1.0),
    ("$2,125.00", "2,125", 1.0),
    (-3, "-3", 1.0),
    ("−3", "-3", 1.0),  # a Unicode minus
    (3, "-3", 0.0),
    (18.5, "18", 0.0),
    ("18.5", "18", 0.0),
    (17.999999, "18", 0.0),  # strict: no tolerance
    ("eighteen", "18", 0.0),  # no number
    ("9 * 2 = 18", "18", 0.0),  # several numbers: ambiguous
    ("18 or 19", "18", 0.0),
    ("1,45", "145", 0.0),  # not a digit-group comma
    (None, "18", 0.0),
    (True, "1", 0.0),  # a bool is not a number
    (float("nan"), "18", 0.0),
    ([18], "18", 0.0),
])
def test_grader_tricky_cases(answer, reference, score):
    assert gsm8k.grade(answer, reference) == score


def test_every_reference_answer_parses_to_an_integer_that_the_grader_accepts():
    questions = gsm8k.load_questions()
    assert len(questions) == 1319
    for q in questions:
        value = gsm8k.to_number(q.answer)
        assert value is not None and value.is_integer(), q
        assert gsm8k.grade(int(value), q.answer) == 1.0
        assert q.solution.rstrip().endswith(q.answer)


@pytest.mark.parametrize(("line", "message"), [
    ("not json", "invalid JSON"),
    (json.dumps({"question": "q"}), "'answer'"),
    (json.dumps({"question": "q", "answer": "no final line"}), "'#### N'"),
    (json.dumps({"question": "q", "answer": "x\n#### many"}), "not a number"),
])
def test_malformed_line_names_file_and_line(tmp_path, line, message):
    path = tmp_path / "gsm8k.jsonl"
    good = json.dumps({"question": "1+1?", "answer": "1+1=2\n#### 2"})
    path.write_text(f"{good}\n{line}\n")
    with pytest.raises(DataError, match=message) as e:
        gsm8k.load_questions(path)
    assert f"{path}:2" in str(e.value)


def test_reference_answers_pass_through_the_sandbox_on_a_subset():
    trajs = gsm8k.solve(limit=30)
    assert len(trajs) == 30 and all(t.outcome.success for t in trajs)
    assert {t.outcome.termination for t in trajs} == {"completed"}


def test_preset_trials_resume_and_base_vs_round_report(tmp_path):
    def config(name, trials, backend):
        return load_collect_config("gsm8k-test", None, [
            f"run_dir={tmp_path / name}", "tasks.limit=4", f"trials={trials}", f"client.backend={backend}"])

    base = collect(config("base", 2, "scripted-expert"), show_progress=False)
    # Resume with a third trial: only its 4 episodes run (12 records, not 8 + 12).
    collect(config("base", 3, "scripted-expert"), show_progress=False)
    assert len(list(trajectories(base))) == 12
    wrong = collect(config("round1", 3, "scripted-wrong"), show_progress=False)
    summary = write_report([base, wrong], tmp_path / "cmp", names=["base", "round-1"])
    table = to_markdown(summary)
    assert "| base | 100.0±0.0 | 100.0±0.0 |" in table and "| round-1 | 0.0±0.0 | 0.0±0.0 |" in table
    r = summarize([wrong])["runs"][0]
    assert r["wrong"] == 12 and r["failed"] == 0
