"""Training datasets of state–action–hint examples (``mnm dataset``).

Round 1: every usable step of the teacher's trajectories, verbatim (hint sections, tool docs and
format reminders stay the droppable parts they were). Rounds ≥ 2: the kept corrections plus
balancing trajectories (:mod:`filters.balance`). The split into train and validation is made by
state (:attr:`core.examples.Example.state_id`), never by sample, so the samples of one state never
end up on both sides. Output directory::

    examples.jsonl  train.jsonl  val.jsonl      Example records, one per line
    composition.md  composition.json            counts per group / template / source
    dataset.json                                inputs, settings, counts (provenance)
    exports/<split>.<format>.jsonl              see filters.export (+ dataset_info.json)
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import Field

from core.config import Config
from core.errors import DataError
from core.examples import Example, read_examples, write_examples
from core.provenance import git_revision
from core.rundir import load_run
from core.store import write_atomic
from filters.balance import BalanceConfig, Candidate, balance, failure_counts
from filters.correct import load_corrections
from filters.examples import trajectory_examples
from filters.export import FORMATS, Format, export
from tasks.registry import evaluation_splits


class DatasetConfig(Config):
    round: int = Field(1, ge=1)
    val_fraction: float = Field(0.1, ge=0, lt=1, description="share of states held out for validation")
    seed: int = 0
    successful_only: bool = Field(False, description="round 1: only steps of successful trajectories")
    balance: BalanceConfig = Field(default_factory=BalanceConfig)
    exports: list[Format] = Field(default_factory=lambda: list(FORMATS))
    allow_evaluation_splits: bool = Field(False, description="let examples come from evaluation-only (test) "
                                          "splits; only for tests of the pipeline itself")


def round1_examples(run_dirs: Sequence[str | Path], successful_only: bool = False) -> list[Example]:
    """One example per usable step of every trajectory of the teacher runs."""
    out = []
    for run in map(str, run_dirs):
        for traj in load_run(run):
            if traj.outcome.success or not successful_only:
                out += trajectory_examples(traj, run, source="teacher")
    return out


def correction_examples(paths: Sequence[str | Path]) -> list[Example]:
    """The examples of the kept corrections of ``corrections.jsonl`` files (or review dirs); a sample
    identical to an earlier one of the same state (same monologue and code) is left out."""
    seen, out = set(), []
    for c in (c for p in paths for c in load_corrections(p)):
        if (c.example.state_id, c.monologue, c.code) not in seen:
            seen.add((c.example.state_id, c.monologue, c.code))
            out.append(c.example)
    return out


def split_by_state(examples: Sequence[Example], val_fraction: float, seed: int = 0) -> tuple[list[Example], list[Example]]:
    """Train and validation examples; all examples of one state land on the same side."""
    states = sorted({e.state_id for e in examples})
    random.Random(seed).shuffle(states)
    n_val = round(val_fraction * len(states))
    if val_fraction > 0 and len(states) > 1:
        n_val = min(max(n_val, 1), len(states) - 1)
    val_states = set(states[:n_val])
    return [e for e in examples if e.state_id not in val_states], [e for e in examples if e.state_id in val_states]


def example_source(e: Example) -> str:
    """The composition column of an example: its provenance source, with the balancing reason."""
    reason = e.meta.get("balance")
    return f"{e.provenance.source}:{reason}" if reason else e.provenance.source


def composition(train: Sequence[Example], val: Sequence[Example]) -> dict[str, Any]:
    """Example counts per (group, template) and source, states, and the train/val split."""
    rows: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    states: dict[tuple[str, str], set[str]] = defaultdict(set)
    for split, examples in (("train", train), ("val", val)):
        for e in examples:
            key = (e.group, e.template)
            rows[key][example_source(e)] += 1
            rows[key][split] += 1
            states[key].add(e.state_id)
    sources = sorted({example_source(e) for e in [*train, *val]})
    table = [{"group": g, "template": t, **{s: rows[(g, t)][s] for s in sources},
              "states": len(states[(g, t)]), "train": rows[(g, t)]["train"], "val": rows[(g, t)]["val"]}
             for g, t in sorted(rows)]
    groups = sorted({g for g, _ in rows})
    per_group = {g: sum(r["train"] + r["val"] for r in table if r["group"] == g) for g in groups}
    return {"sources": sources, "rows": table, "groups": per_group,
            "total": {"examples": len(train) + len(val), "train": len(train), "val": len(val),
                      "states": len({e.state_id for e in [*train, *val]})}}


def composition_markdown(comp: dict[str, Any]) -> str:
    cols = ["group", "template", *comp["sources"], "states", "train", "val"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in comp["rows"]]
    t = comp["total"]
    lines.append(f"\nTotal: {t['examples']} examples ({t['train']} train, {t['val']} val) from {t['states']} states.")
    lines.append("Per group: " + ", ".join(f"{g} {n}" for g, n in comp["groups"].items()))
    return "\n".join(lines) + "\n"


def _candidates(run_dirs: Sequence[str | Path]) -> list[Candidate]:
    return [(str(run), t) for run in run_dirs for t in load_run(run)]


def build_dataset(out: str | Path, config: DatasetConfig | None = None, runs: Sequence[str | Path] = (),
                  corrections: Sequence[str | Path] = (), candidates: Sequence[str | Path] = (),
                  previous: Sequence[str | Path] = (), show: bool = True, examples: Sequence[Example] = ()) -> Path:
    """Build, split, describe and export one round's dataset; return the output directory.

    ``runs``: round 1 teacher run directories. ``corrections``: corrections files (or review
    directories) for rounds ≥ 2; ``candidates``: run directories of the newest agent with hints
    (Option I) to balance with; ``previous``: earlier rounds' ``examples.jsonl`` (their corrected
    states raise the priority of the tasks they came from). ``examples``: round 1, examples built
    elsewhere (e.g. :func:`filters.on_policy.on_policy_examples`), taken as they are.
    """
    config = config or DatasetConfig()
    out = Path(out)
    if config.round == 1:
        examples = [*round1_examples(runs, config.successful_only), *examples]
    elif examples:
        raise DataError("ready-made examples are for round 1 only", field="round")
    else:
        fixed = correction_examples(corrections)
        earlier = [e for p in previous for e in read_examples(p)]
        examples = fixed + balance(fixed, _candidates(candidates), config.balance, failure_counts(fixed + earlier))
    held_out = evaluation_splits()
    leaked = [e for e in examples if e.meta.get("split") in held_out]
    if leaked and not config.allow_evaluation_splits:
        raise DataError(f"{len(leaked)} examples come from tasks of the {leaked[0].meta['split']!r} split "
                        f"(e.g. {leaked[0].id}), which is evaluation-only; training data must not come "
                        "from test tasks", field="allow_evaluation_splits")
    for e in examples:
        e.provenance.round = config.round
    train, val = split_by_state(examples, config.val_fraction, config.seed)
    comp = composition(train, val)
    write_examples(out / "examples.jsonl", examples)
    write_examples(out / "train.jsonl", train)
    write_examples(out / "val.jsonl", val)
    for name, part in (("train", train), ("val", val)):
        export(part, out / "exports", name, config.exports)
    write_atomic(out / "composition.json", json.dumps(comp, indent=2))
    write_atomic(out / "composition.md", composition_markdown(comp))
    meta = {"config": config.model_dump(mode="json"), "runs": list(map(str, runs)),
            "corrections": list(map(str, corrections)), "candidates": list(map(str, candidates)),
            "previous": list(map(str, previous)), "git_revision": git_revision(), "counts": comp["total"]}
    write_atomic(out / "dataset.json", json.dumps(meta, indent=2))
    if show:
        print(composition_markdown(comp))
    return out
