"""The OfficeBench evaluator: every check type with the released semantics, on any testbed.

A subtask passes when all its checks pass; an exception or a missing output fails the check.
Paths are relative to the episode's testbed, except two special forms that the released layout
resolved against the task folder: ``../../../../reference/X`` (expected files) and
``../../../../cache/<k>/testbed/X`` (the testbed before the agent ran = the vendored testbed).

``errata="original"`` reproduces the released evaluator's deterministic behaviour;
``"corrected"`` applies the fixes of ``errata.yaml`` (evaluator fixes and replaced checks).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import openpyxl
import yaml
from icalendar import Calendar
from pydantic import BaseModel, Field

from core.errors import DataError
from tasks.officebench import readers
from tasks.officebench.subtasks import DATA_DIR, Check, Subtask, load_subtasks

Errata = Literal["original", "corrected"]
ERRATA_FILE = Path(__file__).parent / "errata.yaml"
SPECIAL = re.compile(r"^(?:\./)?\.\./\.\./\.\./\.\./(?:(reference)/|cache/[^/]+/testbed/)(.*)$")
Verdict = tuple[bool, str]


class EvaluatorFix(BaseModel):
    name: str
    subtasks: list[str]
    defect: str
    evidence: str
    fix: str
    blocks_original: bool = False


class CheckFix(BaseModel):
    name: str
    subtask: str
    check: int
    defect: str
    evidence: str
    corrected: Check | None
    blocks_original: bool = False


class ErrataFile(BaseModel):
    evaluator: list[EvaluatorFix]
    checks: list[CheckFix]


@lru_cache(maxsize=2)
def load_errata(path: Path = ERRATA_FILE) -> ErrataFile:
    try:
        return ErrataFile.model_validate(yaml.safe_load(Path(path).read_text()))
    except Exception as e:
        raise DataError(f"invalid errata file: {e}", path=str(path)) from None


class CheckResult(BaseModel):
    index: int
    function: str
    passed: bool
    reason: str = ""
    fix: str | None = None  # the errata fix that replaced or changed this check


class Report(BaseModel):
    task_id: str
    errata: Errata
    passed: bool
    checks: list[CheckResult] = Field(default_factory=list)

    def failures(self) -> list[str]:
        return [f"check {c.index} {c.function}: {c.reason}" for c in self.checks if not c.passed]


@dataclass
class Context:
    testbed: Path
    task_dir: Path
    errata: Errata

    def path(self, rel: str) -> Path:
        m = SPECIAL.match(rel)
        if m is None:
            return self.testbed / rel
        return self.task_dir / ("reference" if m.group(1) else "testbed") / m.group(2)

    def fixed(self, name: str) -> bool:
        """True when evaluator fix ``name`` (named in errata.yaml) applies."""
        return self.errata == "corrected" and name in {f.name for f in load_errata().evaluator}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def contains_keywords(content: str, keywords: list[str]) -> Verdict:
    """Case-insensitive substring test; once a keyword parses as a number, commas are removed."""
    content = content.lower()
    for keyword in keywords:
        keyword = str(keyword).lower()
        if _is_number(keyword):
            content = content.replace(",", "")
        if keyword not in content:
            return False, f"keyword {keyword!r} not found"
    return True, ""


def _mailbox(ctx: Context, username: str) -> Path | None:
    for name in (username, username.lower()):
        if (ctx.testbed / "emails" / name).exists():
            return ctx.testbed / "emails" / name
    if ctx.fixed("email-folder-fallback"):
        folders = sorted(p for p in (ctx.testbed / "emails").glob("*") if p.is_dir())
        return next((p for p in folders if username.lower() in p.name.lower()), None)
    return None


def _word(ctx: Context, path: Path) -> str | list[Any]:
    if ctx.fixed("word-text-compare"):
        return readers.word_text(path)
    from docx import Document
    return Document(str(path)).paragraphs  # the released code compares paragraph objects


def _text(ctx: Context, doc_type: str, path: Path) -> str:
    if doc_type == "xlsx":
        return readers.excel_render(path)
    if doc_type in ("txt", "ics"):
        return path.read_text()
    if doc_type in ("doc", "docx"):
        return readers.word_text(path)
    if doc_type == "pdf":
        return readers.pdf_text(path)
    raise ValueError(f"unsupported doc_type {doc_type!r}")


def evaluate_contain(ctx: Context, args: dict[str, Any]) -> Verdict:
    if args["doc_type"] == "email":
        box = _mailbox(ctx, args["username"])
        content = readers.email_listing(box, None) if box else ""
        return contains_keywords(content, args["keywords"])
    path = ctx.path(args["file"])
    if not path.is_file():
        return False, f"missing file {args['file']}"
    return contains_keywords(_text(ctx, args["doc_type"], path), args["keywords"])


def evaluate_not_contain(ctx: Context, args: dict[str, Any]) -> Verdict:
    ok, _ = evaluate_contain(ctx, args)
    return (False, "all keywords found") if ok else (True, "")


def evaluate_file_exist(ctx: Context, args: dict[str, Any]) -> Verdict:
    return (True, "") if ctx.path(args["file"]).exists() else (False, f"missing {args['file']}")


def evaluate_file_not_exist(ctx: Context, args: dict[str, Any]) -> Verdict:
    return (False, f"{args['file']} exists") if ctx.path(args["file"]).exists() else (True, "")


def evaluate_excel_cell_value(ctx: Context, args: dict[str, Any]) -> Verdict:
    path = ctx.path(args["file"])
    if not path.exists():
        return False, f"missing file {args['file']}"
    content = readers.excel_render(path)
    for m in args["matches"]:
        cell = f"({m['row']}, {m['col']}): {m['value']}"
        if cell not in content:
            return False, f"{cell!r} not in the sheet"
    return True, ""


def evaluate_excel_cell_comparator(ctx: Context, args: dict[str, Any]) -> Verdict:
    content = readers.excel_render(ctx.path(args["file"]))
    for m in args["matches"]:
        found = re.search(rf"\({m['row']}, {m['col']}\): (\w+)\t", content)
        if found is None:
            return False, f"cell ({m['row']}, {m['col']}) empty or not a word"
        if not eval(m["comparator"])(found.group(1)):  # trusted task data (one released use)
            return False, f"cell ({m['row']}, {m['col']}) = {found.group(1)!r} fails {m['comparator']}"
    return True, ""


def _same_sheets(result: Path, expected: Path) -> Verdict:
    got, want = openpyxl.load_workbook(result).active, openpyxl.load_workbook(expected).active
    for first, second in ((got, want), (want, got)):
        for row in first.iter_rows():
            for cell in row:
                a, b = cell.value, second.cell(row=cell.row, column=cell.column).value
                if a != b:
                    return False, f"cell ({cell.row}, {cell.column}): {a!r} != {b!r}"
    return True, ""


def evaluate_exact_match(ctx: Context, args: dict[str, Any]) -> Verdict:
    result, expected = ctx.path(args["result_file"]), ctx.path(args["expected_file"])
    if not result.exists():
        return False, f"missing file {args['result_file']}"
    doc_type = args["doc_type"]
    if doc_type == "xlsx":
        return _same_sheets(result, expected)
    if doc_type in ("txt", "ics"):
        same = result.read_text() == expected.read_text()
    elif doc_type == "doc":
        same = _word(ctx, result) == _word(ctx, expected)
    elif doc_type == "pdf":
        if not ctx.fixed("pdf-exact-match-text"):
            return False, "released evaluator compares PyPDF2 page lists, never equal"
        same = " ".join(readers.pdf_text(result).split()) == " ".join(readers.pdf_text(expected).split())
    else:
        raise ValueError(f"unsupported doc_type {doc_type!r}")
    return (True, "") if same else (False, "contents differ")


def evaluate_diff_contain_text(ctx: Context, args: dict[str, Any]) -> Verdict:
    before, after = ctx.path(args["input_file"]), ctx.path(args["output_file"])
    if args["doc_type"] == "xlsx":
        old, new = readers.excel_render(before), readers.excel_render(after)
    elif args["doc_type"] == "doc":
        old, new = _word(ctx, before), _word(ctx, after)
        if not isinstance(old, str):
            raise TypeError("released evaluator cannot diff python-docx paragraph lists")
    else:
        raise ValueError(f"unsupported doc_type {args['doc_type']!r}")
    if old == new:
        return False, "file unchanged"
    diff = "\n".join(difflib.unified_diff(old.split("\n"), new.split("\n"), n=0))
    missing = [k for k in args["keywords"] if k not in diff]
    return (False, f"not in the diff: {missing}") if missing else (True, "")


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt


def evaluate_calendar_no_overlap(ctx: Context, args: dict[str, Any]) -> Verdict:
    cal = Calendar.from_ical((ctx.testbed / "calendar" / f"{args['username']}.ics").read_bytes())
    events = sorted(cal.walk("VEVENT"), key=lambda e: _utc(e.decoded("dtstart")))
    for a, b in zip(events, events[1:], strict=False):
        if _utc(a.decoded("dtend")) > _utc(b.decoded("dtstart")):
            return False, f"events {a.get('summary')!r} and {b.get('summary')!r} overlap"
    return True, ""


CHECKS: dict[str, Callable[[Context, dict[str, Any]], Verdict]] = {
    f.__name__: f for f in (evaluate_contain, evaluate_not_contain, evaluate_file_exist, evaluate_file_not_exist,
                            evaluate_excel_cell_value, evaluate_excel_cell_comparator, evaluate_exact_match,
                            evaluate_diff_contain_text, evaluate_calendar_no_overlap)
}


def effective_checks(sub: Subtask, errata: Errata) -> list[tuple[Check, str | None]]:
    """The subtask's checks under ``errata``, each with the name of the fix applied to it."""
    checks: list[tuple[Check, str | None]] = [(c, None) for c in sub.evaluation]
    if errata == "original":
        return checks
    key = f"{sub.folder}/{sub.index}"
    for fix in load_errata().evaluator:
        if fix.name == "file-outside-args" and key in fix.subtasks:
            checks = [(Check(function=c.function, args={"file": c.file, **c.args}), fix.name)
                      if c.file and "file" not in c.args else (c, n) for c, n in checks]
    for fix in load_errata().checks:
        if fix.subtask == key:
            checks[fix.check] = (fix.corrected, fix.name) if fix.corrected else (checks[fix.check][0], "drop")
    return [(c, n) for c, n in checks if n != "drop"]


