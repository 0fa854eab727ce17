"""Apply filters to every step of every trajectory of some runs (``mnm review``).

Writes into the review directory::

    verdicts.jsonl     one Verdict per (filter, run, trajectory, step) checked, appended as it comes
    judge_cache.jsonl  raw judge responses (see filters.judge.JudgeCache)
    review.json        runs, filters (file, digest) and counts of flagged steps per filter

A killed review resumes: verdicts already on disk are not recomputed (failed judge calls are).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel
from tqdm import tqdm

from core.asyncio_compat import run_sync
from core.errors import ConfigError, LLMError
from core.llm.base import LLMClient
from core.llm.factory import ClientConfig, make_client
from core.rundir import load_run
from core.store import JsonlStore, write_atomic
from core.trajectory import Trajectory
from filters.base import Filter, RuleFilter
from filters.judge import JudgeCache, JudgeError, JudgeFilter
from filters.spec import FilterSpec, load_filters

log = logging.getLogger(__name__)

VERDICTS = "verdicts.jsonl"


class Verdict(BaseModel):
    """One filter's decision about one step; ``error`` is set when a judge gave no verdict."""

    key: str
    filter: str
    kind: str
    run: str
    trajectory: str
    step: int
    flagged: bool
    reason: str = ""
    hint: str = ""
    filter_digest: str = ""
    task_id: str = ""
    group: str = ""
    template: str = ""
    error: str | None = None

    @staticmethod
    def make_key(spec: FilterSpec, run: str, trajectory: str, step: int) -> str:
        """Includes the filter's digest: editing a filter file makes the next review check again."""
        return f"{spec.name}@{spec.digest()}|{run}|{trajectory}|{step}"


def make_filters(specs: Sequence[FilterSpec], judge_client: LLMClient | None = None,
                 cache: JudgeCache | None = None, trajectories: Sequence[Trajectory] | None = None) -> list[Filter]:
    """Filter objects for ``specs``. Judge filters need ``judge_client`` unless none of
    ``trajectories`` (when given) is of a group or template the judge applies to."""
    out: list[Filter] = []
    for spec in specs:
        if spec.kind == "rule":
            out.append(RuleFilter(spec))
        elif judge_client is not None:
            out.append(JudgeFilter(spec, judge_client, cache))
        elif trajectories is None or any(spec.applies_to.matches(t.group, t.template) for t in trajectories):
            raise ConfigError(f"filter {spec.name!r} ({spec.source}) is an LLM judge: give a judge client")
    return out


def _specs(filters: Sequence[FilterSpec | str | Path]) -> list[FilterSpec]:
    paths = [f for f in filters if not isinstance(f, FilterSpec)]
    return [f for f in filters if isinstance(f, FilterSpec)] + (load_filters(paths) if paths else [])


async def review_async(run_dirs: Sequence[str | Path], filters: Sequence[FilterSpec | str | Path],
                       out: str | Path, judge_client: LLMClient | ClientConfig | None = None,
                       concurrency: int = 16, show_progress: bool = True, show_outputs: bool | None = None) -> Path:
    out = Path(out)
    specs = [with_outputs(s, show_outputs) for s in _specs(filters)]
    runs = {str(Path(d)): load_run(d) for d in run_dirs}
    every = [t for trajs in runs.values() for t in trajs]
    owned = isinstance(judge_client, ClientConfig)
    if owned:
        judge_client = make_client(judge_client.model_copy(update={"temperature": 0.0}))
    active = make_filters(specs, judge_client, JudgeCache(out / "judge_cache.jsonl"), every)
    store = JsonlStore(out / VERDICTS, Verdict)
    done = {k for k, v in store.latest_by_key().items() if v.error is None}
    todo = [(run, t, k, f) for run, trajs in runs.items() for t in trajs for k in range(len(t.steps))
            for f in active if f.applies(t) and Verdict.make_key(f.spec, run, t.key, k) not in done]
    sem = asyncio.Semaphore(concurrency)
    bar = tqdm(total=len(todo), desc="review", disable=not show_progress)

    async def one(run: str, traj: Trajectory, step: int, f: Filter) -> None:
        async with sem:
            try:
                check, error = await f.acheck(traj, step), None
            except (JudgeError, LLMError) as e:
                check, error = None, f"{type(e).__name__}: {e}"
                log.warning("%s on %s step %d: %s", f.name, traj.key, step, error)
        store.append(Verdict(
            key=Verdict.make_key(f.spec, run, traj.key, step), filter=f.name, kind=f.spec.kind, run=run,
            trajectory=traj.key, step=step, flagged=bool(check and check.flagged),
            reason=check.reason if check else "", hint=f.spec.hint, filter_digest=f.spec.digest(),
            task_id=traj.task_id, group=traj.group, template=traj.template, error=error))
        bar.update()

    try:
        await asyncio.gather(*(one(*item) for item in todo))
    finally:
        bar.close()
        if owned:
            await judge_client.aclose()
    current = {(s.name, s.digest()) for s in specs}
    verdicts = [v for v in store.latest_by_key().values() if (v.filter, v.filter_digest) in current and v.run in runs]
    summary = {
        "runs": list(runs),
        "filters": [{"name": s.name, "kind": s.kind, "file": s.source, "digest": s.digest()} for s in specs],
        "checked": len(verdicts),
        "flagged": dict(Counter(v.filter for v in verdicts if v.flagged)),
        "errors": sum(v.error is not None for v in verdicts),
    }
    write_atomic(out / "review.json", json.dumps(summary, indent=2))
    return out / VERDICTS


