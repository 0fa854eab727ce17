"""Exports of examples for other trainers.

* ``openai-teacher`` / ``openai-student``: OpenAI chat fine-tuning JSONL, ``{"messages": [...]}``
  with every hint section (teacher) or none (student); assistant messages carry ``weight`` 1 for
  targets and 0 for context actions, as OpenAI's format allows.
* ``sharegpt``: LLaMA-Factory's ShareGPT format (``conversations`` of ``human``/``gpt`` turns,
  consecutive user messages joined), student view, plus a ``dataset_info.json`` entry. ShareGPT has
  no per-turn weights: LLaMA-Factory trains every ``gpt`` turn, earlier actions included, unless
  ``mask_history`` is set (then only the last turn, the code).
* ``trl``: prompt / privileged-context columns for TRL's self-distillation trainers (SDFT):
  ``prompt`` = the student's conversation before the first target, ``privileged_context`` = the
  hint sections only the teacher sees, ``teacher_prompt`` = the teacher's conversation, and
  ``completion`` = the target messages (monologue, code instruction, code).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from core.examples import Example
from core.messages import (
    KeepPart,
    Message,
    latest_step,
    student_keeps_nothing_hidden,
    teacher_keeps,
    to_chat,
    visible_text,
)
from core.store import read_jsonl, write_atomic

Format = Literal["openai-teacher", "openai-student", "sharegpt", "trl"]
FORMATS: tuple[Format, ...] = ("openai-teacher", "openai-student", "sharegpt", "trl")


def _keep(view: str) -> KeepPart:
    return teacher_keeps if view == "teacher" else student_keeps_nothing_hidden


def openai_messages(ex: Example, view: Literal["teacher", "student"]) -> dict[str, Any]:
    keep, last = _keep(view), latest_step(ex.messages)
    out = []
    for m in ex.messages:
        content = visible_text(m, last, keep)
        if m.role == "assistant":
            out.append({"role": "assistant", "content": content, "weight": int(m.target)})
        elif content:
            out.append({"role": m.role, "content": content})
    return {"messages": out, "id": ex.id}


def sharegpt(ex: Example) -> dict[str, Any]:
    chat = to_chat(ex.messages, student_keeps_nothing_hidden)
    system = "\n\n".join(m["content"] for m in chat if m["role"] == "system")
    turns: list[dict[str, str]] = []
    for m in (m for m in chat if m["role"] != "system"):
        who = "gpt" if m["role"] == "assistant" else "human"
        if turns and turns[-1]["from"] == who:
            turns[-1]["value"] += "\n\n" + m["content"]
        else:
            turns.append({"from": who, "value": m["content"]})
    row: dict[str, Any] = {"conversations": turns, "id": ex.id}
    if system:
        row["system"] = system
    return row


def _first_target(messages: Sequence[Message]) -> int:
    return next(i for i, m in enumerate(messages) if m.target)


def privileged_context(messages: Sequence[Message]) -> str:
    """The text of every part the teacher sees and the student does not, in order."""
    last = latest_step(messages)
    texts = []
    for m in messages:
        hidden = [p for p in m.parts if not student_keeps_nothing_hidden(p)
                  and (m.step is None or m.step == last or not p.ephemeral)]
        texts += [p.text.strip() for p in hidden]
    return "\n\n".join(t for t in texts if t)


def trl_row(ex: Example) -> dict[str, Any]:
    cut = _first_target(ex.messages)
    prompt, completion = ex.messages[:cut], ex.messages[cut:]
    return {
        "id": ex.id,
        "prompt": to_chat(prompt, student_keeps_nothing_hidden),
        "privileged_context": privileged_context(prompt),
        "teacher_prompt": to_chat(prompt, teacher_keeps),
        "completion": to_chat(completion, student_keeps_nothing_hidden),
    }


def export_row(ex: Example, fmt: Format) -> dict[str, Any]:
    if fmt == "openai-teacher":
        return openai_messages(ex, "teacher")
    if fmt == "openai-student":
        return openai_messages(ex, "student")
    if fmt == "sharegpt":
        return sharegpt(ex)
    return trl_row(ex)


def export(examples: Sequence[Example], out_dir: str | Path, name: str,
           formats: Sequence[Format] = FORMATS) -> list[Path]:
    """Write ``<out_dir>/<name>.<format>.jsonl`` for each format; return the paths."""
    out_dir = Path(out_dir)
    paths = []
    for fmt in formats:
        path = out_dir / f"{name}.{fmt}.jsonl"
        write_atomic(path, "".join(json.dumps(export_row(ex, fmt), ensure_ascii=False) + "\n" for ex in examples))
        paths.append(path)
    if "sharegpt" in formats:
        _add_dataset_info(out_dir, name)
    return paths


def _add_dataset_info(out_dir: Path, name: str) -> None:
    """Register ``<name>.sharegpt.jsonl`` in LLaMA-Factory's ``dataset_info.json``."""
    info_path = out_dir / "dataset_info.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    info[f"mnm_{name}"] = {"file_name": f"{name}.sharegpt.jsonl", "formatting": "sharegpt",
                           "columns": {"messages": "conversations", "system": "system"}}
    write_atomic(info_path, json.dumps(info, indent=2))


def load_export(path: str | Path) -> list[dict[str, Any]]:
    """Read an exported file back (each line a JSON object; bad lines raise with file and line)."""
    return [obj for _, obj in read_jsonl(path)]
