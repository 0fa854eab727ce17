"""Prompt building: every message the agent sends, with its hint sections identifiable.

Layout (all user messages, as in the paper; no system message of our own):

* ``task``: ``<task_description>`` with the task text and the expected answer class.
* ``guidelines``: one self-contained ``<guideline name=...>`` hint part per hint section, so that
  dropping every section leaves no trace (the student then sees what a no-hint agent sees).
* ``tool_docs``: the tools' documentation as one hint part (section ``tool_docs``).
* per step: ``status`` (deterministic: step counts only, no clock or tokenizer-dependent numbers),
  ``monologue_instruction``, the assistant's monologue, ``code_instruction``, the assistant's code,
  and the ``observation``. Instruction messages carry a format reminder as an *ephemeral* hint part
  (section ``format_reminder``): shown only while its step is the latest, so older instructions
  read as one line.
"""

from __future__ import annotations

from core.messages import HintSet, Message, Part

MONOLOGUE_TAG = "inner_monologue"
CODE_TAG = "run_ipython"
FORMAT_SECTION = "format_reminder"
TOOL_DOCS_SECTION = "tool_docs"


def open_tag(tag: str) -> str:
    return f"<{tag}>\n"


def close_tag(tag: str) -> str:
    return f"</{tag}>"


def task_message(description: str, answer_type: str) -> Message:
    text = (
        f"<task_description>\n{description.strip()}\n</task_description>\n"
        f"When you are done, call `complete_task(report, answer)` with a short report and the answer "
        f"as an object of class `{answer_type}`."
    )
    return Message.of("user", text, kind="task")


def guidelines_message(hints: HintSet) -> Message | None:
    if not hints:
        return None
    parts = [
        Part(text=f'<guideline name="{s.name}">\n{s.text.strip()}\n</guideline>\n',
             visibility="hint", section=s.name)
        for s in hints.sections
    ]
    return Message(role="user", parts=parts, kind="guidelines")


def tool_docs_message(docs: str) -> Message | None:
    if not docs.strip():
        return None
    text = f"<tools_documentation>\n{docs.strip()}\n</tools_documentation>"
    return Message(role="user", parts=[Part(text=text, visibility="hint", section=TOOL_DOCS_SECTION)],
                   kind="tool_docs")


def status_message(step: int, max_steps: int) -> Message:
    left = max_steps - step - 1
    text = f"<status>\nStep {step + 1} of {max_steps}. Steps left after this one: {left}.\n</status>"
    return Message.of("user", text, kind="status", step=step)


def _instruction(text: str, tag: str, example: str, step: int, kind: str, reminders: bool) -> Message:
    parts = [Part(text=text)]
    if reminders:
        reminder = f"\nRespond in this format:\n<{tag}>\n{example}\n</{tag}>"
        parts.append(Part(text=reminder, visibility="hint", section=FORMAT_SECTION, ephemeral=True))
    return Message(role="user", parts=parts, kind=kind, step=step)


def monologue_instruction(step: int, reminders: bool = True) -> Message:
    return _instruction("Please proceed with your inner monologue.", MONOLOGUE_TAG,
                        "Your reasoning about what to do next.", step, "monologue_instruction", reminders)


def code_instruction(step: int, reminders: bool = True) -> Message:
    return _instruction("Please act by running an iPython cell.", CODE_TAG,
                        "# Python code to run", step, "code_instruction", reminders)


def assistant_message(tag: str, body: str, step: int) -> Message:
    """An action as the model produced it after the prefilled opening tag (closing tag included)."""
    kind = "monologue" if tag == MONOLOGUE_TAG else "code"
    return Message(role="assistant", parts=[Part(text=f"{body}\n{close_tag(tag)}")], kind=kind,
                   step=step, prefill=open_tag(tag))


def observation_message(text: str, step: int) -> Message:
    return Message.of("user", text, kind="observation", step=step)


def hint_message(name: str, text: str, step: int) -> Message:
    """A corrective hint inserted right before a new monologue (droppable for the student)."""
    body = f"<feedback>\n{text.strip()}\n</feedback>"
    return Message(role="user", parts=[Part(text=body, visibility="hint", section=name)], kind="hint",
                   step=step)


def preamble(description: str, answer_type: str, hints: HintSet, tool_docs: str) -> list[Message]:
    msgs = [task_message(description, answer_type), guidelines_message(hints), tool_docs_message(tool_docs)]
    return [m for m in msgs if m is not None]
