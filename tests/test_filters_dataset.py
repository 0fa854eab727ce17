"""Datasets: round 1 verbatim from trajectories, rounds ≥ 2 with balancing, split by state, exports."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from agent.scripted import ExpertStep, replay_agent
from core.errors import DataError
from core.examples import read_examples
from core.messages import to_chat
from core.rundir import load_run, trajectories
from core.trajectory import Trajectory
from filters.balance import BalanceConfig, balance
from filters.correct import correct
from filters.dataset import (
    DatasetConfig,
    build_dataset,
    correction_examples,
    round1_examples,
    split_by_state,
)
from filters.examples import trajectory_examples
from filters.export import load_export
from filters.review import review
from filters.spec import LIBRARY
from tasks.collection.config import TaskSelection
from tasks.experts import expert_client
from tasks.sample import SampleBenchmark
from tasks.task import PromptConfig
from tests.fakes.agents import faulty_agent
from tests.test_filters_correct import teacher
from tests.test_filters_support import collect_run


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A hinted teacher run (3 trials of the expert) and a no-hint faulty run."""
    root = tmp_path_factory.mktemp("runs")
    bench, sel = SampleBenchmark(), TaskSelection(benchmark="sample")
    hinted = PromptConfig(name="teacher", hints="task", tool_docs="long")
    return {"teacher": collect_run(root / "teacher", expert_client(bench), bench, sel, trials=3, prompt=hinted),
            "faulty": collect_run(root / "faulty", faulty_agent(), bench, sel)}


def test_round1_examples_are_the_trajectory_verbatim(runs):
    traj = load_run(runs["teacher"])[0]
    examples = round1_examples([runs["teacher"]])
    assert len(examples) == 3 * 2
    ex = next(e for e in examples if e.provenance.trajectory == f"{runs['teacher']}:{traj.key}" and e.provenance.step == 1)
    s = traj.steps[1]
    assert [m.model_dump(exclude={"target"}) for m in ex.messages] == \
        [m.model_dump(exclude={"target"}) for m in traj.messages[: s.code_message + 1]]
    assert [m.kind for m in ex.messages if m.target] == ["monologue", "code"]
    assert {"prices", "format", "tool_docs", "format_reminder"} <= set(ex.hint_sections())
    # the step-0 reminders stay ephemeral: hidden in the step-1 context, as the agent had it
    teacher_text = "".join(m["content"] for m in to_chat(ex.messages))
    assert teacher_text.count("Respond in this format") == 2  # step 1's two instructions only


def test_split_is_by_state_never_by_sample(runs, tmp_path):
    review([runs["faulty"]], [LIBRARY / "toolqa"], tmp_path / "review", show_progress=False)
    correct(tmp_path / "review", teacher(), samples=2, verify=False, show_progress=False)
    examples = correction_examples([tmp_path / "review"])
    assert len(examples) == 4 and len({e.state_id for e in examples}) == 2
    for seed in range(6):
        train, val = split_by_state(examples, 0.5, seed)
        assert {e.state_id for e in train}.isdisjoint({e.state_id for e in val}) and len(val) == 2
    assert split_by_state(examples, 0.5, 1) == split_by_state(examples, 0.5, 1)


def _variant(traj: Trajectory, group: str, template: str, task: str, success: bool = True) -> Trajectory:
    t = traj.model_copy(deep=True, update={"group": group, "template": template, "task_id": task})
    t.outcome.score = float(success)
    return t


