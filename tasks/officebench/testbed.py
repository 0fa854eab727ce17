"""Per-episode testbeds: a fresh private copy of a task's initial files for every attempt."""

from __future__ import annotations

import shutil
from pathlib import Path

from tasks.officebench.subtasks import DATA_DIR

TESTBED_DIRS = ("data", "emails", "calendar")


def pristine_testbed(folder: str, data_dir: Path = DATA_DIR) -> Path:
    """The vendored initial testbed of a task folder (may not exist: 1-1 has none)."""
    return Path(data_dir) / folder / "testbed"


def fresh_testbed(folder: str, dest: Path, data_dir: Path = DATA_DIR) -> Path:
    """Replace ``dest`` by a copy of the task's testbed with ``data/ emails/ calendar/`` present,
    as the original environment prepares it. Returns ``dest``."""
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    source = pristine_testbed(folder, data_dir)
    if source.is_dir():
        shutil.copytree(source, dest)
    for name in TESTBED_DIRS:
        (dest / name).mkdir(parents=True, exist_ok=True)
    return dest
