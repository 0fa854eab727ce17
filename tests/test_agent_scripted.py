"""Scripted agents: the part of a step a request asks for, in the format the agent parses back."""

from __future__ import annotations

from agent.loop import run_episode
from agent.parsing import parse_code, parse_monologue
from agent.prompt import CODE_TAG, MONOLOGUE_TAG, open_tag
from agent.scripted import ExpertStep, answer, next_step, replay_agent, reply, steps_taken
from core.llm.base import Request
from tasks import sample

STEP = ExpertStep("I look it up.", "print(get_price('apple'))")


def replies(steps: list[ExpertStep]) -> list[str]:
    """Every answer of an episode that takes ``steps`` in order: monologue, code, monologue, code, ..."""
    return [answer(s, tag) for s in steps for tag in (MONOLOGUE_TAG, CODE_TAG)]


def test_the_prefill_decides_the_part_and_a_bare_request_gets_the_code() -> None:
    asked = {prefill: reply(Request(messages=[], prefill=prefill), STEP)
             for prefill in (open_tag(MONOLOGUE_TAG), open_tag(CODE_TAG), "")}
    assert parse_monologue(asked[open_tag(MONOLOGUE_TAG)]).body == STEP.monologue
    assert parse_code(asked[open_tag(CODE_TAG)]).body == STEP.code == parse_code(asked[""]).body


def test_replies_round_trip_through_the_parser() -> None:
    texts = replies(sample.EXPERT)
    assert [parse_monologue(t).body for t in texts[::2]] == [s.monologue for s in sample.EXPERT]
    assert [parse_code(t).body for t in texts[1::2]] == [s.code for s in sample.EXPERT]
    assert not any(parse_monologue(t).problems for t in texts[::2])


def test_the_step_under_way_counts_code_cells_and_the_last_step_repeats() -> None:
    chat = [{"role": "user", "content": "task"}]
    for i, text in enumerate(replies(sample.EXPERT)):
        tag = (MONOLOGUE_TAG, CODE_TAG)[i % 2]
        chat += [{"role": "assistant", "content": open_tag(tag) + text}, {"role": "user", "content": "next"}]
    assert steps_taken(chat[:3]) == 0 and steps_taken(chat[:4]) == 1 and steps_taken(chat) == 2
    assert next_step(sample.EXPERT, chat[:4]) == sample.EXPERT[1] and next_step(sample.EXPERT, chat) == sample.EXPERT[1]


async def test_a_replayed_expert_solves_the_sample_task_in_the_real_loop() -> None:
    traj = await run_episode(sample.episode(), replay_agent(sample.EXPERT))
    assert (traj.outcome.termination, traj.outcome.answer, len(traj.steps)) == ("completed", "3.00", 2)
