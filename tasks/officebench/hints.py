"""OfficeBench hints as data (``hints.yaml``): task-specific and combined hint sets."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from core.errors import DataError
from core.messages import HintSection, HintSet
from tasks.officebench.tools import APPS

HINTS_FILE = Path(__file__).parent / "hints.yaml"


class AppSection(BaseModel):
    name: str
    text: str
    apps: list[str]


@lru_cache(maxsize=2)
def load_sections(path: Path = HINTS_FILE) -> tuple[AppSection, ...]:
    try:
        raw = yaml.safe_load(Path(path).read_text())["sections"]
        sections = tuple(AppSection.model_validate(s) for s in raw)
    except (OSError, KeyError, TypeError, ValidationError) as e:
        raise DataError(f"invalid hints file: {e}", path=str(path)) from None
    for s in sections:
        unknown = set(s.apps) - set(APPS)
        if unknown:
            raise DataError(f"section {s.name!r} names unknown apps {sorted(unknown)}", path=str(path), field="apps")
    return sections


def task_hints(apps: list[str], path: Path = HINTS_FILE) -> HintSet:
    """The sections for a subtask involving ``apps`` (general sections included)."""
    chosen = [s for s in load_sections(path) if not s.apps or set(s.apps) & set(apps)]
    return HintSet(name=f"officebench/{'+'.join(apps)}", sections=[HintSection(name=s.name, text=s.text) for s in chosen])


def combined_hints(path: Path = HINTS_FILE) -> HintSet:
    """Every section in one set (the prompting baseline)."""
    return HintSet(name="officebench/combined",
                   sections=[HintSection(name=s.name, text=s.text) for s in load_sections(path)])