def test_balancing_follows_appendix_f(runs):
    base = load_run(runs["teacher"])[0]  # two usable steps per trajectory
    fixed = trajectory_examples(_variant(base, "g1", "g1/t1", "g1/q0"), "r", "correction")[:1]
    cands = [("cand", _variant(base, "g1", "g1/t1", f"g1/q{i}").model_copy(update={"trial": i})) for i in range(3)]
    cands += [("cand", _variant(base, "g1", "g1/t2", f"g1/p{i}")) for i in range(2)]
    cands += [("cand", _variant(base, "g2", "g2/t3", f"g2/q{i}")) for i in range(4)]
    cands += [("cand", _variant(base, "g3", "g3/t4", "g3/q0", success=False))]
    added = balance(fixed, cands, BalanceConfig(min_states_per_template=3, group_floor=0.5, preserve_per_template=1),
                    failures=Counter({"g2/q2": 5}))
    why = Counter((e.template, e.meta["balance"]) for e in added)
    # 1 corrected state in g1/t1 (< 3): one trajectory (2 states) of that template
    # g1 then has 3 states, g2 none: g2 gets one trajectory (ceil(0.5 * 3) = 2 states), its failing task first
    # g1/t2 was not covered: one trajectory to keep the skill; g3 only failed: never added
    assert why == {("g1/t1", "template"): 2, ("g2/t3", "group"): 2, ("g1/t2", "preserve"): 2}
    assert {e.task_id for e in added if e.group == "g2"} == {"g2/q2"}
    assert all(e.provenance.source == "balance" for e in added)


def test_round2_dataset_with_composition_and_exports(runs, tmp_path, capsys):
    review([runs["faulty"]], [LIBRARY / "toolqa"], tmp_path / "review", show_progress=False)
    correct(tmp_path / "review", teacher(), samples=2, verify=True, show_progress=False)
    config = DatasetConfig(round=2, val_fraction=0.34, balance=BalanceConfig(min_states_per_template=4))
    out = build_dataset(tmp_path / "ds", config, corrections=[tmp_path / "review"], candidates=[runs["teacher"]])
    printed = capsys.readouterr().out
    comp = json.loads((out / "composition.json").read_text())
    assert "| group | template |" in printed and (out / "composition.md").read_text() in printed
    row = comp["rows"][0]
    # 2 kept corrections (2 states) < 4: one candidate trajectory (2 steps) of the template fills up to 4
    assert (row["group"], row["correction"], row["balance:template"], row["states"]) == ("sample", 2, 2, 4)
    train, val = read_examples(out / "train.jsonl"), read_examples(out / "val.jsonl")
    assert len(train) + len(val) == 4 == comp["total"]["examples"] and val
    assert {e.provenance.round for e in train + val} == {2}
    for split in ("train", "val"):
        n = len(train if split == "train" else val)
        rows = {fmt: load_export(out / "exports" / f"{split}.{fmt}.jsonl")
                for fmt in ("openai-teacher", "openai-student", "sharegpt", "trl")}
        assert all(len(r) == n for r in rows.values())
    info = json.loads((out / "exports" / "dataset_info.json").read_text())
    assert info["mnm_train"]["formatting"] == "sharegpt"
    assert json.loads((out / "dataset.json").read_text())["counts"]["examples"] == 4


def test_exports_load_back_with_the_right_views(runs, tmp_path):
    out = build_dataset(tmp_path / "ds", DatasetConfig(val_fraction=0.0), runs=[runs["teacher"]], show=False)
    exported = {fmt: load_export(out / "exports" / f"train.{fmt}.jsonl")
                for fmt in ("openai-teacher", "openai-student", "sharegpt", "trl")}
    examples = read_examples(out / "train.jsonl")
    assert len(examples) == 6 and all(len(v) == 6 for v in exported.values())
    teacher_row, student_row = exported["openai-teacher"][0], exported["openai-student"][0]
    teacher_text = "".join(m["content"] for m in teacher_row["messages"])
    student_text = "".join(m["content"] for m in student_row["messages"])
    assert '<guideline name="prices">' in teacher_text and "<guideline" not in student_text
    assert "tools_documentation" not in student_text
    weighted = [m for m in teacher_row["messages"] if m["role"] == "assistant" and m["weight"] == 1]
    assert [m["content"].split("\n")[0] for m in weighted] == ["<inner_monologue>", "<run_ipython>"]
    assert [m for m in teacher_row["messages"] if m["role"] == "assistant"][-1] == weighted[-1]
    conv = exported["sharegpt"][0]["conversations"]
    assert [t["from"] for t in conv][:2] == ["human", "gpt"] and conv[-1]["from"] == "gpt"
    assert all(a["from"] != b["from"] for a, b in zip(conv, conv[1:], strict=False))
    trl = exported["trl"][0]
    assert trl["prompt"][-1]["role"] == "user" and [m["role"] for m in trl["completion"]] == \
        ["assistant", "user", "assistant"]
    assert "get_price(item)" in trl["privileged_context"] and "get_price(item)" not in json.dumps(trl["prompt"])
    assert len(trl["teacher_prompt"]) > len(trl["prompt"])


