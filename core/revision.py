"""What code made an artefact: the checkout's git revision and installed package versions.

Both answer ``"unknown"`` instead of raising, so recording provenance never fails a run (a
checkout on ``PYTHONPATH`` has no installed ``mnm`` distribution; a copied tree has no git).
"""

from __future__ import annotations

import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

UNKNOWN = "unknown"


def git_revision() -> str:
    """``HEAD`` of the checkout this code runs from (``+dirty`` with uncommitted changes), or ``unknown``."""
    here = Path(__file__).parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, cwd=here)
        if head.returncode != 0 or not head.stdout.strip():
            return UNKNOWN
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                                text=True, timeout=30, cwd=here)
    except (OSError, subprocess.TimeoutExpired):
        return UNKNOWN
    return head.stdout.strip() + ("+dirty" if status.stdout.strip() else "")


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return UNKNOWN
