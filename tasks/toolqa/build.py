"""Build ToolQA-mini: a synthetic ToolQA corpus root with its questions, deterministic per seed.

``build_toolqa_mini(out, profile, seed)`` runs every group's generator (``rng =
random.Random(f"{seed}-{group}")``) into a fresh folder, samples questions for every template with
the template library (``sample_slots`` then ``answer``), splits them like the real files, writes
``questions/<split>/<group>-<split>.jsonl`` and ``manifest.json`` (seed, generator version,
profile, row and question counts, sha256 of every file), then moves the folder into place. A
half-built root never appears at ``out``.

Question counts per template are the real ones (read from the vendored question files) for the
``standard`` profile, and 3-6 per template for ``tiny``. Split rule (doc §3): per template,
shuffle, 70 % train / 30 % test, then one train question moves to val; seen templates put n-1
questions in train-seen and one in val-seen, unseen templates put all in test-unseen. The
``standard`` profile takes each split's size per template from the real files instead, so the
irregular agenda chunks are reproduced too.
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import random
import shutil
import tempfile
from collections import Counter
from functools import cache
from pathlib import Path

from tqdm import tqdm

from core.errors import DataError
from core.settings import get_settings
from core.store import file_sha256, write_atomic
from tasks.toolqa.corpus import Corpus
from tasks.toolqa.questions import (
    GROUPS,
    RANDOM_SPLITS,
    SPLITS,
    TEMPLATE_SPLITS,
    group_templates,
    load_questions,
)
from tasks.toolqa.template import Slots, Template

log = logging.getLogger(__name__)

GENERATOR_VERSION = "1"
PROFILES = ("tiny", "standard")
MODAL_SHARE = 0.3  # at most this share of a template's questions may share one answer ...
STRICT_DRAWS = 40  # ... during the first STRICT_DRAWS * n draws; later draws relax that cap
MAX_DRAWS = 200  # give up on a template after MAX_DRAWS * n draws

SplitSizes = dict[str, int]


@cache
def real_split_sizes() -> dict[tuple[str, str], SplitSizes]:
    """``{(group, type): {split: count}}`` over the six split folders of the real question files."""
    sizes: dict[tuple[str, str], Counter] = {}
    for split in SPLITS:
        for q in load_questions(split, match=False):
            sizes.setdefault((q.group, q.type), Counter())[split] += 1
    return {key: {s: c[s] for s in SPLITS} for key, c in sizes.items()}


def template_sizes(template: Template, profile: str) -> SplitSizes:
    """How many questions of ``template`` go into each split under ``profile``."""
    real = real_split_sizes().get((template.group, template.type))
    if real is None:
        raise DataError(f"template {template.id}: type {template.type!r} occurs in no real question file")
    if profile == "standard":
        return real
    n = max(3, min(6, sum(real[s] for s in RANDOM_SPLITS) // 4))
    train = int(0.7 * n)
    sizes = {"train": train - 1, "val": 1, "test": n - train}
    held_out = {"train-seen-questions": 0, "val-seen-questions": 0, "test-unseen-questions": n}
    seen = {"train-seen-questions": n - 1, "val-seen-questions": 1, "test-unseen-questions": 0}
    return {**sizes, **(held_out if template.unseen else seen)}


def sample_questions(template: Template, corpus: Corpus, n: int, rng: random.Random) -> list[tuple[Slots, str, str]]:
    """``n`` distinct ``(slots, question, answer)`` of ``template`` on ``corpus``."""
    chosen: list[tuple[Slots, str, str]] = []
    seen: set[str] = set()
    answers: Counter = Counter()
    cap = max(1, math.ceil(MODAL_SHARE * n))
    for draw in range(MAX_DRAWS * n):
        if len(chosen) == n:
            break
        slots = template.sample_slots(corpus, rng)
        if slots is None:
            continue
        question = template.question(slots)
        if question in seen:
            continue
        answer = template.answer(corpus, slots)
        if not isinstance(answer, str) or not answer.strip() or answer == "nan":
            continue
        if draw < STRICT_DRAWS * n and answers[answer] >= cap:
            continue
        seen.add(question)
        answers[answer] += 1
        chosen.append((slots, question, answer))
    if len(chosen) < n:
        raise DataError(f"template {template.id}: only {len(chosen)} of {n} distinct questions "
                        f"after {MAX_DRAWS * n} draws")
    return chosen


def split_questions(items: list[dict], sizes: SplitSizes, rng: random.Random) -> dict[str, list[dict]]:
    """Deal ``items`` into the random splits and the template splits, each from its own shuffle."""
    out: dict[str, list[dict]] = {}
    for family in (RANDOM_SPLITS, TEMPLATE_SPLITS):
        order = items[:]
        rng.shuffle(order)
        start = 0
        for split in family:
            out[split] = order[start:start + sizes[split]]
            start += sizes[split]
    return out


def _jsonl(items: list[dict]) -> str:
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)


def build_toolqa_mini(out: str | Path, profile: str = "tiny", seed: int = 0,
                      groups: tuple[str, ...] | list[str] | None = None, overwrite: bool = False) -> Path:
    """Generate a ToolQA-mini root at ``out`` and return its path."""
    if profile not in PROFILES:
        raise DataError(f"unknown ToolQA-mini profile {profile!r}; expected one of {', '.join(PROFILES)}")
    out = Path(out)
    groups = tuple(groups or GROUPS)
    if out.exists():
        if not (out / "manifest.json").exists() and any(out.iterdir()):
            raise DataError("refusing to overwrite a folder that is not a ToolQA-mini root", path=str(out))
        if (out / "manifest.json").exists() and not overwrite:
            raise DataError("a ToolQA-mini root already exists here (pass overwrite=True)", path=str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.building."))
    try:
        manifest = _build_into(tmp, profile, seed, groups)
        write_atomic(tmp / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _build_into(root: Path, profile: str, seed: int, groups: tuple[str, ...]) -> dict:
    rows: dict[str, dict[str, int]] = {}
    for group in tqdm(groups, desc=f"ToolQA-mini {profile}: corpora", unit="group"):
        module = importlib.import_module(f"tasks.toolqa.groups.{group}")
        rows[group] = module.generate(root, profile, random.Random(f"{seed}-{group}"))
    corpus = Corpus(root)
    files: dict[str, list[dict]] = {f"{split}/{group}-{split}.jsonl": [] for split in SPLITS for group in groups}
    templates = [t for g in groups for t in group_templates(g)]
    for template in tqdm(templates, desc=f"ToolQA-mini {profile}: questions", unit="template"):
        sizes = template_sizes(template, profile)
        rng = random.Random(f"{seed}-{template.id}")
        n = sum(sizes[s] for s in RANDOM_SPLITS)
        items = [{"question": q, "answer": a, "type": template.type}
                 for _, q, a in sample_questions(template, corpus, n, rng)]
        for split, chosen in split_questions(items, sizes, rng).items():
            files[f"{split}/{template.group}-{split}.jsonl"] += chosen
    qids = {}
    for name, items in files.items():
        group = name.split("/")[1].split("-")[0]
        for item in items:
            qids.setdefault((group, item["question"]), f"mini-{group}-{len(qids):04d}")
            item["qid"] = qids[(group, item["question"])]
        write_atomic(root / "questions" / name, _jsonl([{k: i[k] for k in ("qid", "question", "answer", "type")}
                                                       for i in items]))
    hashes = {str(p.relative_to(root)): file_sha256(p) for p in sorted(root.rglob("*")) if p.is_file()}
    return {
        "generator": "toolqa-mini", "version": GENERATOR_VERSION, "seed": seed, "profile": profile,
        "rows": rows, "questions": {name: len(items) for name, items in files.items()},
        "files": hashes, "bytes": sum(p.stat().st_size for p in root.rglob("*") if p.is_file()),
    }


def ensure_toolqa_mini(profile: str, seed: int = 0, data_dir: str | Path | None = None) -> Path:
    """The ToolQA-mini root of ``profile``/``seed`` under the data directory, built if missing or stale."""
    out = Path(data_dir or get_settings().mnm_data_dir) / "toolqa-mini" / f"{profile}-seed{seed}"
    manifest = out / "manifest.json"
    if manifest.exists():
        m = json.loads(manifest.read_text())
        if (m.get("profile"), m.get("seed"), m.get("version")) == (profile, seed, GENERATOR_VERSION):
            return out
    return build_toolqa_mini(out, profile, seed, overwrite=True)
