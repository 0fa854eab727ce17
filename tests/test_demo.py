"""The demo: the stand-in's taught behaviour, and the quick mode running every stage end to end."""

from __future__ import annotations

import json

import pytest

from agent import prompt as P
from core.llm.base import Request
from core.messages import HintSection, HintSet, to_chat
from core.rundir import SUMMARY
from demo.behaviour import GIVE_UP, action, policy, read_state
from demo.config import load_demo_config

SLIPS = ["volume"]


def _request(question: str, hinted: bool, steps: list[tuple[str, str, str]] = (), feedback: bool = False) -> Request:
    """The agent's monologue request after ``steps`` (monologue, code, observation)."""
    hints = HintSet(name="toolqa/coffee", sections=[HintSection(name="coffee/database", text="Use db.")] if hinted else [])
    messages = P.preamble(f"Answer.\n\nQuestion: {question}", "str", hints, "")
    for k, (mono, code, obs) in enumerate(steps):
        messages += [P.status_message(k, 4), P.monologue_instruction(k, False),
                     P.assistant_message(P.MONOLOGUE_TAG, mono, k), P.code_instruction(k, False),
                     P.assistant_message(P.CODE_TAG, code, k), P.observation_message(obs, k)]
    k = len(steps)
    messages += [P.status_message(k, 4), P.monologue_instruction(k, False)]
    if feedback:
        messages.append(P.hint_message("column-case", "Column names are case-sensitive.", k))
    return Request(messages=to_chat(messages), prefill=P.open_tag(P.MONOLOGUE_TAG))


CLOSE = "What was the closing price of coffee on 2002-07-10?"
VOLUME = "What was the volume of coffee on 2002-07-10?"
READ_OK = "<ipython_output>\n<stdout#1>\n1 ['151.8']\n</stdout#1>\n</ipython_output>"
KEY_ERROR = "<ipython_output>\n<exception#1>\nKeyError: 'volume'\n</exception#1>\n</ipython_output>"


def test_hints_decide_the_answer_step() -> None:
    read = ("I read Close.", "closes = get_value(rows, 'Close').split(', ')", READ_OK)
    hinted = action(read_state(_request(CLOSE, True, [read]).messages), SLIPS)
    naive = action(read_state(_request(CLOSE, False, [read]).messages), SLIPS)
    assert "answer = closes[0]" in hinted.code
    assert "round(float(closes[0]))" in naive.code and "complete_task" in naive.code


def test_slip_give_up_and_correction_of_the_slip() -> None:
    first = action(read_state(_request(VOLUME, True).messages), SLIPS)
    assert "'volume'" in first.code and "2002-07-10" in first.code
    failed = (first.monologue, first.code, KEY_ERROR)
    assert action(read_state(_request(VOLUME, True, [failed]).messages), SLIPS) == GIVE_UP
    fixed = action(read_state(_request(VOLUME, False, feedback=True).messages), SLIPS)
    assert "'Volume'" in fixed.code and "case-sensitive" in fixed.monologue


def test_policy_answers_after_the_prefill() -> None:
    reply = policy(SLIPS)(_request(CLOSE, True))
    assert reply.endswith("</inner_monologue>") and "2002-07-10" in reply


def test_quick_config_is_small() -> None:
    config = load_demo_config(quick=True, overrides=["seed=3"])
    assert config.name == "quick" and config.seed == 3 and config.standin.steps < 10


@pytest.mark.slow
def test_quick_demo_runs_every_stage(quick_demo_run) -> None:
    run_dir = quick_demo_run
    for rnd in range(3):
        for prompt in ("nohints", "hints"):
            assert (run_dir / f"round-{rnd}" / f"collect-test-{prompt}" / SUMMARY).exists()
    for rnd in (1, 2):
        assert (run_dir / f"round-{rnd}" / "dataset" / "train.jsonl").exists()
        train = run_dir / f"round-{rnd}" / "train"
        assert (train / "adapter").exists() or (train / "skipped.json").exists()
    assert (run_dir / "round-1" / "review" / "review.json").exists()
    assert (run_dir / "round-1" / "review" / "corrections.jsonl").exists()
    # the on-policy round 1: the stand-in's own training runs, its dataset, training or its skip, evaluation
    assert (run_dir / "round-0" / "collect-train-nohints" / SUMMARY).exists()
    on_policy = run_dir / "round-1-on-policy"
    counts = json.loads((on_policy / "dataset" / "on_policy.json").read_text())["counts"]
    assert counts.get("kept", 0) + counts.get("retokenised", 0) == counts.get("steps", 0)
    assert (on_policy / "train" / "adapter").exists() or (on_policy / "train" / "skipped.json").exists()
    for prompt in ("nohints", "hints"):
        assert (on_policy / f"collect-test-{prompt}" / SUMMARY).exists()
    rows = json.loads((run_dir / "report.json").read_text())
    assert [r["round"] for r in rows] == [0, 1, "1-on-policy", 2]
    assert rows[2]["variant"] == "on-policy, reverse_kl"
    assert (run_dir / "report.md").exists() and (run_dir / "curve.png").stat().st_size > 0
