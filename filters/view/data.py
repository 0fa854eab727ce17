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
from core.examples import Example, read_examples
from core.messages import Message, latest_step
from core.rundir import TRAJECTORIES, is_run, load_run
from core.trajectory import Trajectory
from filters.correct import CORRECTIONS, Correction, load_corrections
from filters.dataset import composition, example_source
from filters.review import flagged_states, load_verdicts
from tasks.collection.report import rows, summarize_trajectories
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
            if is_run(d):
                found.runs.append(d)
            if (d / "review.json").exists():
                found.reviews.append(d)
            if (d / "examples.jsonl").exists():
                found.datasets.append(d)
        if len(found.runs) + len(found.reviews) + len(found.datasets) == before:
            raise FileNotFoundError(f"{p}: no run ({TRAJECTORIES}), review (review.json) or dataset "
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
    return {"id": e.id, "split": split, "group": e.group, "template": e.template, "task": e.task_id,
            "success": e.success, "provenance": e.provenance.model_dump(), "meta": e.meta,
            "sections": list(dict.fromkeys(e.hint_sections())),
            "messages": [message_data(m, last) for m in e.messages],
            **(target_tokens(e, tokenizer) if tokenizer is not None else {})}


def _curves(summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs whose names hold a round (``round-<k>/<series>``): one curve of the paper's average (mean of the group rates) per series."""
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in summaries:
        m = ROUND.search(s["run"])
        if m:
            label = s["run"][m.end():].strip("/") or s["run"][: m.start()].strip("/")
            series[label].append({"round": int(m.group(1)), "run": s["run"], **s["avg"]})
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


class _Gatherer:
    """Fills the indexes and details, one input directory at a time."""

    def __init__(self, roots: Sequence[Path], tokenizer: Any) -> None:
        self.roots, self.tokenizer = roots, tokenizer
        self.index: dict[str, Any] = {"episodes": [], "states": [], "datasets": [], "examples": []}
        self.details: dict[str, dict[str, Any]] = {"episode": {}, "state": {}, "example": {}}
        self.summaries: list[dict[str, Any]] = []
        self.trajectories: dict[Path, dict[str, Trajectory]] = {}  # resolved run dir -> key -> trajectory

    def name(self, path: Path) -> str:
        return _name(path, self.roots)

    def run(self, run_dir: Path) -> None:
        name, trajs = self.name(run_dir), load_run(run_dir)
        self.trajectories[run_dir.resolve()] = {t.key: t for t in trajs}
        self.summaries.append(summarize_trajectories(name, trajs))
        for t in sorted(trajs, key=lambda t: (t.group, t.template, t.task_id, t.trial)):
            eid = f"e{len(self.index['episodes'])}"
            self.index["episodes"].append(episode_row(eid, name, t))
            self.details["episode"][eid] = episode_detail(name, t)

    def review(self, review_dir: Path) -> None:
        """Each flagged state: its verdicts, the original step, every sampled correction."""
        corrections: dict[str, list[Correction]] = defaultdict(list)
        if (review_dir / CORRECTIONS).exists():
            for c in load_corrections(review_dir, kept_only=False):
                corrections[c.state].append(c)
        for (run, key, step), verdicts in sorted(flagged_states(load_verdicts(review_dir)).items()):
            run_path = _run_path(run, self.trajectories)
            if run_path not in self.trajectories and is_run(run_path):
                self.trajectories[run_path] = {t.key: t for t in load_run(run_path)}
            traj = self.trajectories.get(run_path, {}).get(key)
            cs = sorted(corrections.get(f"{run}|{key}|{step}", []), key=lambda c: c.sample)
            sid = f"s{len(self.index['states'])}"
            where = {"review": self.name(review_dir), "run": self.name(run_path), "key": key, "step": step}
            self.index["states"].append({
                "id": sid, **where, "group": verdicts[0].group, "template": verdicts[0].template,
                "filters": sorted(v.filter for v in verdicts), "corrections": len(cs), "kept": sum(c.kept for c in cs)})
            self.details["state"][sid] = {
                **where, "verdicts": [v.model_dump(include={"filter", "kind", "reason", "hint"}) for v in verdicts],
                "original": _step_action(traj, step),
                "corrections": [c.model_dump(include={"sample", "teacher", "monologue", "code", "verification",
                                                      "observation", "final_score", "kept", "reason", "problems"})
                                for c in cs]}

    def dataset(self, data_dir: Path) -> None:
        """Composition, and every example of train and val (of examples.jsonl when not split)."""
        name = self.name(data_dir)
        splits = {split: read_examples(data_dir / f"{split}.jsonl") for split in ("train", "val")
                  if (data_dir / f"{split}.jsonl").exists()} or {"": read_examples(data_dir / "examples.jsonl")}
        comp_file = data_dir / "composition.json"
        comp = (json.loads(comp_file.read_text()) if comp_file.exists()
                else composition(splits.get("train", splits.get("", [])), splits.get("val", [])))
        self.index["datasets"].append({"name": name, "composition": comp})
        for split, examples in splits.items():
            for e in examples:
                xid = f"x{len(self.index['examples'])}"
                self.index["examples"].append({
                    "id": xid, "dataset": name, "split": split, "example": e.id, "group": e.group,
                    "template": e.template, "source": example_source(e), "sections": len(set(e.hint_sections()))})
                self.details["example"][xid] = example_detail(e, split, self.tokenizer)

    def result(self) -> ViewData:
        header, body = rows({"runs": self.summaries})
        report = {"header": header, "rows": body, "terminations": {s["run"]: s["terminations"] for s in self.summaries}}
        return ViewData(index={"report": report, "curves": _curves(self.summaries), **self.index}, details=self.details)


def gather(paths: Sequence[str | Path], tokenizer: str | Path | None = None) -> ViewData:
    """Read every run, review (verdicts and corrections) and dataset at or under ``paths``; with a
    ``tokenizer`` (a local HF tokenizer directory) each example's target tokens are shown too."""
    if tokenizer is not None:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(tokenizer))
    found = discover(paths)
    g = _Gatherer([Path(p) for p in paths], tokenizer)
    for run_dir in found.runs:  # first, so that reviews find their trajectories loaded
        g.run(run_dir)
    for review_dir in found.reviews:
        g.review(review_dir)
    for data_dir in found.datasets:
        g.dataset(data_dir)
    return g.result()
