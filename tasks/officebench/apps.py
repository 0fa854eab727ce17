"""Which apps (and so which tools) a subtask involves.

The reference implementation read this from a file that is not public; here it is inferred from
the task's input files, its checks and its wording. PDF/OCR-only sets also get the Word tools,
as in the reference implementation.
"""

from __future__ import annotations

import re
from pathlib import Path

from tasks.officebench.subtasks import DATA_DIR, Subtask
from tasks.officebench.tools import APPS

BY_EXTENSION = {".docx": "word", ".doc": "word", ".xlsx": "excel", ".pdf": "pdf", ".jpg": "ocr", ".jpeg": "ocr",
                ".png": "ocr", ".ics": "calendar", ".eml": "email"}
BY_DOC_TYPE = {"docx": "word", "doc": "word", "xlsx": "excel", "pdf": "pdf", "ics": "calendar", "email": "email"}
BY_WORD = {
    "word": r"\bword\b|docx|\bdoc\b", "excel": r"excel|xlsx|spreadsheet", "pdf": r"pdf",
    "ocr": r"\bimage|scan|\bocr\b|jpg|png|picture|photo|card", "calendar": r"calendar|\.ics|event|schedule",
    "email": r"e-?mail|\.eml|inbox",
}


def apps_of(sub: Subtask, data_dir: Path = DATA_DIR) -> list[str]:
    """The apps of ``sub`` in the canonical order of :data:`APPS`."""
    found: set[str] = set()
    testbed = Path(data_dir) / sub.folder / "testbed"
    for path in testbed.rglob("*"):
        found.add(BY_EXTENSION.get(path.suffix.lower(), ""))
    for check in sub.evaluation:
        found.add(BY_DOC_TYPE.get(check.args.get("doc_type", ""), ""))
        for key in ("file", "result_file", "output_file"):
            found.add(BY_EXTENSION.get(Path(str(check.args.get(key, ""))).suffix.lower(), ""))
        if check.function == "evaluate_calendar_no_overlap":
            found.add("calendar")
    text = sub.task.lower()
    found |= {app for app, pattern in BY_WORD.items() if re.search(pattern, text)}
    found.discard("")
    if found and found <= {"pdf", "ocr"}:
        found.add("word")
    return [app for app in APPS if app in found]


def tools_of(apps: list[str]) -> tuple[str, ...]:
    return tuple(name for app in apps for name in APPS[app])
