"""What the viewer shows, gathered from run, review and dataset directories with the project's readers.

:func:`discover` finds the inputs under the given paths (a run directory holds
``trajectories.jsonl``, a review directory ``review.json``, a dataset directory ``examples.jsonl``;
any other directory is searched). :func:`gather` turns them into a :class:`ViewData`: small
*indexes* (one row per episode, flagged state or example) that the page loads at once, and
*details* (a whole trajectory, a state's corrections, an example) that it loads when one is opened.
Message parts keep their visibility marks; the page renders them, nothing is re-parsed here.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import DataError
from core.examples import Example
from core.messages import Message, latest_step
from core.trajectory import Trajectory
from filters.correct import CORRECTIONS, Correction, load_corrections
from filters.dataset import composition, read_examples
from filters.review import load_verdicts
from tasks.report import load_run, rows, summarize_trajectories
from training.sequences import encode

ROUND = re.compile(r"round-(\d+)")


@dataclass
class Inputs:
    runs: list[Path] = field(default_factory=list)
    reviews: list[Path] = field(default_factory=list)
    datasets: list[Path] = field(default_factory=list)


@dataclass
class ViewData:
    """Indexes (loaded with the page) and details (loaded on demand, by kind and id)."""

    index: dict[str, Any]
    details: dict[str, dict[str, Any]]  # kind ("episode", "state", "example") -> id -> detail


def discover(paths: Sequence[str | Path]) -> Inputs:
    """The run, review and dataset directories at or under ``paths``, in path order."""
    found = Inputs()
    for p in map(Path, paths):
        if not p.is_dir():
            raise FileNotFoundError(f"{p}: not a directory")
        before = len(found.runs) + len(found.reviews) + len(found.datasets)
        for d in [p, *sorted(x for x in p.rglob("*") if x.is_dir())]:
            if (d / "trajectories.jsonl").exists():
                found.runs.append(d)
            if (d / "review.json").exists():
                found.reviews.append(d)
            if (d / "examples.jsonl").exists():
                found.datasets.append(d)
        if len(found.runs) + len(found.reviews) + len(found.datasets) == before:
            raise FileNotFoundError(f"{p}: no run (trajectories.jsonl), review (review.json) or dataset "
                                    f"(examples.jsonl) at or under it")
    return found


def _name(path: Path, roots: Sequence[Path]) -> str:
    """A short display name: the path relative to the given root it lies under."""
    for root in roots:
        try:
            rel = path.resolve().relative_to(root.resolve().parent)
            return str(rel)
        except ValueError:
            continue
    return str(path)


def message_data(m: Message, last: int | None) -> dict[str, Any]:
    """A message with its parts; ``sent`` is False for an ephemeral part no longer shown at step ``last``."""
    current = m.step is None or m.step == last
    return {"role": m.role, "kind": m.kind, "step": m.step, "prefill": m.prefill, "target": m.target,
            "parts": [{"text": p.text, "visibility": p.visibility, "section": p.section,
                       "ephemeral": p.ephemeral, "sent": current or not p.ephemeral} for p in m.parts]}


def episode_row(eid: str, run: str, t: Trajectory) -> dict[str, Any]:
    return {"id": eid, "run": run, "key": t.key, "task": t.task_id, "group": t.group, "template": t.template,
            "trial": t.trial, "success": t.outcome.success, "score": t.outcome.score,
            "termination": t.outcome.termination, "steps": len(t.steps), "tokens": t.usage.input_tokens
            + t.usage.output_tokens, "model": t.model}


def episode_detail(run: str, t: Trajectory) -> dict[str, Any]:
    """Every message as sent (ephemeral parts in the step they were sent with), steps and outcome."""
    return {"run": run, "key": t.key, "task": t.task_id, "group": t.group, "template": t.template,
            "model": t.model, "prompt": t.prompt.model_dump(),
            "messages": [{**message_data(m, m.step), "index": i} for i, m in enumerate(t.messages)],
            "steps": [s.model_dump(include={"index", "first_message", "status", "format_errors", "usage"})
                      for s in t.steps],
            "outcome": {**t.outcome.model_dump(mode="json"), "success": t.outcome.success},
            "usage": t.usage.model_dump(), "wall_seconds": t.wall_seconds}


def _step_action(t: Trajectory | None, step: int) -> dict[str, str] | None:
    if t is None or step >= len(t.steps):
        return None
    s = t.steps[step]
    return {"monologue": s.monologue, "code": s.code, "observation": s.observation, "status": s.status}


def target_tokens(e: Example, tokenizer: Any) -> dict[str, Any]:
    """The example's training targets as ``tokenizer`` cuts them (:func:`training.sequences.encode`:
    the same tokens on the teacher's and the student's side), one decoded piece per token."""
    try:
        ids = encode(e, tokenizer).target_ids
    except DataError as err:
        return {"tokens_error": str(err)}
    return {"tokens": [tokenizer.decode([i]) for i in ids], "tokenizer": tokenizer.name_or_path}


def example_detail(e: Example, split: str, tokenizer: Any = None) -> dict[str, Any]:
    """An example's messages with their parts; its target tokens when a tokenizer is given."""
    last = latest_step(e.messages)
    return {**(target_tokens(e, tokenizer) if tokenizer is not None else {}),"id": e.id, "split": split, "group": e.group, "template": e.template, "task": e.task_id,
            "success": e.success, "provenance": e.provenance.model_dump(), "meta": e.meta,
            "sections": list(dict.fromkeys(e.hint_sections())),
            "messages": [message_data(m, last) for m in e.messages]}


