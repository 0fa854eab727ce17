"""The vendored task tree as validated subtasks, tasks of the project's task model, and splits.

Split rule (the paper's split is not public): a task folder goes to ``train`` when the first
8 hex digits of ``sha256(folder name)`` modulo 100 are below 60, to ``val`` below 70, else to
``test``. All subtasks of a folder share its split, so no testbed is seen in two splits.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from core.errors import DataError
from tasks.task import Task, TaskSet

DATA_DIR = Path(__file__).parent / "data"
BENCHMARK = "officebench"
MAX_STEPS = 15
SPLITS = (("train", 60), ("val", 70), ("test", 100))


class Check(BaseModel):
    """One evaluation item: ``function`` applied to ``args``; ``file`` is the stray outer key some
    configs carry (kept because the evaluator's errata decide what it means)."""

    function: str
    args: dict[str, Any]
    file: str | None = None


class Subtask(BaseModel):
    folder: str  # e.g. "2-13"
    index: int
    username: str
    date: str
    weekday: str
    time: str
    task: str
    evaluation: list[Check] = Field(min_length=1)

    @property
    def id(self) -> str:
        return f"{BENCHMARK}/{self.folder}/{self.index}"

    @property
    def apps(self) -> str:
        return self.folder.split("-")[0]

    @property
    def asks_question(self) -> bool:
        """True when a check grades ``data/answer.txt`` (the agent must return a string)."""
        return any(c.args.get("file", "").removeprefix("./") == "data/answer.txt" for c in self.evaluation)


def split_of(folder: str) -> str:
    bucket = int(hashlib.sha256(folder.encode()).hexdigest()[:8], 16) % 100
    return next(name for name, bound in SPLITS if bucket < bound)


def _folder_key(folder: str) -> tuple[int, ...]:
    return tuple(int(x) for x in folder.split("-"))


def load_subtask(path: Path) -> Subtask:
    """Parse one ``<folder>/subtasks/<k>.json``; any defect names the file and field."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise DataError(f"cannot read subtask config: {e}", path=str(path)) from None
    if not isinstance(raw, dict):
        raise DataError("subtask config must be a JSON object", path=str(path))
    try:
        return Subtask(folder=path.parent.parent.name, index=int(path.stem), **raw)
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(x) for x in err["loc"])
        raise DataError(err["msg"], path=str(path), field=field) from None
    except ValueError:
        raise DataError("subtask file name must be <integer>.json", path=str(path)) from None


@lru_cache(maxsize=4)
def load_subtasks(data_dir: Path = DATA_DIR) -> tuple[Subtask, ...]:
    """Every subtask of the tree, ordered by folder number then subtask index."""
    paths = sorted(Path(data_dir).glob("*-*/subtasks/*.json"))
    if not paths:
        raise DataError("no subtask configs found", path=str(data_dir))
    subs = [load_subtask(p) for p in paths]
    return tuple(sorted(subs, key=lambda s: (_folder_key(s.folder), s.index)))


def subtask_by_id(task_id: str, data_dir: Path = DATA_DIR) -> Subtask:
    """``officebench/2-13/1`` (or ``2-13/1``) -> its subtask."""
    for s in load_subtasks(data_dir):
        if task_id in (s.id, s.id.removeprefix(f"{BENCHMARK}/")):
            return s
    raise DataError(f"unknown OfficeBench subtask {task_id!r}")


def task_text(sub: Subtask) -> str:
    """The instruction as the agent sees it: the user, the date/weekday/time and the task."""
    return (f"You are working for {sub.username}. Today is {sub.weekday}, {sub.date}, and the time is "
            f"{sub.time}.\nTask: {sub.task}")


def to_task(sub: Subtask) -> Task:
    return Task(
        id=sub.id, benchmark=BENCHMARK, group=sub.apps, template=sub.folder, split=split_of(sub.folder),
        question=task_text(sub), answer_type="str" if sub.asks_question else "NoneType", max_steps=MAX_STEPS,
        meta={"user": sub.username, "date": sub.date, "weekday": sub.weekday, "time": sub.time,
              "task": sub.task, "checks": [c.model_dump(exclude_none=True) for c in sub.evaluation]},
    )


def all_tasks(data_dir: Path = DATA_DIR) -> TaskSet:
    return TaskSet(to_task(s) for s in load_subtasks(data_dir))


def tasks_by_apps(data_dir: Path = DATA_DIR) -> dict[str, TaskSet]:
    """The task sets of 1-, 2- and 3-app tasks."""
    every = all_tasks(data_dir)
    return {n: every.filter(groups=[n]) for n in ("1", "2", "3")}
