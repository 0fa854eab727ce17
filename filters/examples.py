"""Turn trajectory states into training examples (state, action, hints) without regenerating text.

The context of an example is :meth:`core.trajectory.Trajectory.state` verbatim: the guidelines,
tool docs and format reminders stay the hint parts the agent actually had (ephemeral reminders
included), so the teacher's training context is the context the action was produced in (the
reference regenerated instruction messages at training time, pitfall 9).
"""

from __future__ import annotations

from collections.abc import Sequence

from agent import prompt as P
from core.examples import Example, Provenance
from core.messages import Message
from core.trajectory import Trajectory


def trajectory_id(run: str, traj: Trajectory) -> str:
    """Names a trajectory across runs (a trajectory key is unique within its run only), so that
    :attr:`core.examples.Example.state_id` never merges states of different runs."""
    return f"{run}:{traj.key}"


def _as_target(message: Message) -> Message:
    return message.model_copy(update={"target": True}, deep=True)


def usable_step(traj: Trajectory, step: int) -> bool:
    """Steps whose action was parsed and run (format errors and cut-off steps teach nothing)."""
    s = traj.steps[step]
    return s.status != "format_error" and s.monologue_message is not None and s.code_message is not None


def step_example(traj: Trajectory, step: int, run: str, source: str = "teacher",
                 meta: dict | None = None) -> Example:
    """Step ``step`` of ``traj`` as recorded: its state, then monologue, code instruction and code."""
    s = traj.steps[step]
    assert s.monologue_message is not None and s.code_message is not None, "usable_step() first"
    action = [m.model_copy(deep=True) for m in traj.messages[s.monologue_message : s.code_message + 1]]
    action = [_as_target(m) if m.role == "assistant" else m for m in action]
    return Example(
        id=f"{source}:{trajectory_id(run, traj)}@{step}", messages=traj.state(step) + action, group=traj.group,
        template=traj.template, task_id=traj.task_id, success=traj.outcome.success,
        provenance=Provenance(run=run, trajectory=trajectory_id(run, traj), step=step, source=source),
        meta={"split": traj.split, **(meta or {})})


def trajectory_examples(traj: Trajectory, run: str, source: str = "teacher",
                        meta: dict | None = None) -> list[Example]:
    """One example per usable step of ``traj``."""
    return [step_example(traj, k, run, source, meta) for k in range(len(traj.steps)) if usable_step(traj, k)]


def uses_reminders(traj: Trajectory, step: int) -> bool:
    """Whether the step's instructions carried format reminders (new instructions must match)."""
    state = traj.state(step)
    return any(p.section == P.FORMAT_SECTION for p in state[-1].parts)


def hinted_state(traj: Trajectory, step: int, hints: Sequence[tuple[str, str]]) -> list[Message]:
    """The state of ``step`` followed by one droppable feedback message per ``(name, text)`` hint."""
    return traj.state(step) + [P.hint_message(name, text, step) for name, text in hints]


def correction_prefix(traj: Trajectory, step: int, hints: Sequence[tuple[str, str]],
                      monologue: str) -> list[Message]:
    """What the teacher sees when it writes the corrected code: hinted state, new monologue, code instruction."""
    return hinted_state(traj, step, hints) + [
        _as_target(P.assistant_message(P.MONOLOGUE_TAG, monologue, step)),
        P.code_instruction(step, uses_reminders(traj, step))]


def corrected_example(traj: Trajectory, step: int, run: str, hints: Sequence[tuple[str, str]],
                      monologue: str, code: str, sample: int) -> Example:
    """A corrected action at a flagged state: state, hints, new monologue, code instruction, new code."""
    messages = correction_prefix(traj, step, hints, monologue) + [
        _as_target(P.assistant_message(P.CODE_TAG, code, step))]
    names = "+".join(name for name, _ in hints)
    return Example(
        id=f"correction:{trajectory_id(run, traj)}@{step}#{sample}", messages=messages,
        group=traj.group, template=traj.template, task_id=traj.task_id,
        provenance=Provenance(run=run, trajectory=trajectory_id(run, traj), step=step, filter=names,
                              hint="\n\n".join(text for _, text in hints), sample=sample, source="correction"),
        meta={"split": traj.split})
