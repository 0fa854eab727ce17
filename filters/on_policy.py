"""On-policy hint distillation: the student's own episodes, with the teacher's hints re-inserted.

The paper distils the teacher's trajectories (off-policy: states the teacher reached, actions the
teacher wrote). Here the student runs the training tasks without hints (option IIIa); each usable
step becomes an example whose context is the student's state with the teacher's preamble (the hint
sections and tool docs of ``teacher``, a :class:`tasks.task.PromptConfig`) put back in front, and
whose targets are the student's own monologue and code. Training then moves the student, on its own
tokens, toward the distribution of the teacher that reads the hints (``loss.kind`` names the
divergence: ``reverse_kl`` weighs the tokens by the student, ``forward_kl`` by the teacher).

Views: every part of the student's conversation becomes visible to both sides (the student saw all
of it when it sampled), and only the re-inserted sections are droppable hints; so with
``hint_dropout: 1.0`` the student's training view is token for token what it sampled from.

Targets: an example is kept only if each target's training tokens are exactly the token ids the
student sampled (recorded by backends that report them, :attr:`core.trajectory.Step.token_ids`;
hf-local does) followed by the end-of-turn token. Steps whose text re-tokenises differently, or that
the agent normalised (stripped whitespace, an added closing tag), are dropped and counted.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent import prompt as P
from core.config import load_config
from core.errors import DataError
from core.examples import Example
from core.messages import Message, student_keeps_nothing_hidden, to_chat
from core.rundir import CONFIG, TRAJECTORIES, load_run
from core.store import write_atomic
from core.trajectory import Trajectory
from filters.dataset import DatasetConfig, build_dataset
from filters.examples import step_example, usable_step
from tasks.collection.config import CollectConfig
from tasks.registry import make_benchmark
from tasks.task import Benchmark, PromptConfig, Task
from training.sequences import encode

SOURCE = "on-policy"
RECORD = "on_policy.json"


def preamble_length(traj: Trajectory) -> int:
    """How many leading messages belong to no step (task, guidelines, tool docs)."""
    return next((i for i, m in enumerate(traj.messages) if m.step is not None), len(traj.messages))


def teacher_view(traj: Trajectory, teacher_preamble: list[Message]) -> Trajectory:
    """``traj`` with its preamble replaced by the teacher's; every other part visible to both sides.

    Raises :class:`DataError` when the teacher's preamble, hints removed, is not the student's.
    """
    n = preamble_length(traj)
    if to_chat(teacher_preamble, student_keeps_nothing_hidden) != to_chat(traj.messages[:n]):
        raise DataError(f"trajectory {traj.key}: the teacher's prompt without its hints is not the student's "
                        "(different task text, or the student's prompt carried hints of its own)")
    shared = [m.model_copy(update={"parts": [p.model_copy(update={"visibility": "both", "section": None})
                                             for p in m.parts]}, deep=True) for m in traj.messages[n:]]
    shift = len(teacher_preamble) - n
    steps = [s.model_copy(update={
        "first_message": s.first_message + shift,
        "monologue_message": None if s.monologue_message is None else s.monologue_message + shift,
        "code_message": None if s.code_message is None else s.code_message + shift}) for s in traj.steps]
    return traj.model_copy(update={"messages": [m.model_copy(deep=True) for m in teacher_preamble] + shared,
                                   "steps": steps})


def sampled_targets(example: Example, sampled: dict[str, list[int]], tokenizer: Any) -> bool:
    """Whether the example's target tokens are the ``sampled`` ids (:attr:`core.trajectory.Step.token_ids`), each + end of turn."""
    if set(sampled) != {"monologue", "code"}:
        return False
    encoded = encode(example, tokenizer)
    runs: list[list[int]] = []  # the target tokens of each target message (contiguous in the sequence)
    for k, (token, is_target) in enumerate(zip(encoded.input_ids, encoded.target_mask, strict=True)):
        if is_target:
            if k == 0 or not encoded.target_mask[k - 1]:
                runs.append([])
            runs[-1].append(token)
    return [r[:-1] for r in runs] == [sampled["monologue"], sampled["code"]]


class _Run:
    """A student run, its benchmark's tasks and the teacher's preamble of each task."""

    def __init__(self, run_dir: Path, teacher: PromptConfig, benchmark: Benchmark | None) -> None:
        config = load_config(CollectConfig, run_dir / CONFIG)
        self.benchmark = benchmark or make_benchmark(config.tasks.benchmark, config.tasks.data, config.tasks.groups)
        self.tasks: dict[str, Task] = {t.id: t for t in self.benchmark.tasks()}
        self.run_dir, self.teacher = run_dir, teacher

    def teacher_preamble(self, traj: Trajectory) -> list[Message]:
        if traj.task_id not in self.tasks:
            raise DataError(f"task {traj.task_id!r} is not in benchmark {self.benchmark.name!r}",
                            path=str(self.run_dir / TRAJECTORIES))
        spec = self.benchmark.episode(self.tasks[traj.task_id], self.teacher, traj.trial)
        return P.preamble(spec.description, spec.answer_type, spec.hints, spec.tool_docs)


def on_policy_examples(runs: Sequence[str | Path], teacher: PromptConfig, tokenizer: Any,
                       benchmark: Benchmark | None = None) -> tuple[list[Example], Counter[str]]:
    """One example per usable step of the student runs whose targets are its sampled tokens.

    Returns the examples and counts: ``steps`` (usable), ``kept``, ``no_token_ids`` (the backend
    recorded none), ``retokenised`` (the training tokens differ from, or lack, the sampled ones).
    """
    examples: list[Example] = []
    counts: Counter[str] = Counter()
    for run_dir in map(Path, runs):
        run = _Run(run_dir, teacher, benchmark)
        for traj in load_run(run_dir):
            view = teacher_view(traj, run.teacher_preamble(traj))
            for k in range(len(traj.steps)):
                if not usable_step(view, k):
                    continue
                counts["steps"] += 1
                example = step_example(view, k, str(run_dir), source=SOURCE)
                if not traj.steps[k].token_ids:
                    counts["no_token_ids"] += 1
                elif not sampled_targets(example, traj.steps[k].token_ids, tokenizer):
                    counts["retokenised"] += 1
                else:
                    counts["kept"] += 1
                    examples.append(example)
    if counts["steps"] and counts["no_token_ids"] == counts["steps"]:
        raise DataError(f"no step of {', '.join(map(str, runs))} records its sampled token ids; collect the "
                        "student's runs with a backend that reports them (hf-local)")
    return examples, counts


def build_on_policy_dataset(out: str | Path, runs: Sequence[str | Path], teacher: PromptConfig, tokenizer: Any,
                            config: DatasetConfig | None = None, benchmark: Benchmark | None = None,
                            show: bool = True) -> Path:
    """An on-policy dataset (see :func:`filters.dataset.build_dataset` for the layout) plus ``on_policy.json``."""
    config = config or DatasetConfig()
    examples, counts = on_policy_examples(runs, teacher, tokenizer, benchmark)
    out = Path(out)
    build_dataset(out, config, examples=examples, show=show)
    record = {"runs": list(map(str, runs)), "teacher": teacher.model_dump(mode="json"),
              "tokenizer": getattr(tokenizer, "name_or_path", ""), "counts": dict(counts)}
    write_atomic(out / RECORD, json.dumps(record, indent=2))
    if show:
        print(f"on-policy steps {counts['steps']}: kept {counts['kept']}, no token ids {counts['no_token_ids']}, "
              f"re-tokenised differently {counts['retokenised']}")
    return out
