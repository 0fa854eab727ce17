"""What the stand-in model is taught to do: a scripted policy over the agent's own requests.

The policy reads what a model reads (the chat messages of a :class:`core.llm.base.Request`) and
acts like a small instruction-tuned model that knows the coffee tools but not their conventions:

* with the task-specific hints in its prompt it writes the expert's steps (the template's
  ``solution``): read the columns, then compute the answer in the stored format;
* without them its answer step is naive: it rounds a stored price, gives one decimal where two
  are asked for, prints a raw float difference (the hints' ``as-stored`` and ``daily-change``
  sections fix these, so round 1 can internalise them);
* on the ``slip`` templates it writes the column name in lower case, with or without hints (no
  hint covers it), and after the ``KeyError`` it gives up with a guess: the ``column-case``
  filter flags the reading step;
* with the corrective ``<feedback>`` message at that step, it writes the column as named (round 2
  can internalise that).

Its pretraining data is this policy's episodes, run by the real agent loop in the real workspace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agent.scripted import ExpertStep, reply
from core.llm.scripted import Policy
from tasks.toolqa.questions import match_template
from tasks.toolqa.template import Template

GROUP = "coffee"
TASK_HINT_MARK = f'<guideline name="{GROUP}/'
FEEDBACK_MARK = "<feedback>"
EXCEPTION_MARK = "<exception#"
GIVE_UP = ExpertStep("The value is not available, so I give my best guess.",
                     "complete_task('No value found.', '0')")

# The naive answer computation (template name -> monologue, code); lookups default to rounding.
NAIVE = {
    "percentage-change": ("I compute (close - open) / open * 100 with one decimal.",
                          "o, c = float(opens[0]), float(closes[0])\nanswer = f'{(c - o) / o * 100:.1f}%'"),
    "day-range": ("I subtract the low from the high.", "answer = str(float(highs[0]) - float(lows[0]))"),
}


@dataclass(frozen=True)
class State:
    """What the policy looks at in a request."""

    template: Template
    slots: dict[str, str]
    hinted: bool  # the task-specific hints are in the prompt
    feedback: bool  # a corrective hint was given in the current step
    observations: list[str]  # outputs of the earlier steps


def read_state(messages: Sequence[dict[str, str]]) -> State:
    question = next(line for line in messages[0]["content"].splitlines() if line.startswith("Question: "))
    template, slots = match_template(GROUP, question.removeprefix("Question: "))
    last_status = max(i for i, m in enumerate(messages) if m["content"].startswith("<status>"))
    earlier, current = messages[:last_status], messages[last_status:]
    return State(
        template=template, slots=slots,
        hinted=any(TASK_HINT_MARK in m["content"] for m in messages if m["role"] == "user"),
        feedback=any(m["content"].startswith(FEEDBACK_MARK) for m in current if m["role"] == "user"),
        observations=[m["content"] for m in earlier if m["content"].startswith("<ipython_output>")],
    )


def slipped(step: ExpertStep, column: str) -> ExpertStep:
    """The read step with ``column`` written in lower case."""
    return ExpertStep(step.monologue.replace(f"read {column}", f"read {column.lower()}"),
                      step.code.replace(repr(column), repr(column.lower())))


def naive_answer(template: Template, expert: ExpertStep) -> ExpertStep:
    column = template.columns[0]
    monologue, code = NAIVE.get(template.name, (
        f"The values are strings; I round the {column} value to a whole number.",
        f"answer = str(round(float({column.lower()}s[0])))"))
    return ExpertStep(monologue, expert.code.replace(template.finish(), code, 1))


def fixed_read(read: ExpertStep, column: str) -> ExpertStep:
    """The read step after the feedback that column names are case-sensitive."""
    return ExpertStep(f"Column names are case-sensitive, so I write {column} exactly. {read.monologue}", read.code)


def action(state: State, slips: Sequence[str]) -> ExpertStep:
    """The step the stand-in is taught to take in ``state``."""
    t = state.template
    read, answer = t.solution(state.slots)
    slip_column = t.columns[-1] if t.name in slips else None
    if not state.observations:
        if slip_column and state.feedback:
            return fixed_read(read, slip_column)
        return slipped(read, slip_column) if slip_column else read
    if EXCEPTION_MARK in state.observations[-1]:
        return GIVE_UP
    return answer if state.hinted else naive_answer(t, answer)


def policy(slips: Sequence[str]) -> Policy:
    """The scripted policy: the monologue or the code of :func:`action`, after the prefilled tag."""
    return lambda request: reply(request, action(read_state(request.messages), slips))
