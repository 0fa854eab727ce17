"""Append-only JSONL storage that survives crashes, and atomic file writes.

* Each record is written as one line with a single ``write`` under an exclusive ``flock`` and then
  flushed and fsynced, so concurrent writers never interleave and a finished record is on disk.
* A process killed mid-write can leave a torn last line (no newline). Reading ignores it with a
  warning and the next writer cuts it off before appending, so it never glues onto a new record.
* A corrupt line elsewhere is reported by file and line number, and skipped (or raised with
  ``strict=True``); it never silently disappears.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from core.errors import DataError

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


def write_atomic(path: str | Path, text: str | bytes) -> None:
    """Replace ``path`` with ``text`` so that readers see the old or the new file, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode() if isinstance(text, str) else text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cut_torn_tail(f: Any) -> None:
    """Truncate an unterminated last line (a write killed half-way) from an open r+b file."""
    f.seek(0, os.SEEK_END)
    size = f.tell()
    if size == 0:
        return
    f.seek(size - 1)
    if f.read(1) == b"\n":
        return
    pos = size
    while pos > 0:
        step = min(65536, pos)
        f.seek(pos - step)
        chunk = f.read(step)
        nl = chunk.rfind(b"\n")
        if nl >= 0:
            f.truncate(pos - step + nl + 1)
            return
        pos -= step
    f.truncate(0)


class JsonlStore(Generic[M]):
    """A JSONL file of pydantic records with append, iteration and resume by key."""

    def __init__(self, path: str | Path, model: type[M], key: str = "key") -> None:
        self.path = Path(path)
        self.model = model
        self.key = key

    def append(self, record: M) -> None:
        line = (record.model_dump_json() + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "ab+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                _cut_torn_tail(f)
                f.seek(0, os.SEEK_END)
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def __iter__(self) -> Iterator[M]:
        return self.read()

    def read(self, strict: bool = False) -> Iterator[M]:
        """Yield the valid records; report bad lines by file and line number."""
        if not self.path.exists():
            return
        with open(self.path, "rb") as f:
            lines = f.read().split(b"\n")
        torn = lines.pop()  # text after the last newline: empty, or a torn write
        for lineno, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                yield self.model.model_validate_json(raw)
            except (ValidationError, ValueError) as e:
                err = DataError(f"corrupt record: {_first_line(e)}", path=str(self.path), line=lineno)
                if strict:
                    raise err from None
                log.warning("%s (skipped)", err)
        if torn.strip():
            log.warning("%s:%d: unterminated last line (interrupted write), ignored",
                        self.path, len(lines) + 1)

    def keys(self) -> set[str]:
        return {str(getattr(r, self.key)) for r in self.read()}

    def latest_by_key(self) -> dict[str, M]:
        """The last record written for each key."""
        return {str(getattr(r, self.key)): r for r in self.read()}


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, object)`` for a JSONL file (gzipped if its name ends in ``.gz``); raise
    :class:`DataError` on a bad line."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"invalid JSON: {e.msg}", path=str(path), line=lineno) from None
            if not isinstance(obj, dict):
                raise DataError("expected a JSON object", path=str(path), line=lineno)
            yield lineno, obj


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return " ".join(text[:3]) if text else type(e).__name__
