"""Provenance: what code made an artefact, and what a trained adapter or merged checkpoint was made from.

:func:`git_revision` and :func:`package_version` answer ``"unknown"`` instead of raising, so recording
provenance never fails a run (a checkout on ``PYTHONPATH`` has no installed ``mnm`` distribution; a
copied tree has no git).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from core.store import file_sha256

FILE = "provenance.json"
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


def describe_model(path: str | Path, digests: bool = True) -> dict[str, Any]:
    """A model or adapter directory: its path, weight digests (adapters: small) and its provenance."""
    path = Path(path)
    record: dict[str, Any] = {"path": str(path.resolve())}
    if digests:
        record["sha256"] = {w.name: file_sha256(w) for w in sorted(path.glob("*.safetensors"))}
    if (path / FILE).exists():
        record["provenance"] = json.loads((path / FILE).read_text())
    return record


def describe_datasets(paths: Sequence[str | Path]) -> list[dict[str, str]]:
    """Each dataset file, or each file of a dataset directory (what ``mnm dataset`` writes), with its digest."""
    records = []
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(f"dataset {path} does not exist")
        files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
        records += [{"path": str(f.resolve()), "sha256": file_sha256(f)} for f in files]
    return records


def stamp() -> dict[str, Any]:
    """When and by which code; a version that cannot be found is recorded as ``unknown``, never raised."""
    return {"created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "git_revision": git_revision(),
            "versions": {pkg: package_version(pkg) for pkg in ("mnm", "torch", "transformers", "peft")}}
