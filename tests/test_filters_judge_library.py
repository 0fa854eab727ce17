"""The judge library: every judge's worked examples, replayed as trajectories (one with the mistake,
one without), go through a real review in the paper's setting, where judges never see outputs.

The judge here is an oracle keyed on the judged step's code as the prompt shows it, so these tests
check the judge files (labelled examples with step code, groups they apply to) and the review's
wiring (the last step, no outputs, the judge's hint on the verdict); a judge model's accuracy
needs a model and is not measured here."""

from __future__ import annotations

import re

import pytest

from core.llm.scripted import ScriptedClient
from core.messages import Message
from core.rundir import trajectories
from core.trajectory import Step, Trajectory
from filters.review import load_verdicts, review
from filters.spec import LIBRARY, FilterSpec, WorkedExample, load_filters

JUDGES = [s for lib in ("toolqa", "officebench") for s in load_filters([LIBRARY / lib]) if s.kind == "judge"]
STEP = re.compile(r"^Step \d+ code: ", re.MULTILINE)
TASK = re.compile(r"^(?:Question|Task): (.*)$", re.MULTILINE)
OUTPUT = "OUTPUT-OF-THE-CELL"


def step_codes(example: WorkedExample) -> list[str]:
    return [c.strip() for c in STEP.split(example.situation)[1:]]


def trajectory(spec: FilterSpec, example: WorkedExample, key: str) -> Trajectory:
    task = TASK.search(example.situation)
    steps = [Step(index=i, first_message=0, monologue="I go on.", code=code, observation=f"<ipython_output>{OUTPUT}")
             for i, code in enumerate(step_codes(example))]
    group = spec.applies_to.groups[0] if spec.applies_to.groups else "1"
    return Trajectory(task_id=f"{spec.name}/{key}", group=group, steps=steps,
                      messages=[Message.of("user", task.group(1) if task else "Do the task.", kind="task")])


def oracle(mistaken: set[str]) -> ScriptedClient:
    """True iff the judged (last) step's code is one of ``mistaken``; no verdict if outputs are shown."""
    def policy(request) -> str:
        shown = request.messages[-1]["content"].rsplit("<trajectory>", 1)[1]
        if OUTPUT in shown:
            return "I saw the outputs."
        code = shown.rsplit("<run_ipython>\n", 1)[1].split("\n</run_ipython>", 1)[0]
        return f"<reasoning>.</reasoning><answer>{code in mistaken}</answer>"

    return ScriptedClient(policy, model="oracle")


def test_the_library_has_judges_for_the_reference_mistake_families():
    names = {s.name for s in JUDGES}
    assert {"dblp-graph-loading", "dblp-graph-type", "agenda-retrieval-breadth", "agenda-date-in-words",
            "table-filter-keys", "table-column-names"} <= names
    assert {"data-path", "sheet-cells", "document-edits", "calendar-fields", "email-fields", "answer-file"} <= names


@pytest.mark.parametrize("spec", JUDGES, ids=lambda s: s.name)
def test_judge_flags_its_mistake_and_not_the_clean_step(spec, tmp_path):
    examples = spec.judge.examples
    assert {e.mistake for e in examples} == {True, False}, "a worked example with and one without the mistake"
    assert all(step_codes(e) for e in examples), "each example shows the judged step's code"
    run = tmp_path / "run"
    store = trajectories(run)
    for i, e in enumerate(examples):
        store.append(trajectory(spec, e, f"{'mistake' if e.mistake else 'clean'}{i}"))
    mistaken = {step_codes(e)[-1] for e in examples if e.mistake}
    review([run], [spec], tmp_path / "review", judge_client=oracle(mistaken), show_progress=False, show_outputs=False)
    verdicts = load_verdicts(tmp_path / "review", flagged_only=False)
    assert verdicts and not [v.error for v in verdicts if v.error]
    flagged = {(v.task_id, v.step) for v in verdicts if v.flagged}
    expected = {(f"{spec.name}/mistake{i}", len(step_codes(e)) - 1) for i, e in enumerate(examples) if e.mistake}
    assert flagged == expected
    assert all(v.hint == spec.hint for v in verdicts if v.flagged)


@pytest.mark.parametrize("spec", JUDGES, ids=lambda s: s.name)
def test_new_judges_default_to_the_papers_setting_and_scope_their_benchmark(spec):
    if spec.source.startswith(str(LIBRARY / "officebench")):
        assert not spec.judge.show_outputs
    elif spec.name not in ("dblp-duplicates", "agenda-wrong-document"):  # older judges read outputs
        assert not spec.judge.show_outputs and spec.applies_to.groups
