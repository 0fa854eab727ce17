"""Corrections: the teacher, given a corrective hint at a flagged state, samples better actions.

For every flagged state (all filters that flagged it contribute one droppable feedback message,
inserted right before the new monologue) the teacher samples ``samples`` monologues, and one code
cell after each. Optionally each action is **verified**: the episode's earlier cells are replayed
in a fresh workspace and the new cell is run; an action whose cell raises (or times out, crashes,
or cannot be parsed) is kept on record but marked dropped, with the reason. With
``continue_to_end`` the episode then goes on with the same hinted teacher until it ends, and only
corrections whose episode is graded correct are kept. Benchmarks that grade the episode's files
(OfficeBench) verify each attempt in a directory of its own and are graded on it.

Output: ``<review_dir>/corrections.jsonl``, one :class:`Correction` per sampled action, carrying
its training :class:`core.examples.Example`, and ``corrections.json``: the settings and how many
samples were kept and dropped, and why. A killed run resumes state by state. The paper's protocol
(``mnm correct --paper``) samples as the reference did and verifies nothing.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from tqdm import tqdm

from agent import prompt as P
from agent.episode import EpisodeSpec
from agent.loop import continue_episode, format_observation
from agent.parsing import parse_code, parse_monologue
from agent.workspace import CellResult, WorkspaceConfig, close_servers, open_workspace
from core.asyncio_compat import run_sync
from core.config import load_config
from core.errors import DataError
from core.examples import Example
from core.llm.base import LLMClient, Request
from core.llm.factory import ClientConfig, make_client
from core.messages import to_chat
from core.rundir import CONFIG, TRAJECTORIES, load_run
from core.store import JsonlStore, write_atomic
from core.trajectory import Trajectory
from filters.examples import corrected_example, correction_prefix, hinted_state
from filters.review import Verdict, flagged_states, load_verdicts
from tasks.collection.config import CollectConfig
from tasks.registry import make_benchmark
from tasks.task import Benchmark, Task

CORRECTIONS = "corrections.jsonl"
SUMMARY = "corrections.json"
Verification = Literal["unverified", "ok", "completed", "exception", "timeout", "crashed", "format_error"]


class Correction(BaseModel):
    """One sampled action at a flagged state, how its verification went, and its training example."""

    key: str  # state key + "#" + sample
    state: str  # run|trajectory|step
    run: str
    trajectory: str
    step: int
    filters: list[str]
    sample: int
    teacher: str
    monologue: str
    code: str
    problems: list[str]
    verification: Verification = "unverified"
    observation: str = ""
    final_score: float | None = None  # the grade, when the cell or the continued episode completed
    kept: bool
    reason: str = ""
    example: Example


def replay_cells(traj: Trajectory, step: int) -> list[str]:
    """Cells that ran before ``step``, to rebuild its workspace state.

    Cells that ended with an exception are replayed (their statements before the error had
    effects); a timeout or crash replaced the worker, so nothing before it survives; format errors
    never ran.
    """
    cells: list[str] = []
    for s in traj.steps[:step]:
        if s.status in ("timeout", "crashed"):
            cells = []
        elif s.status in ("ok", "exception"):
            cells.append(s.code)
    return cells


async def run_in_fresh_workspace(spec: EpisodeSpec, replay: Sequence[str], code: str,
                                 config: WorkspaceConfig | None = None, workdir: Path | None = None) -> CellResult:
    """Replay ``replay`` silently in a new workspace for ``spec`` (in ``workdir`` when given, where
    its files stay for grading), then run ``code`` and return its result."""
    async with await open_workspace(tools=spec.tools, episode_kwargs=spec.episode_kwargs,
                                    answer_type=spec.answer_type, config=config, workdir=workdir) as ws:
        if spec.init_code:
            await ws.run(spec.init_code)
        for cell in replay:
            await ws.run(cell)
        return await ws.run(code)


class _RunContext:
    """What corrections need from the run a trajectory came from: benchmark, tasks, config."""

    def __init__(self, run_dir: str, benchmark: Benchmark | None) -> None:
        self.run_dir = run_dir
        self.config = load_config(CollectConfig, Path(run_dir) / CONFIG)
        self.benchmark = benchmark or make_benchmark(self.config.tasks.benchmark, self.config.tasks.data)
        self.tasks: dict[str, Task] = {t.id: t for t in self.benchmark.tasks()}
        self.trajectories = {t.key: t for t in load_run(run_dir)}

    def task(self, traj: Trajectory) -> Task:
        if traj.task_id not in self.tasks:
            raise DataError(f"task {traj.task_id!r} is not in benchmark {self.benchmark.name!r}",
                            path=str(Path(self.run_dir) / TRAJECTORIES))
        return self.tasks[traj.task_id]

    def spec(self, traj: Trajectory) -> EpisodeSpec:
        return self.benchmark.episode(self.task(traj), self.config.prompt, traj.trial)


class Corrector:
    def __init__(self, teacher: LLMClient, samples: int, temperature: float | None, max_tokens: int,
                 verify: bool, continue_to_end: bool, benchmark: Benchmark | None, min_p: float | None = None) -> None:
        self.teacher, self.samples, self.temperature, self.max_tokens = teacher, samples, temperature, max_tokens
        self.min_p = min_p
        self.verify, self.continue_to_end = verify or continue_to_end, continue_to_end
        self.benchmark = benchmark
        self.runs: dict[str, _RunContext] = {}

    def run(self, run_dir: str) -> _RunContext:
        if run_dir not in self.runs:
            self.runs[run_dir] = _RunContext(run_dir, self.benchmark)
        return self.runs[run_dir]

    async def _ask(self, messages: list, tag: str, n: int) -> list[str]:
        request = Request(messages=to_chat(messages), prefill=P.open_tag(tag), stop=[P.close_tag(tag)], n=n,
                          temperature=self.temperature, min_p=self.min_p, max_tokens=self.max_tokens)
        completion = await self.teacher.complete(request)
        return completion.texts

    async def correct_state(self, run_dir: str, key: str, step: int, verdicts: list[Verdict]) -> list[Correction]:
        """Every sample of one flagged state (the hints of all filters that flagged it, sorted by name)."""
        ctx = self.run(run_dir)
        traj = ctx.trajectories[key]
        hints = [(v.filter, v.hint) for v in sorted(verdicts, key=lambda v: v.filter)]
        monologues = await self._ask(hinted_state(traj, step, hints), P.MONOLOGUE_TAG, self.samples)
        return list(await asyncio.gather(*(self._sample(ctx, traj, step, hints, i, text)
                                           for i, text in enumerate(monologues))))

    async def _sample(self, ctx: _RunContext, traj: Trajectory, step: int, hints: list[tuple[str, str]],
                      i: int, monologue: str) -> Correction:
        mono = parse_monologue(monologue)
        (code_text,) = await self._ask(correction_prefix(traj, step, hints, mono.body), P.CODE_TAG, 1)
        code = parse_code(code_text)
        run_dir, state = ctx.run_dir, f"{ctx.run_dir}|{traj.key}|{step}"
        c = Correction(
            key=f"{state}#{i}", state=state, run=run_dir, trajectory=traj.key, step=step,
            filters=[n for n, _ in hints], sample=i, teacher=self.teacher.model, monologue=mono.body,
            code=code.body, problems=mono.problems + code.problems, kept=True,
            example=corrected_example(traj, step, run_dir, hints, mono.body, code.body, i))
        if code.error is not None:
            c.verification, c.kept, c.reason = "format_error", False, code.error
        elif self.verify:
            await self._verify(ctx, traj, c)
        return c

    async def _verify(self, ctx: _RunContext, traj: Trajectory, c: Correction) -> None:
        if not ctx.benchmark.keeps_episode_dir:
            return await self._verify_in(ctx, traj, c, None)
        with tempfile.TemporaryDirectory(prefix="mnm-verify-") as tmp:
            await self._verify_in(ctx, traj, c, Path(tmp))

    async def _verify_in(self, ctx: _RunContext, traj: Trajectory, c: Correction, episodes: Path | None) -> None:
        """Verify ``c``; a benchmark that grades files gets a directory per attempt under ``episodes``."""
        spec = ctx.spec(traj)
        replay = replay_cells(traj, c.step)
        graded = episodes / "cell" if episodes else None
        if graded:
            graded.mkdir()
        result = await run_in_fresh_workspace(spec, replay, c.code, ctx.config.agent.workspace, graded)
        c.observation = format_observation(result, c.step + 1)
        c.verification = "completed" if result.completion is not None else result.status
        if c.verification not in ("ok", "completed"):
            c.kept, c.reason = False, f"the corrected cell ended with status {result.status}"
            return
        task = ctx.task(traj)
        if result.completion is not None:  # graded at once; the answer decides only with continue_to_end
            answer = result.completion.get("answer")
        elif self.continue_to_end:
            history = c.example.messages + [P.observation_message(c.observation, c.step)]
            history = [m.model_copy(update={"target": False}) for m in history]
            agent = ctx.config.agent.model_copy(update={"temperature": self.temperature, "min_p": self.min_p})
            if episodes:
                graded = episodes / "continued"
                graded.mkdir()
                spec.workdir = str(graded)
            rest = await continue_episode(spec, self.teacher, history, replay + [c.code], c.step + 1, agent)
            if rest.outcome.termination != "completed":
                c.final_score, c.kept = 0.0, False
                c.reason = f"the continued episode ended with {rest.outcome.termination}"
                return
            answer = rest.outcome.answer
        else:
            return
        c.final_score = ctx.benchmark.grade(task, answer, str(graded) if graded else None)
        c.example.success = c.final_score >= 1.0
        if self.continue_to_end and not c.example.success:
            c.kept, c.reason = False, f"the episode answered {answer!r}, graded {c.final_score}"


async def correct_async(review_dir: str | Path, teacher: ClientConfig | LLMClient, samples: int = 2,
                        verify: bool = True, continue_to_end: bool = False, temperature: float | None = 1.0,
                        max_tokens: int = 1000, concurrency: int = 8, benchmark: Benchmark | None = None,
                        show_progress: bool = True, min_p: float | None = 0.1) -> Path:
    review_dir = Path(review_dir)
    client = make_client(teacher) if isinstance(teacher, ClientConfig) else teacher
    corrector = Corrector(client, samples, temperature, max_tokens, verify, continue_to_end, benchmark, min_p)
    store = JsonlStore(review_dir / CORRECTIONS, Correction)
    done = {(c.state, tuple(c.filters)) for c in store.read()}  # a state flagged by other filters is redone
    states = {k: v for k, v in flagged_states(load_verdicts(review_dir)).items()
              if ("|".join(map(str, k)), tuple(sorted(x.filter for x in v))) not in done}
    sem = asyncio.Semaphore(concurrency)
    bar = tqdm(total=len(states), desc="correct", disable=not show_progress)

    async def one(run_dir: str, key: str, step: int, verdicts: list[Verdict]) -> None:
        async with sem:
            for c in await corrector.correct_state(run_dir, key, step, verdicts):
                store.append(c)
        bar.update()

    try:
        await asyncio.gather(*(one(*k, v) for k, v in states.items()))
    finally:
        bar.close()
        await close_servers()
        if isinstance(teacher, ClientConfig):
            await client.aclose()
    store.path.touch()  # an empty file when nothing was flagged: "no corrections" is a result too
    settings = {"teacher": client.model, "samples": samples, "verify": corrector.verify,
                "continue_to_end": continue_to_end, "temperature": temperature, "min_p": min_p,
                "max_tokens": max_tokens}
    write_atomic(review_dir / SUMMARY, json.dumps({"settings": settings, **correction_counts(store.path)}, indent=2))
    return review_dir / CORRECTIONS


def correct(review_dir: str | Path, teacher: ClientConfig | LLMClient, samples: int = 2, verify: bool = True,
            continue_to_end: bool = False, temperature: float | None = 1.0, max_tokens: int = 1000,
            concurrency: int = 8, benchmark: Benchmark | None = None, show_progress: bool = True,
            min_p: float | None = 0.1) -> Path:
    """Sample ``samples`` corrected actions per flagged state of a review; return the corrections file.
    The summary (settings, and how many samples were kept or dropped and why) is ``corrections.json``."""
    return run_sync(correct_async(review_dir, teacher, samples, verify, continue_to_end, temperature,
                                  max_tokens, concurrency, benchmark, show_progress, min_p))


def correction_counts(path: str | Path) -> dict[str, Any]:
    """States and samples of the latest corrections, how many were kept, and why the others were
    dropped: ``format_error`` (never ran), ``verification`` (the replayed cell did not run cleanly)
    and ``wrong_end`` (``continue_to_end``: the continued episode did not end correct)."""
    every = load_corrections(path, kept_only=False)
    dropped: Counter[str] = Counter()
    for c in every:
        if not c.kept:
            dropped["format_error" if c.verification == "format_error" else
                    "verification" if c.verification not in ("ok", "completed") else "wrong_end"] += 1
    return {"states": len({c.state for c in every}), "samples": len(every), "kept": sum(c.kept for c in every),
            "dropped": {k: dropped[k] for k in ("format_error", "verification", "wrong_end")}}


def summary_line(review_dir: str | Path) -> str:
    """One line from ``corrections.json``: kept samples and what verification dropped."""
    s = json.loads((Path(review_dir) / SUMMARY).read_text())
    d = s["dropped"]
    return (f"{s['samples']} samples at {s['states']} states: {s['kept']} kept; verification dropped "
            f"{d['verification']}" + ("" if s["settings"]["verify"] else " (verification off)")
            + f", format errors {d['format_error']}, wrong ends {d['wrong_end']}")


def load_corrections(path: str | Path, kept_only: bool = True) -> list[Correction]:
    """Corrections of a file (or review directory); a state corrected again after a new review
    counts with its latest filter set only."""
    path = Path(path)
    if path.is_dir():
        path = path / CORRECTIONS
    if not path.exists():
        raise FileNotFoundError(f"{path}: no corrections (run `mnm correct` first)")
    records = list(JsonlStore(path, Correction).read(strict=True))
    latest = {c.state: c.filters for c in records}
    return [c for c in records if c.filters == latest[c.state] and (c.kept or not kept_only)]