def _source(e: Example) -> str:
    reason = e.meta.get("balance")
    return f"{e.provenance.source}:{reason}" if reason else e.provenance.source


def _curves(summaries: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    """Runs whose paths name a round (``round-<k>/<series>``): one curve of overall success per series."""
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for name, s in zip(names, summaries, strict=True):
        m = ROUND.search(name)
        if m:
            label = name[m.end():].strip("/") or name[: m.start()].strip("/")
            series[label].append({"round": int(m.group(1)), "run": name, **s["overall"]})
    return [{"series": k, "points": sorted(v, key=lambda p: p["round"])}
            for k, v in sorted(series.items()) if len({p["round"] for p in v}) > 1]


def _run_path(run: str, loaded: dict[Path, Any]) -> Path:
    """A review names its runs as they were given to it (maybe relative to another working
    directory): the loaded run it names, else the path itself."""
    path = Path(run).resolve()
    if path in loaded:
        return path
    tail = Path(run).parts
    matches = [p for p in loaded if p.parts[-len(tail):] == tail]
    return matches[0] if len(matches) == 1 else path


def gather(paths: Sequence[str | Path], tokenizer: str | Path | None = None) -> ViewData:
    """Read every run, review (verdicts and corrections) and dataset at or under ``paths``; with a
    ``tokenizer`` (a local HF tokenizer directory) each example's target tokens are shown too."""
    if tokenizer is not None:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(tokenizer))
    roots = [Path(p) for p in paths]
    found = discover(paths)
    details: dict[str, dict[str, Any]] = {"episode": {}, "state": {}, "example": {}}
    trajectories: dict[Path, dict[str, Trajectory]] = {}
    run_names, summaries, episodes = [], [], []
    for run_dir in found.runs:
        name = _name(run_dir, roots)
        trajs = load_run(run_dir)
        trajectories[run_dir.resolve()] = {t.key: t for t in trajs}
        run_names.append(name)
        summaries.append(summarize_trajectories(name, trajs))
        for t in sorted(trajs, key=lambda t: (t.group, t.template, t.task_id, t.trial)):
            eid = f"e{len(episodes)}"
            episodes.append(episode_row(eid, name, t))
            details["episode"][eid] = episode_detail(name, t)
    header, body = rows({"runs": summaries})
    states = []
    for review_dir in found.reviews:
        rname = _name(review_dir, roots)
        verdicts = load_verdicts(review_dir)
        corrections: dict[str, list[Correction]] = defaultdict(list)
        if (review_dir / CORRECTIONS).exists():
            for c in load_corrections(review_dir, kept_only=False):
                corrections[c.state].append(c)
        by_state: dict[tuple[str, str, int], list] = defaultdict(list)
        for v in verdicts:
            by_state[(v.run, v.trajectory, v.step)].append(v)
        for (run, key, step), vs in sorted(by_state.items()):
            run_path = _run_path(run, trajectories)
            if run_path not in trajectories and (run_path / "trajectories.jsonl").exists():
                trajectories[run_path] = {t.key: t for t in load_run(run_path)}
            traj = trajectories.get(run_path, {}).get(key)
            state = f"{run}|{key}|{step}"
            cs = corrections.get(state, [])
            sid = f"s{len(states)}"
            states.append({"id": sid, "review": rname, "run": _name(run_path, roots), "key": key, "step": step,
                           "group": vs[0].group, "template": vs[0].template, "filters": sorted(v.filter for v in vs),
                           "corrections": len(cs), "kept": sum(c.kept for c in cs)})
            details["state"][sid] = {
                "review": rname, "run": _name(run_path, roots), "key": key, "step": step,
                "verdicts": [v.model_dump(include={"filter", "kind", "reason", "hint"}) for v in vs],
                "original": _step_action(traj, step),
                "corrections": [c.model_dump(include={"sample", "teacher", "monologue", "code", "verification",
                                                      "observation", "final_score", "kept", "reason", "problems"})
                                for c in sorted(cs, key=lambda c: c.sample)]}
    datasets, examples = [], []
    for data_dir in found.datasets:
        dname = _name(data_dir, roots)
        splits = {split: read_examples(data_dir / f"{split}.jsonl") for split in ("train", "val")
                  if (data_dir / f"{split}.jsonl").exists()}
        if not splits:
            splits = {"": read_examples(data_dir / "examples.jsonl")}
        comp_file = data_dir / "composition.json"
        comp = (json.loads(comp_file.read_text()) if comp_file.exists()
                else composition(splits.get("train", splits.get("", [])), splits.get("val", [])))
        datasets.append({"name": dname, "composition": comp})
        for split, exs in splits.items():
            for e in exs:
                xid = f"x{len(examples)}"
                examples.append({"id": xid, "dataset": dname, "split": split, "example": e.id, "group": e.group,
                                 "template": e.template, "source": _source(e), "step": e.provenance.step,
                                 "sections": len(set(e.hint_sections()))})
                details["example"][xid] = example_detail(e, split, tokenizer)
    index = {"report": {"header": header, "rows": body, "terminations": {s["run"]: s["terminations"]
                                                                          for s in summaries}},
             "curves": _curves(summaries, run_names), "episodes": episodes, "states": states,
             "datasets": datasets, "examples": examples}
    return ViewData(index=index, details=details)