def test_bad_dataset_lines_name_file_and_line(runs, tmp_path):
    good = round1_examples([runs["teacher"]])[0]
    path = tmp_path / "examples.jsonl"
    path.write_text(good.model_dump_json() + "\n{not json\n")
    with pytest.raises(DataError, match=r"examples\.jsonl:2: invalid JSON"):
        read_examples(path)
    no_target = good.model_dump(mode="json")
    no_target["messages"][-1]["target"] = False
    path.write_text(good.model_dump_json() + "\n" + json.dumps(no_target) + "\n")
    with pytest.raises(DataError, match=r"examples\.jsonl:2: .*last message must be a target"):
        read_examples(path)
    missing = good.model_dump(mode="json")
    del missing["messages"]
    path.write_text(json.dumps(missing) + "\n")
    with pytest.raises(DataError, match=r"examples\.jsonl:1: .*\(field 'messages'\)"):
        read_examples(path)


def _leaked_run(runs, tmp_path, split: str):
    leaked = tmp_path / f"{split}-run"
    store = trajectories(leaked)
    for t in load_run(runs["teacher"]):
        store.append(t.model_copy(update={"split": split}))
    return leaked


@pytest.mark.parametrize("split", ["test", "test-unseen-questions"])  # the held-out-template test split too
def test_examples_from_evaluation_splits_are_refused(runs, tmp_path, split):
    leaked = _leaked_run(runs, tmp_path, split)
    with pytest.raises(DataError, match=rf"6 examples come from tasks of the '{split}' split.*evaluation-only"):
        build_dataset(tmp_path / "ds", runs=[leaked], show=False)
    assert not (tmp_path / "ds").exists()  # nothing half-written
    build_dataset(tmp_path / "ds", DatasetConfig(allow_evaluation_splits=True), runs=[leaked], show=False)
    assert len(read_examples(tmp_path / "ds" / "examples.jsonl")) == 6


def test_every_benchmark_split_has_a_role():
    from tasks.officebench.subtasks import SPLITS as OFFICE_SPLITS
    from tasks.registry import benchmark_class, evaluation_splits
    from tasks.toolqa.questions import SPLITS as TOOLQA_SPLITS

    assert set(benchmark_class("toolqa").split_roles) == set(TOOLQA_SPLITS)
    assert set(benchmark_class("officebench").split_roles) == {name for name, _ in OFFICE_SPLITS}
    assert {"test", "test-unseen-questions"} <= evaluation_splits()
    assert not {"train", "val", "train-seen-questions", "val-seen-questions"} & evaluation_splits()


def test_identical_samples_of_a_state_count_once(runs, tmp_path):
    review([runs["faulty"]], [LIBRARY / "toolqa"], tmp_path / "review", show_progress=False)
    same = replay_agent([ExpertStep("I print it.", "print(1)")])
    correct(tmp_path / "review", same, samples=3, verify=False, show_progress=False)
    examples = correction_examples([tmp_path / "review"])
    assert len(examples) == 2 and {e.provenance.sample for e in examples} == {0}