def review(run_dirs: Sequence[str | Path], filters: Sequence[FilterSpec | str | Path], out: str | Path,
           judge_client: LLMClient | ClientConfig | None = None, concurrency: int = 16,
           show_progress: bool = True, show_outputs: bool | None = None) -> Path:
    """Check every step of the runs' trajectories with ``filters`` (files, directories of files, or
    specs); judges ask ``judge_client`` (a client, or the config of one). Return the verdicts file.
    ``show_outputs`` overrides every judge's own setting (``False``: the paper's judges, which never
    saw the cells' outputs)."""
    return run_sync(review_async(run_dirs, filters, out, judge_client, concurrency, show_progress, show_outputs))


def with_outputs(spec: FilterSpec, show_outputs: bool | None) -> FilterSpec:
    """``spec`` with its judge's ``show_outputs`` set, unless ``None`` (rule filters are unchanged)."""
    if spec.judge is None or show_outputs is None:
        return spec
    return spec.model_copy(update={"judge": spec.judge.model_copy(update={"show_outputs": show_outputs})})


def load_verdicts(review_dir: str | Path, flagged_only: bool = True) -> list[Verdict]:
    """The verdicts of the latest review in ``review_dir`` (its runs, its filters as they were then)."""
    path, summary_path = Path(review_dir) / VERDICTS, Path(review_dir) / "review.json"
    if not path.exists() or not summary_path.exists():
        raise FileNotFoundError(f"{review_dir}: no complete review (run the review first)")
    summary = json.loads(summary_path.read_text())
    current, runs = {(f["name"], f["digest"]) for f in summary["filters"]}, set(summary["runs"])
    verdicts = JsonlStore(path, Verdict).latest_by_key().values()
    return [v for v in verdicts if (v.filter, v.filter_digest) in current and v.run in runs
            and (v.flagged or not flagged_only)]


def flagged_states(verdicts: Sequence[Verdict]) -> dict[tuple[str, str, int], list[Verdict]]:
    """Flagged verdicts grouped by state ``(run, trajectory, step)``."""
    out: dict[tuple[str, str, int], list[Verdict]] = {}
    for v in verdicts:
        if v.flagged:
            out.setdefault((v.run, v.trajectory, v.step), []).append(v)
    return out


def flagged_report(review_dir: str | Path, max_output: int = 600) -> str:
    """Markdown: each flagged state's monologue, code and output next to the filters' reasons and hints."""
    states = flagged_states(load_verdicts(review_dir))
    trajectories = {run: {t.key: t for t in load_run(run)} for run in {run for run, _, _ in states}}
    blocks = []
    for (run, key, step), verdicts in sorted(states.items()):
        s = trajectories[run][key].steps[step]
        why = "\n".join(f"- **{v.filter}**: {v.reason}\n  > hint: {' '.join(v.hint.split())}" for v in verdicts)
        blocks.append(f"### {key}, step {step + 1} ({run})\n\n*monologue*: {s.monologue}\n\n"
                      f"```python\n{s.code}\n```\n\n```\n{s.observation[:max_output]}\n```\n\n{why}\n")
    return "\n".join(blocks) if blocks else "No step was flagged.\n"
