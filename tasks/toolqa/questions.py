"""ToolQA question files: loading, schema validation and template matching.

The corrected question splits of the real benchmark are vendored in ``tasks/toolqa/questions/``
(Apache-2.0, see ``LICENSE`` there). A synthetic ToolQA-mini root carries its own generated
questions in ``<root>/questions/`` with the same layout: ``<split>/<group>-<split>.jsonl``.

Schema of a line: ``question`` (str), ``answer`` (str, or a JSON number for a few count types),
``type`` (str) and ``qid`` (str). DBLP's random-split files have neither ``type`` nor ``qid``; their
type is recovered by matching the question against the DBLP templates.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from core.errors import DataError
from core.store import read_jsonl
from tasks.toolqa.template import Slots, Template

GROUPS = ("flights", "coffee", "yelp", "airbnb", "dblp", "agenda")
RANDOM_SPLITS = ("train", "val", "test")
TEMPLATE_SPLITS = ("train-seen-questions", "val-seen-questions", "test-unseen-questions")
SPLITS = RANDOM_SPLITS + TEMPLATE_SPLITS
SPLIT_ROLES = {"train": "train", "val": "val", "test": "test", "train-seen-questions": "train",
               "val-seen-questions": "val", "test-unseen-questions": "test"}
TABLE_GROUPS = ("flights", "coffee", "yelp", "airbnb")

VENDORED_DIR = Path(__file__).resolve().parent / "questions"


@dataclass(frozen=True)
class Question:
    """One line of a question file, answer cast to ``str``."""

    group: str
    split: str
    line: int
    question: str
    answer: str
    type: str
    qid: str
    path: str
    slots: Slots = field(default_factory=dict)
    template: str = ""  # the template name within the group ("" until matched)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def check_group(group: str) -> str:
    if group not in GROUPS:
        raise DataError(f"unknown ToolQA group {group!r}; expected one of {', '.join(GROUPS)}")
    return group


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise DataError(f"unknown ToolQA split {split!r}; expected one of {', '.join(SPLITS)}")
    return split


def questions_dir(root: str | Path | None = None) -> Path:
    """The question folder for a corpus root: the root's own (synthetic) or the vendored one."""
    if root is not None and (Path(root) / "manifest.json").exists():
        return Path(root) / "questions"
    return VENDORED_DIR


def question_file(qdir: Path, group: str, split: str) -> Path:
    return qdir / split / f"{group}-{split}.jsonl"


@cache
def group_templates(group: str) -> tuple[Template, ...]:
    """Every template of a group, from ``tasks.toolqa.groups.<group>.TEMPLATES``."""
    module = importlib.import_module(f"tasks.toolqa.groups.{check_group(group)}")
    return tuple(module.TEMPLATES)


def find_template(group: str, name: str) -> Template:
    for t in group_templates(group):
        if t.name == name:
            return t
    names = ", ".join(t.name for t in group_templates(group))
    raise DataError(f"unknown template {name!r} of group {group!r}; known: {names}")


def match_template(group: str, question: str, where: str = "") -> tuple[Template, Slots]:
    """The one template of ``group`` whose pattern matches ``question``, with its slots."""
    hits = [(t, s) for t in group_templates(group) if (s := t.parse(question)) is not None]
    prefix = f"{where}: " if where else ""
    if not hits:
        raise DataError(f"{prefix}no {group} template matches question {question[:120]!r}")
    if len(hits) > 1:
        names = ", ".join(t.name for t, _ in hits)
        raise DataError(f"{prefix}several {group} templates match question {question[:120]!r}: {names}")
    return hits[0]


def _field(obj: dict, name: str, types: tuple[type, ...], path: Path, line: int) -> object:
    if name not in obj:
        raise DataError("missing field", path=str(path), line=line, field=name)
    value = obj[name]
    if isinstance(value, bool) or not isinstance(value, types) or value == "":
        raise DataError(f"bad value {value!r}", path=str(path), line=line, field=name)
    return value


def read_question_file(path: Path, group: str, split: str, match: bool = True) -> list[Question]:
    """Validate and load one question file; with ``match``, attach each question's template."""
    if not path.exists():
        raise DataError("question file not found", path=str(path))
    out = []
    for lineno, obj in read_jsonl(path):
        text = str(_field(obj, "question", (str,), path, lineno))
        answer = str(_field(obj, "answer", (str, int, float), path, lineno))
        untyped = group == "dblp" and split in RANDOM_SPLITS and "type" not in obj
        qtype = "" if untyped else str(_field(obj, "type", (str,), path, lineno))
        qid = str(_field(obj, "qid", (str,), path, lineno)) if "qid" in obj else f"{group}-{split}-{lineno:04d}"
        q = Question(group=group, split=split, line=lineno, question=text, answer=answer,
                     type=qtype, qid=qid, path=str(path))
        out.append(_matched(q) if match or untyped else q)
    return out


def _matched(q: Question) -> Question:
    template, slots = match_template(q.group, q.question, q.where)
    if q.type and q.type != template.type:
        raise DataError(f"type {q.type!r} but the question matches template {template.id} "
                        f"(type {template.type!r})", path=q.path, line=q.line, field="type")
    return Question(**{**q.__dict__, "type": template.type, "slots": slots, "template": template.name})


def load_questions(split: str, root: str | Path | None = None, groups: tuple[str, ...] | list[str] | None = None,
                   match: bool = True) -> list[Question]:
    """Questions of ``split`` for ``groups`` (default all six) from ``root``'s question folder."""
    qdir = questions_dir(root)
    out: list[Question] = []
    for group in groups or GROUPS:
        out += read_question_file(question_file(qdir, check_group(group), check_split(split)), group,
                                  split, match=match)
    return out