def run_check(ctx: Context, check: Check) -> Verdict:
    fn = CHECKS.get(check.function)
    if fn is None:
        return False, f"unknown check function {check.function!r}"
    try:
        return fn(ctx, check.args)
    except Exception as e:  # the released driver counts any exception as a failed check
        return False, f"error: {type(e).__name__}: {e}"


def evaluate(sub: Subtask, testbed: str | Path, errata: Errata = "corrected",
             data_dir: Path = DATA_DIR) -> Report:
    """Grade the testbed of one attempt at ``sub``; every check is run and reported."""
    ctx = Context(testbed=Path(testbed), task_dir=Path(data_dir) / sub.folder, errata=errata)
    results = []
    for i, (check, fix) in enumerate(effective_checks(sub, errata)):
        ok, why = run_check(ctx, check)
        results.append(CheckResult(index=i, function=check.function, passed=ok, reason=why, fix=fix))
    return Report(task_id=sub.id, errata=errata, passed=all(r.passed for r in results), checks=results)


def unsolvable_under_original(data_dir: Path = DATA_DIR) -> list[str]:
    """Subtask ids that a faithful solution cannot pass under ``original`` (per the errata file)."""
    errata = load_errata()
    blocked = {s for f in errata.evaluator if f.blocks_original for s in f.subtasks}
    blocked |= {f.subtask for f in errata.checks if f.blocks_original}
    return [s.id for s in load_subtasks(data_dir) if f"{s.folder}/{s.index}" in blocked]
